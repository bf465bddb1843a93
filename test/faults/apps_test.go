package faults_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// visits is the file the apps' pods append a line to when they start: the only file of a
// volume that changes after the app's data was written, and only by the app.
const visits = "visits"

// app is a test application on the source: a Deployment web whose pods mount PVC data (a
// local volume in a directory of this machine holding a few files) and append to its visits
// file when they start.
type app struct {
	name, dest string
	replicas   int32
	// dir is the source volume's directory.
	dir string
	// data are the volume's checksums once the app runs, before any migration, and visits
	// the content of its visits file then.
	data   map[string]string
	visits string
}

// newApp creates namespace name on the source with the app, waits until it runs, and records
// its data. dest is the destination namespace its plans map it to.
func newApp(g Gomega, name, dest string, replicas int32) *app {
	a := &app{name: name, dest: dest, replicas: replicas}
	a.dir = tempDir(g, name)
	rnd := rand.New(rand.NewPCG(uint64(len(name)), 19)) //nolint:gosec // test data, not secrets.
	for i := range 8 {
		g.Expect(os.WriteFile(filepath.Join(a.dir, fmt.Sprintf("file-%02d", i)), []byte(fmt.Sprintf("%s content %d\n", name, i)), 0o644)).To(Succeed())
	}
	g.Expect(os.MkdirAll(filepath.Join(a.dir, "nested", "deeper"), 0o755)).To(Succeed())
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(rnd.UintN(256))
	}
	g.Expect(os.WriteFile(filepath.Join(a.dir, "nested", "deeper", "blob"), big, 0o644)).To(Succeed())

	c := env.Source.Client
	labels := map[string]string{"app": "web"}
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	pv, pvc := fixtures.BoundVolume(name, "data", "pv-"+name, "1Gi")
	pv.Spec.Local.Path = a.dir
	g.Expect(c.Create(ctx, pv)).To(Succeed())
	g.Expect(c.Create(ctx, pvc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &corev1.PersistentVolumeClaim{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pvc), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal(corev1.ClaimBound))
	}).WithTimeout(time.Minute).Should(Succeed())
	script := "echo \"$(hostname) was here\" >> /data/" + visits + "; trap 'exit 0' TERM; while :; do sleep 1; done"
	g.Expect(c.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "web", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](5),
				Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
				Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1", Command: []string{"sh", "-c", script},
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			}},
		}})).To(Succeed())
	a.runsOn(g, c, name)
	g.Eventually(func() string { return readFile(filepath.Join(a.dir, visits)) }).WithTimeout(time.Minute).
		Should(ContainSubstring("was here"), "the app wrote to its volume")
	a.data, a.visits = checksums(g, a.dir), readFile(filepath.Join(a.dir, visits))
	return a
}

// tempDir is a directory for a volume that non-root transfer pods can read, removed after the
// suite.
func tempDir(g Gomega, name string) string {
	dir, err := os.MkdirTemp("", "ferry-faults-"+name+"-")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.Chmod(dir, 0o755)).To(Succeed())
	volumeDirs.Lock()
	defer volumeDirs.Unlock()
	volumeDirs.list = append(volumeDirs.list, dir)
	return dir
}

// volumeDirs are the directories of the source volumes, removed after the suite.
var volumeDirs struct {
	sync.Mutex
	list []string
}

// plan creates a plan of the app from the source to the host and waits until it is Ready.
func (a *app) plan(g Gomega, name string) *migv1.MigPlan {
	plan := a.newPlan(g, name)
	g.Expect(fixtures.WaitReady(ctx, env.Destination.Client, 2*time.Minute, plan)).To(Succeed())
	g.Expect(plan.Spec.PersistentVolumes).To(HaveLen(1), "the plan copies the app's volume")
	return plan
}

// newPlan creates a plan of the app from the source to the host.
func (a *app) newPlan(g Gomega, name string) *migv1.MigPlan {
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: migv1.MigPlanSpec{
		Namespaces:        []string{a.name + ":" + a.dest},
		SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
		MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
	}}
	g.Expect(env.Destination.Client.Create(ctx, plan)).To(Succeed())
	return plan
}

// cutover creates a cutover migration (quiesced pods) of plan.
func cutover(g Gomega, name string, plan *migv1.MigPlan) *migv1.MigMigration {
	return migrate(g, name, plan, migv1.MigMigrationSpec{QuiescePods: true})
}

// migrate creates a migration of plan with spec.
func migrate(g Gomega, name string, plan *migv1.MigPlan, spec migv1.MigMigrationSpec) *migv1.MigMigration {
	spec.MigPlanRef = &corev1.ObjectReference{Namespace: plan.Namespace, Name: plan.Name}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	g.Expect(env.Destination.Client.Create(ctx, m)).To(Succeed())
	return m
}

// ended waits until the migration's phase is Completed and returns it.
func ended(g Gomega, m *migv1.MigMigration, timeout time.Duration) *migv1.MigMigration {
	got := &migv1.MigMigration{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal("Completed"), "%s: itinerary %s, conditions %v, errors %v", m.Name,
			got.Status.Itinerary, got.Status.Conditions, got.Status.Errors)
	}).WithTimeout(timeout).WithPolling(500 * time.Millisecond).Should(Succeed())
	return got
}

// waitFor polls the migration until ok says yes (3 minutes at most), and returns it.
func waitFor(g Gomega, m *migv1.MigMigration, what string, ok func(*migv1.MigMigration) bool) *migv1.MigMigration {
	got := &migv1.MigMigration{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		g.Expect(ok(got)).To(BeTrue(), "%s: waiting for %s at %s/%s, errors %v", m.Name, what, got.Status.Itinerary, got.Status.Phase, got.Status.Errors)
	}).WithTimeout(3 * time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
	return got
}

// succeeded checks a migration that ended well.
func succeeded(g Gomega, m *migv1.MigMigration) {
	g.Expect(m.Status.Errors).To(BeEmpty(), "%s failed", m.Name)
	g.Expect(isSucceeded(m)).To(BeTrue(), "%s: conditions %v", m.Name, m.Status.Conditions)
}

// isSucceeded: the migration ended Succeeded, or SucceededWithWarnings whose only warning is the
// one every transfer without runAsRoot carries (what a non-root copy does not keep).
func isSucceeded(m *migv1.MigMigration) bool {
	if conditions.Find(m.Status.Conditions, migv1.Succeeded) != nil {
		return true
	}
	if conditions.Find(m.Status.Conditions, migv1.SucceededWithWarnings) == nil {
		return false
	}
	for _, c := range m.Status.Conditions {
		if c.Category == migv1.CategoryWarn && c.Type != migv1.RsyncServerPodsRunningAsNonRoot {
			return false
		}
	}
	return true
}

// runsOn waits until Deployment web of namespace on c runs a.replicas ready pods.
func (a *app) runsOn(g Gomega, c client.Client, namespace string) {
	g.Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "web"}, d)).To(Succeed())
		g.Expect(ptr.Deref(d.Spec.Replicas, 1)).To(Equal(a.replicas), "replicas of %s/web", namespace)
		g.Expect(d.Status.ReadyReplicas).To(Equal(a.replicas), "ready replicas of %s/web", namespace)
	}).WithTimeout(2 * time.Minute).Should(Succeed())
}

// runsOnSource waits until the app runs on the source with its replicas.
func (a *app) runsOnSource(g Gomega) { a.runsOn(g, env.Source.Client, a.name) }

// runsOnDestination waits until the migrated app runs on the destination and has written to
// its copy of the volume.
func (a *app) runsOnDestination(g Gomega) {
	a.runsOn(g, env.Destination.Client, a.dest)
	dir := a.destinationDir(g)
	g.Eventually(func() string { return readFile(filepath.Join(dir, visits)) }).WithTimeout(time.Minute).
		Should(MatchRegexp(`(?s)was here.*was here`), "the destination pods appended to the copied visits")
}

// quiescedOnSource checks that the app is scaled down on the source.
func (a *app) quiescedOnSource(g Gomega) {
	d := &appsv1.Deployment{}
	g.Expect(env.Source.Client.Get(ctx, client.ObjectKey{Namespace: a.name, Name: "web"}, d)).To(Succeed())
	g.Expect(ptr.Deref(d.Spec.Replicas, 1)).To(BeZero(), "the source app of %s is quiesced", a.name)
}

// sourceUnchanged checks that no byte of the source volume changed, but the lines the app's
// own pods appended to visits when they started again.
func (a *app) sourceUnchanged(g Gomega) {
	sameData(g, a.data, checksums(g, a.dir), "the source volume of "+a.name)
	g.Expect(readFile(filepath.Join(a.dir, visits))).To(HavePrefix(a.visits), "the source visits of %s lost lines", a.name)
}

// copied checks that the destination volume holds the source volume as it was when the app
// was quiesced: every file identical, visits with the destination pods' lines added.
func (a *app) copied(g Gomega) {
	dir := a.destinationDir(g)
	sameData(g, checksums(g, a.dir), checksums(g, dir), "the destination volume of "+a.name)
	g.Expect(readFile(filepath.Join(dir, visits))).To(HavePrefix(readFile(filepath.Join(a.dir, visits))),
		"the destination visits of %s start with the source's", a.name)
}

// destinationDir is the host directory of the destination PVC data.
func (a *app) destinationDir(g Gomega) string {
	dir, err := fixtures.VolumeDir(ctx, env.Destination.Client, a.dest, "data")
	g.Expect(err).NotTo(HaveOccurred())
	return dir
}

// sameData compares two sets of checksums, visits excepted (only the apps write it).
func sameData(g Gomega, want, got map[string]string, what string) {
	w, o := map[string]string{}, map[string]string{}
	for k, v := range want {
		if k != visits {
			w[k] = v
		}
	}
	for k, v := range got {
		if k != visits {
			o[k] = v
		}
	}
	g.Expect(o).To(Equal(w), "%s changed", what)
}

// checksums maps each regular file under dir to its SHA-256.
func checksums(g Gomega, dir string) map[string]string {
	out := map[string]string{}
	g.Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})).To(Succeed())
	return out
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// transferPods lists the transfer pods left in namespace on c.
func transferPods(g Gomega, c client.Client, namespace string) []string {
	pods := &corev1.PodList{}
	g.Expect(c.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{transfer.LabelApp: transfer.AppTransfer})).To(Succeed())
	var out []string
	for _, p := range pods.Items {
		out = append(out, p.Name)
	}
	return out
}

// dvmsOf lists the DVMs of a migration.
func dvmsOf(g Gomega, m *migv1.MigMigration) []migv1.DirectVolumeMigration {
	list := &migv1.DirectVolumeMigrationList{}
	g.Expect(env.Destination.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"migration-direct-volume": string(m.UID)})).To(Succeed())
	return list.Items
}
