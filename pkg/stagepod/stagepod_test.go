package stagepod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

func TestName(t *testing.T) {
	cases := []struct {
		name, uid, ns, claim string
		prefix               string
	}{
		{"short claim", "uid-1", "app", "data", "stage-data-"},
		{"long claim is truncated", "uid-1", "app", strings.Repeat("c", 80), "stage-" + strings.Repeat("c", 46)},
		{"dots and trailing dashes trimmed", "uid-1", "app", strings.Repeat("a", 45) + "-.b", "stage-" + strings.Repeat("a", 45)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Name(c.uid, c.ns, c.claim)
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("%q is not a DNS-1123 label: %v", got, errs)
			}
			if !strings.HasPrefix(got, c.prefix) {
				t.Errorf("%q does not start with %q", got, c.prefix)
			}
			if again := Name(c.uid, c.ns, c.claim); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}
	if Name("uid-1", "app", "data") == Name("uid-2", "app", "data") || Name("uid-1", "a", "data") == Name("uid-1", "b", "data") {
		t.Error("stage pods of other migrations or namespaces share a name")
	}
}

func TestNew(t *testing.T) {
	app := &corev1.Pod{Spec: corev1.PodSpec{NodeName: "node-7", ServiceAccountName: "db",
		SecurityContext: &corev1.PodSecurityContext{FSGroup: ptr.To[int64](2000)}}}
	pod := New(Spec{MigrationUID: "m-1", Namespace: "app", Claim: "data", Image: "transfer:1", Source: FromPod(app)})
	if pod.Labels[StagePodLabel] != "true" || pod.Labels[IncludedInStageBackupLabel] != "m-1" || pod.Labels[MigrationLabel] != "m-1" {
		t.Errorf("labels %v", pod.Labels)
	}
	if pod.Annotations[BackupVolumesAnnotation] != VolumeName || pod.Annotations[ClaimAnnotation] != "data" {
		t.Errorf("annotations %v", pod.Annotations)
	}
	if pod.Spec.NodeName != "node-7" || pod.Spec.ServiceAccountName != "db" || *pod.Spec.SecurityContext.FSGroup != 2000 {
		t.Errorf("did not follow the application pod: node %q, SA %q, security context %+v", pod.Spec.NodeName, pod.Spec.ServiceAccountName, pod.Spec.SecurityContext)
	}
	if pod.Spec.SecurityContext == app.Spec.SecurityContext {
		t.Error("shares the application pod's security context instead of copying it")
	}
	if got := Claims(&pod.Spec); len(got) != 1 || got[0] != "data" {
		t.Errorf("claims %v", got)
	}
	c := pod.Spec.Containers[0]
	if c.Image != "transfer:1" || strings.Join(c.Command, " ") != "sleep infinity" || c.VolumeMounts[0].MountPath != MountPath {
		t.Errorf("container %+v", c)
	}
	if tmpl := New(Spec{MigrationUID: "m-1", Namespace: "app", Claim: "logs", Source: FromTemplate(&app.Spec)}); tmpl.Spec.NodeName != "" {
		t.Errorf("a template's stage pod is pinned to %q; the scheduler should place it", tmpl.Spec.NodeName)
	}
}
