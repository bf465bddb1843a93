package migration_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// volumeApp creates the test app in namespace name of cluster c with a volume: claim "data"
// bound to a local PV over a fresh directory holding a few files, mounted by the app, in a
// namespace that admits root transfer pods. It returns the directory.
func volumeApp(c client.Client, name string) string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	for i := range 10 {
		Expect(os.WriteFile(filepath.Join(dir, fmt.Sprintf("row-%02d", i)), []byte(fmt.Sprintf("row %d\n", i)), 0o644)).To(Succeed())
	}
	Expect(os.WriteFile(filepath.Join(dir, "ledger"), []byte("balance: 100\n"), 0o600)).To(Succeed())
	appOn(c, name, 1)
	ns := &corev1.Namespace{}
	Expect(c.Get(ctx, client.ObjectKey{Name: name}, ns)).To(Succeed())
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	Expect(c.Update(ctx, ns)).To(Succeed())
	pv, pvc := fixtures.BoundVolume(name, "data", "pv-"+name, "1Gi")
	pv.Spec.Local.Path = dir
	Expect(c.Create(ctx, pv)).To(Succeed())
	Expect(c.Create(ctx, pvc)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
		g.Expect(pvc.Status.Phase).To(Equal(corev1.ClaimBound))
	}).Should(Succeed())
	mountVolume(c, name, "true")
	return dir
}

// verifyThenRollBack cuts over a volume whose plan asks for checksum verification
// (persistentVolumes[].selection.verify) with the migration's health check (spec.verify),
// then rolls the cutover back: the destination claim and its data go, the source's stay.
func verifyThenRollBack() {
	const name = "verified"
	dir := volumeApp(env.Source.Client, name)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
	patch := client.MergeFrom(plan.DeepCopy())
	plan.Spec.PersistentVolumes[0].Selection.Verify = true
	Expect(env.Destination.Client.Patch(ctx, plan, patch)).To(Succeed())
	Expect(fixtures.WaitReady(ctx, env.Destination.Client, time.Minute, plan)).To(Succeed())

	stage := completed(migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true, RunAsRoot: ptr.To(true)}), 4*time.Minute)
	Expect(hasCondition(stage, migv1.Succeeded)).To(BeTrue(), "conditions: %v", stage.Status.Conditions)
	Expect(checksums(destinationDataDir(name + "-new"))).To(Equal(checksums(dir)))

	By("corrupting the destination's copy without changing its size or time: only a checksum comparison sees it")
	destLedger := filepath.Join(destinationDataDir(name+"-new"), "ledger")
	st, err := os.Stat(filepath.Join(dir, "ledger"))
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(destLedger, []byte("balance: 999\n"), 0o600)).To(Succeed())
	Expect(os.Chtimes(destLedger, st.ModTime(), st.ModTime())).To(Succeed())

	final := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true), Verify: true}), 4*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions: %v", final.Status.Conditions)
	Expect(checksums(destinationDataDir(name+"-new"))).To(Equal(checksums(dir)), "the checksum comparison repaired the corrupted copy")
	cleanup := stepOf(final, "Cleanup")
	Expect(cleanup).NotTo(BeNil())
	Expect(cleanup.Progress).To(ContainElement("All migrated workloads are ready."), "spec.verify checked the destination's workloads")
	Expect(replicasOf(env.Destination.Client, name+"-new")()).To(Equal(int32(1)))

	By("rolling back: the destination claim and its data go, the source is untouched")
	sourceBefore := checksums(dir)
	destDir := destinationDataDir(name + "-new")
	rb := completed(migrate(name+"-rollback", plan, migv1.MigMigrationSpec{Rollback: true}), 3*time.Minute)
	Expect(rb.Status.Errors).To(BeEmpty())
	Expect(hasCondition(rb, migv1.Succeeded)).To(BeTrue(), "conditions: %v", rb.Status.Conditions)
	claim := &corev1.PersistentVolumeClaim{}
	claim.Namespace, claim.Name = name+"-new", "data"
	Eventually(exists(env.Destination.Client, claim)).Should(BeFalse(), "the destination claim is deleted")
	Eventually(func() bool {
		_, err := os.Stat(destDir)
		return errors.Is(err, fs.ErrNotExist)
	}).WithTimeout(2*time.Minute).Should(BeTrue(), "the destination volume's data is deleted with its claim")
	Expect(checksums(dir)).To(Equal(sourceBefore), "the source data is untouched")
	source := &corev1.PersistentVolumeClaim{}
	Expect(env.Source.Client.Get(ctx, client.ObjectKey{Namespace: name, Name: "data"}, source)).To(Succeed())
	Expect(source.Status.Phase).To(Equal(corev1.ClaimBound))
	Eventually(replicasOf(env.Source.Client, name)).Should(Equal(int32(1)), "the source app runs again")
}

// migrateWithinTheCluster cuts over an app with a volume into another namespace of the same
// cluster (an intra-cluster migration: the plan's source and destination are the host).
func migrateWithinTheCluster() {
	const name = "intra"
	host := env.Destination.Client
	dir := volumeApp(host, name)
	plan := readyPlan(name, []string{name + ":" + name + "-copy"}, func(p *migv1.MigPlan) {
		p.Spec.SrcMigClusterRef = fixtures.Ref(ns, fixtures.HostCluster)
	})
	Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
	final := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true)}), 4*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions: %v", final.Status.Conditions)
	Expect(checksums(destinationDataDir(name + "-copy"))).To(Equal(checksums(dir)))
	Expect(replicasOf(host, name+"-copy")()).To(Equal(int32(1)), "the copy runs")
	Expect(replicasOf(host, name)()).To(Equal(int32(0)), "the original is quiesced")
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-copy", Name: "web-config"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-copy", Name: "web-secret"}},
	} {
		Expect(exists(host, obj)()).To(BeTrue(), "%T %s in the new namespace", obj, obj.GetName())
	}
}
