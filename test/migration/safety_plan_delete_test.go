package migration_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// appWithVolume creates app name with replicas whose pods mount PVC data, a volume on the
// source's node holding a few files readable by a non-root transfer.
func appWithVolume(name string, replicas int32) {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	Expect(os.Chmod(dir, 0o755)).To(Succeed())
	for i := range 10 {
		Expect(os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d", i)), []byte(fmt.Sprintf("content %d\n", i)), 0o644)).To(Succeed())
	}
	app(name, replicas)
	pv, pvc := fixtures.BoundVolume(name, "data", "pv-"+name, "1Gi")
	pv.Spec.Local.Path = dir
	Expect(env.Source.Client.Create(ctx, pv)).To(Succeed())
	Expect(env.Source.Client.Create(ctx, pvc)).To(Succeed())
	waitBound(env.Source.Client, pvc)
	mountVolume(env.Source.Client, name, "true")
}

// waitBound waits until pvc is Bound.
func waitBound(c client.Client, pvc *corev1.PersistentVolumeClaim) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		got := &corev1.PersistentVolumeClaim{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pvc), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal(corev1.ClaimBound))
	}).WithTimeout(time.Minute).Should(Succeed())
}

// waitForPhase polls the migration until its phase is one of phases, and returns it.
func waitForPhase(m *migv1.MigMigration, phases ...string) *migv1.MigMigration {
	GinkgoHelper()
	got := &migv1.MigMigration{}
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(BeElementOf(phases), "itinerary %s, errors %v", got.Status.Itinerary, got.Status.Errors)
	}).WithTimeout(4 * time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
	return got
}

// watchUntilGone polls obj until it is deleted, calling seen with each version read, and
// fails after timeout.
func watchUntilGone(obj client.Object, timeout time.Duration, seen func(client.Object)) {
	GinkgoHelper()
	deadline := time.Now().Add(timeout)
	for {
		cur := obj.DeepCopyObject().(client.Object)
		err := env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(obj), cur)
		if apierrors.IsNotFound(err) {
			return
		}
		Expect(err).NotTo(HaveOccurred())
		seen(cur)
		Expect(time.Now().Before(deadline)).To(BeTrue(), "%T %s still exists after %s", obj, obj.GetName(), timeout)
		time.Sleep(50 * time.Millisecond)
	}
}

// transferPods lists the rsync pods left in namespace on the source.
func transferPods(namespace string) []string {
	GinkgoHelper()
	pods := &corev1.PodList{}
	Expect(env.Source.Client.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{transfer.LabelApp: transfer.AppTransfer})).To(Succeed())
	var out []string
	for _, p := range pods.Items {
		out = append(out, p.Name)
	}
	return out
}

// deletePlanDuringTheDVM deletes the plan of a cutover once the source is quiesced and the
// volume is being copied: the migration cancels itself (DVM, Velero objects, source
// applications), the plan keeps its storage until then, and both are gone at the end.
func deletePlanDuringTheDVM() {
	const name = "doomed"
	appWithVolume(name, 2)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
	m := migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true})
	m = waitForPhase(m, "CreateDirectVolumeMigrationFinal", "WaitForDirectVolumeMigrationToComplete")
	Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(0)), "the source is quiesced when the plan is deleted")
	Expect(m.Finalizers).To(ContainElement(migv1.MigMigrationFinalizer))
	By("deleting the plan at " + m.Status.Phase)
	Expect(env.Destination.Client.Delete(ctx, plan)).To(Succeed())

	var phases, canceling []string
	sawWaiting := false
	watchUntilGone(m, 4*time.Minute, func(obj client.Object) {
		got := obj.(*migv1.MigMigration)
		if len(phases) == 0 || phases[len(phases)-1] != got.Status.Itinerary+"/"+got.Status.Phase {
			phases = append(phases, got.Status.Itinerary+"/"+got.Status.Phase)
		}
		if c := conditions.Find(got.Status.Conditions, migv1.Canceling); c != nil && !slices.Contains(canceling, c.Message) {
			canceling = append(canceling, c.Message)
		}
		p := &migv1.MigPlan{}
		if err := env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), p); err == nil {
			sawWaiting = sawWaiting || conditions.IsTrue(p.Status.Conditions, migv1.RetireWaitingForMigrations)
		}
	})
	GinkgoWriter.Printf("phases after the plan was deleted: %v\n", phases)
	Expect(phases).To(ContainElement(HavePrefix("Cancel/")), "the migration ran the Cancel itinerary before it went")
	Expect(canceling).To(ContainElement(ContainSubstring("MigPlan is being deleted")))
	Expect(sawWaiting).To(BeTrue(), "the plan said it waits for its running migration before removing its storage")
	Eventually(exists(env.Destination.Client, &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).
		WithTimeout(2*time.Minute).Should(BeFalse(), "the plan is gone in the end")

	Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(2)), "the source app runs again")
	backups, restores := veleroObjects(m)
	Expect(backups).To(BeEmpty(), "no Backup of the migration is left")
	Expect(restores).To(BeEmpty(), "no Restore of the migration is left")
	dvms := &migv1.DirectVolumeMigrationList{}
	Expect(env.Destination.Client.List(ctx, dvms, client.InNamespace(ns), client.MatchingLabels{"migration-direct-volume": string(m.UID)})).To(Succeed())
	Expect(dvms.Items).To(BeEmpty(), "the DVM is gone")
	Eventually(func() []string { return transferPods(name) }).Should(BeEmpty(), "no rsync pod is left on the source")
}

// deleteMigrationDuringTheRestore deletes a cutover's migration itself (foreground, as
// kubectl --cascade=foreground does) while its restore runs: it is canceled before it goes.
func deleteMigrationDuringTheRestore() {
	const name = "dropped"
	app(name, 2)
	bulk(name, 300)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	m := migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true})
	m = waitForPhase(m, "EnsureInitialBackupReplicated", "EnsureFinalRestore", "FinalRestoreCreated")
	Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(0)), "the source is quiesced when the migration is deleted")
	By("deleting the migration at " + m.Status.Phase)
	Expect(env.Destination.Client.Delete(ctx, m, client.PropagationPolicy(metav1.DeletePropagationForeground))).To(Succeed())

	var phases []string
	watchUntilGone(m, 4*time.Minute, func(obj client.Object) {
		got := obj.(*migv1.MigMigration)
		if len(phases) == 0 || phases[len(phases)-1] != got.Status.Itinerary+"/"+got.Status.Phase {
			phases = append(phases, got.Status.Itinerary+"/"+got.Status.Phase)
		}
	})
	GinkgoWriter.Printf("phases after the migration was deleted: %v\n", phases)
	Expect(phases).To(ContainElement(HavePrefix("Cancel/")), "the migration ran the Cancel itinerary before it went")
	Expect(replicasOf(env.Source.Client, name)()).To(Equal(int32(2)), "the source app runs again")
	backups, restores := veleroObjects(m)
	Expect(backups).To(BeEmpty(), "no Backup of the migration is left")
	Expect(restores).To(BeEmpty(), "no Restore of the migration is left")
	Expect(exists(env.Destination.Client, plan)()).To(BeTrue(), "the plan stays")
}
