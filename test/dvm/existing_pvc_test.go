package dvm_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// reusing opts a DVM in to copying into destination PVCs it did not create: what a second
// standalone DVM into the PVCs of a first one needs.
func reusing(dvm *migv1.DirectVolumeMigration) *migv1.DirectVolumeMigration {
	if dvm.Annotations == nil {
		dvm.Annotations = map[string]string{}
	}
	dvm.Annotations[migv1.ReuseExistingDestinationPVCsAnnotation] = "true"
	return dvm
}

var _ = Describe("A destination PVC that already exists and that no migration created", Ordered, func() {
	const srcNS, destNS = "dvm-existing", "dvm-existing-dest"
	vol := &volume{claim: "data", targetNS: destNS, targetName: "data"}
	var unrelated string

	BeforeAll(func() {
		Expect(env.Source.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(os.Chmod(vol.dir, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(vol.dir, "migrated.txt"), []byte("from the source\n"), 0o644)).To(Succeed())
		createVolume(env.Source.Client, srcNS, vol, srcNS+"-src", "1Gi")

		By("giving the destination namespace an unrelated PVC of the same name that holds a file")
		Expect(env.Destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: destNS}})).To(Succeed())
		unrelated = GinkgoT().TempDir()
		Expect(os.Chmod(unrelated, 0o777)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(unrelated, "precious.db"), []byte("someone else's data\n"), 0o666)).To(Succeed())
		createVolume(env.Destination.Client, destNS, &volume{claim: vol.targetName, dir: unrelated}, destNS+"-unrelated", "1Gi")
	})

	It("is refused before any transfer pod exists, and its data is untouched", func() {
		dvm := newDVM("dvm-existing-refused", srcNS, []*volume{vol})
		dvm.Spec.RunAsRoot = nil
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)

		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeFalse())
		failed := conditions.Find(got.Status.Conditions, migv1.Failed)
		Expect(failed).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(failed.Reason).To(Equal("CreateDestinationPVCs"), "it failed before the transfer phases")
		refused := conditions.Find(got.Status.Conditions, migv1.DestinationPVCsNotOwned)
		Expect(refused).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(refused.Category).To(Equal(migv1.CategoryCritical))
		Expect(refused.Message).To(And(ContainSubstring(destNS+"/data"), ContainSubstring(migv1.ReuseExistingDestinationPVCsAnnotation)))
		Expect(got.Status.Errors).To(ConsistOf(ContainSubstring(destNS + "/data")))
		Expect(got.Status.RsyncOperations).To(BeEmpty(), "no rsync attempt was ever recorded, so no client pod was created")
		err := env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.ProgressName(got.Name, vol.claim, srcNS)},
			&migv1.DirectVolumeMigrationProgress{})
		Expect(err).To(MatchError(ContainSubstring("not found")), "no progress report: the transfer never started")

		Expect(os.ReadFile(filepath.Join(unrelated, "precious.db"))).To(Equal([]byte("someone else's data\n")))
		Expect(filepath.Join(unrelated, "migrated.txt")).NotTo(BeAnExistingFile())
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: destNS, Name: "data"}, pvc)).To(Succeed())
		Expect(pvc.Labels).NotTo(HaveKey(transfer.LabelMigratedByDVM), "the PVC was not taken over")
		expectCleanedUp(got, srcNS, destNS)
	})

	It("copies into it when the DVM opts in", func() {
		dvm := reusing(newDVM("dvm-existing-reused", srcNS, []*volume{vol}))
		dvm.Spec.RunAsRoot = nil
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeTrue(), "conditions %v", got.Status.Conditions)
		Expect(os.ReadFile(filepath.Join(unrelated, "migrated.txt"))).To(Equal([]byte("from the source\n")))
	})
})
