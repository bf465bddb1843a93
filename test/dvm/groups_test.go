package dvm_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// Non-root transfer pods read what their user and groups may read: data shared through a
// group (NFS exports, say) needs src_supplemental_groups.
var _ = Describe("src_supplemental_groups", Ordered, func() {
	const srcNS, group = "dvm-groups", 5555
	vol := &volume{claim: "shared", targetNS: srcNS + "-copy", targetName: "shared"}

	BeforeAll(func() {
		Expect(env.Source.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		// Readable by the group only: root:5555, 0750 and 0640.
		Expect(os.WriteFile(filepath.Join(vol.dir, "report.csv"), []byte("a,b\n1,2\n"), 0o640)).To(Succeed())
		for _, p := range []string{vol.dir, filepath.Join(vol.dir, "report.csv")} {
			Expect(os.Chown(p, 0, group)).To(Succeed())
		}
		Expect(os.Chmod(vol.dir, 0o750)).To(Succeed())
		createVolume(env.Source.Client, srcNS, vol, srcNS+"-"+vol.claim, "1Gi")
	})

	newGroupDVM := func(name string) *migv1.DirectVolumeMigration {
		dvm := newDVM(name, srcNS, []*volume{vol})
		dvm.Spec.RunAsRoot, dvm.Spec.BackOffLimit = nil, 1
		dvm.Spec.RunAsUser, dvm.Spec.RunAsGroup = ptr.To[int64](1001), ptr.To[int64](1001)
		return dvm
	}

	It("fails with a clear permission error without the group", func() {
		dvm := newGroupDVM("dvm-groups-without")
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Failed)).To(BeTrue(), "conditions %v", got.Status.Conditions)
		Expect(got.Status.Errors).To(ConsistOf(And(ContainSubstring("Permission denied"), ContainSubstring("runAsUser"))))
	})

	It("copies the data with the group as a supplemental group of the client pods", func() {
		useMigrationController(migv1.MigrationControllerSpec{SrcSupplementalGroups: ptr.To(intstr.FromString("5555"))})
		dvm := reusing(newGroupDVM("dvm-groups-with"))
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(os.ReadFile(filepath.Join(destinationDir(vol), "report.csv"))).To(Equal([]byte("a,b\n1,2\n")))
	})
})
