package migration_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// copyVolume stages then cuts over an app whose pod writes to a PVC: the PVC is copied with
// rsync (a DirectVolumeMigration) while the app runs, then again after it is quiesced, and
// the destination app mounts the copy.
func copyVolume() {
	const name = "copied"
	dir := GinkgoT().TempDir()
	for i := range 20 {
		Expect(os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d", i)), []byte(fmt.Sprintf("content %d\n", i)), 0o644)).To(Succeed())
	}
	Expect(os.WriteFile(filepath.Join(dir, "large"), make([]byte, 16<<20), 0o600)).To(Succeed())

	app(name, 1)
	src := env.Source.Client
	// The volume holds root's private files (the directory is 0700, "large" 0600): only root
	// transfer pods can read them, which a privileged namespace and runAsRoot allow.
	ns := &corev1.Namespace{}
	Expect(src.Get(ctx, client.ObjectKey{Name: name}, ns)).To(Succeed())
	ns.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	Expect(src.Update(ctx, ns)).To(Succeed())
	pv, pvc := fixtures.BoundVolume(name, "data", "pv-"+name, "1Gi")
	pv.Spec.Local.Path = dir
	Expect(src.Create(ctx, pv)).To(Succeed())
	Expect(src.Create(ctx, pvc)).To(Succeed())
	Expect(fixtures.WaitBound(ctx, src, 1, time.Minute)).To(Succeed())
	mountVolume(src, name, "echo \"$(hostname) was here\" >> /data/visits")

	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
	Expect(plan.Spec.PersistentVolumes[0].Selection.Action).To(Equal(migv1.PvCopyAction))

	stage := completed(migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true, RunAsRoot: ptr.To(true)}), 4*time.Minute)
	Expect(stage.Status.Errors).To(BeEmpty())
	Expect(hasCondition(stage, migv1.Succeeded)).To(BeTrue(), "conditions: %v", stage.Status.Conditions)
	Expect(stepOf(stage, "DirectVolume").Progress).To(ContainElement(ContainSubstring("1 total volumes; 1 successful")))
	Expect(checksums(destinationDataDir(name+"-new"))).To(Equal(checksums(dir)), "the stage copied the volume")

	By("changing the data while the app runs, then cutting over")
	Expect(os.WriteFile(filepath.Join(dir, "file-03"), []byte("changed after the stage\n"), 0o644)).To(Succeed())
	final := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true)}), 4*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions: %v", final.Status.Conditions)
	withoutVisits := func(m map[string]string) map[string]string { delete(m, "visits"); return m }
	Expect(withoutVisits(checksums(destinationDataDir(name+"-new")))).To(Equal(withoutVisits(checksums(dir))), "the cutover copied what changed")
	Expect(replicasOf(src, name)()).To(Equal(int32(0)))

	By("the destination app runs on the copy")
	Eventually(func() (string, error) {
		data, err := os.ReadFile(filepath.Join(destinationDataDir(name+"-new"), "visits"))
		return string(data), err
	}).Should(MatchRegexp(`(?s)was here.*was here`), "the destination pod appended to the copied file")
}

// appWithRootVolume creates app name on the source with a bound PVC "data" whose volume is
// dir, in a privileged namespace: dir holds root's files, which only root transfer pods (a
// migration's runAsRoot) can read.
func appWithRootVolume(name, dir string) {
	GinkgoHelper()
	app(name, 1)
	src := env.Source.Client
	ns := &corev1.Namespace{}
	Expect(src.Get(ctx, client.ObjectKey{Name: name}, ns)).To(Succeed())
	ns.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	Expect(src.Update(ctx, ns)).To(Succeed())
	pv, pvc := fixtures.BoundVolume(name, "data", "pv-"+name, "1Gi")
	pv.Spec.Local.Path = dir
	Expect(src.Create(ctx, pv)).To(Succeed())
	Expect(src.Create(ctx, pvc)).To(Succeed())
	Expect(fixtures.WaitBound(ctx, src, 1, time.Minute)).To(Succeed())
}

// mountVolume makes Deployment web of namespace mount PVC data at /data and run script at
// start, then waits until it has rolled out.
func mountVolume(c client.Client, namespace, script string) {
	GinkgoHelper()
	d := &appsv1.Deployment{}
	Expect(c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "web"}, d)).To(Succeed())
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	ctr := &d.Spec.Template.Spec.Containers[0]
	ctr.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	ctr.Command = []string{"sh", "-c", script + "; trap 'exit 0' TERM; while :; do sleep 1; done"}
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](5)
	Expect(c.Patch(ctx, d, patch)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
		g.Expect(d.Status.UpdatedReplicas).To(Equal(ptr.Deref(d.Spec.Replicas, 1)))
		g.Expect(d.Status.ReadyReplicas).To(Equal(ptr.Deref(d.Spec.Replicas, 1)))
		g.Expect(d.Status.Replicas).To(Equal(ptr.Deref(d.Spec.Replicas, 1)))
	}).Should(Succeed())
}

// destinationDataDir is the host directory of the PV bound to claim "data" (the test apps'
// volume) on the destination.
func destinationDataDir(namespace string) string {
	GinkgoHelper()
	dir, err := fixtures.VolumeDir(ctx, env.Destination.Client, namespace, "data")
	Expect(err).NotTo(HaveOccurred())
	return dir
}

// checksums maps each regular file under dir to its SHA-256.
func checksums(dir string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
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
