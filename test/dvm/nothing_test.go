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

var _ = Describe("A transfer that moves nothing of a volume holding data", Ordered, func() {
	const srcNS = "dvm-filtered"
	vol := &volume{claim: "data", targetNS: srcNS + "-copy", targetName: "data"}

	BeforeAll(func() {
		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(os.Chmod(vol.dir, 0o755)).To(Succeed())
		for _, name := range []string{"a.txt", "b.txt", "sub/c.txt"} {
			Expect(os.MkdirAll(filepath.Dir(filepath.Join(vol.dir, name)), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(vol.dir, name), []byte(name), 0o644)).To(Succeed())
		}
		createVolume(src, srcNS, vol, "dvm-filtered-"+vol.claim, "1Gi")
	})

	It("fails instead of reporting success (an rsync_opt_extras filter that excludes everything)", func() {
		useMigrationController(migv1.MigrationControllerSpec{RsyncOptExtras: "--exclude=*"})
		dvm := newDVM("dvm-filtered", srcNS, []*volume{vol})
		dvm.Spec.RunAsRoot = nil
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeFalse())
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Failed)).To(BeTrue(), "conditions %v", got.Status.Conditions)
		Expect(got.Status.Errors).To(ConsistOf(And(
			ContainSubstring(srcNS+"/data"),
			ContainSubstring("rsync copied nothing although the source volume holds 4 files and directories"),
		)))
		// Not retried: the first attempt's verdict stands.
		progress := &migv1.DirectVolumeMigrationProgress{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns,
			Name: transfer.ProgressName(got.Name, vol.claim, srcNS)}, progress)).To(Succeed())
		Expect(progress.Status.RsyncPodStatuses).To(HaveLen(1))
		Expect(os.ReadDir(destinationDir(vol))).To(BeEmpty())
	})
})
