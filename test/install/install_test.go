package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
	"github.com/ferrymtc/ferry/test/registry"
)

// TestBuildWithImage checks that the deployed objects are config/default's with the
// operator's image, and nothing else, changed.
func TestBuildWithImage(t *testing.T) {
	const image = registry.InternalHost + "/" + OperatorRepository + "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	shipped, err := Build("config/default")
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := BuildWithImage(image)
	if err != nil {
		t.Fatal(err)
	}
	if len(deployed) != len(shipped) {
		t.Fatalf("%d objects, config/default has %d", len(deployed), len(shipped))
	}
	d, err := operatorDeployment(deployed)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := containerImage(d, managerContainer); got != image {
		t.Errorf("the manager's image is %q, want %q", got, image)
	}
	for i := range shipped {
		want := shipped[i].DeepCopy()
		if want.GetKind() == "Deployment" && want.GetName() == DeploymentName {
			continue
		}
		if !reflect.DeepEqual(want.Object, deployed[i].Object) {
			t.Errorf("%s %s differs from config/default's", want.GetKind(), want.GetName())
		}
	}
}

// TestDeploy installs the operator as the suites do: the image built from the tree, pushed
// to the cluster's registry, config/default applied with it. The process node runs the
// image's own /manager from the image's root file system, as the image's nonroot user, and
// the pod reports the pushed digest.
func TestDeploy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	img, err := OperatorImage(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	cp := controlplane.StartForTest(t, "install", controlplane.WithControllerManager(), controlplane.WithScheduler())
	reg := registry.StartForTest(ctx, t, cp, registry.Options{})
	n, err := node.Start(ctx, cp.Config, node.Options{Logf: t.Logf, Images: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	if err := cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operator.DefaultNamespace}}); err != nil {
		t.Fatal(err)
	}
	ref, err := PushOperatorImage(ctx, img, reg)
	if err != nil {
		t.Fatal(err)
	}
	op, err := Deploy(ctx, cp, n, ref)
	if err != nil {
		t.Fatal(err)
	}
	pod, err := op.Pod(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == managerContainer && s.ImageID != ref {
			t.Errorf("imageID %q, want the pushed %q", s.ImageID, ref)
		}
	}
	pid, ok := op.PID(ctx)
	if !ok {
		t.Fatal("the operator does not run")
	}
	proc := fmt.Sprintf("/proc/%d", pid)
	if exe, err := os.Readlink(proc + "/exe"); err != nil || exe != "/manager" {
		t.Errorf("the operator runs %q (%v), want the image's /manager", exe, err)
	}
	// The container's root is the image's: its files, not the host's.
	if _, err := os.Stat(filepath.Join(proc, "root", "manager")); err != nil {
		t.Errorf("the container's root has no /manager: %v", err)
	}
	if _, err := os.Stat(filepath.Join(proc, "root", "usr")); err == nil {
		t.Error("the container's root has the host's /usr; want the image's root, which has none")
	}
	status, err := os.ReadFile(proc + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Uid:" && fields[1] != "65532" {
			t.Errorf("the operator runs as %s, want the image's user 65532", line)
		}
	}
	if t.Failed() {
		t.Logf("operator log:\n%s", op.LogTail(ctx, 4000))
	}
}

// TestRemoteOverlays checks that each remote overlay binds the migration-controller
// ServiceAccount to its side's role.
func TestRemoteOverlays(t *testing.T) {
	for side, roles := range map[Side][]string{Source: {"ferry-remote-source"}, Destination: {"ferry-remote-destination", "ferry-rollback"}} {
		objs, err := Build("config/rbac/remote/" + string(side))
		if err != nil {
			t.Fatal(err)
		}
		bound := map[string]bool{}
		for _, u := range objs {
			if u.GetKind() == "ClusterRoleBinding" {
				ref, _, _ := unstructuredString(u.Object, "roleRef", "name")
				bound[ref] = true
			}
		}
		for _, r := range roles {
			if !bound[r] {
				t.Errorf("%s: no binding to %s (bound: %v)", side, r, bound)
			}
		}
		if len(bound) != len(roles) {
			t.Errorf("%s binds %v, want exactly %v", side, bound, roles)
		}
	}
}
