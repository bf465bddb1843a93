package dvm_test

import (
	"os"
	"path/filepath"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// The kube-apiservers run the PodSecurity admission plugin: a namespace labelled
// enforce=restricted refuses root pods, capabilities and privilege escalation.
var _ = Describe("A transfer in a namespace under the restricted Pod Security level", Ordered, func() {
	const srcNS = "dvm-restricted"
	vol := &volume{claim: "app-data", targetNS: "dvm-restricted-copy", targetName: "app-data"}

	BeforeAll(func() {
		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(os.Chmod(vol.dir, 0o755)).To(Succeed()) // TempDir is 0700: a volume others can read
		// What an application running as a non-root user leaves: its files, readable by others.
		for name, content := range map[string]string{"index.html": "<h1>hello</h1>", "data/rows.csv": "1,2,3\n", "data/deep/x.bin": string(make([]byte, 3<<20))} {
			path := filepath.Join(vol.dir, name)
			Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
			Expect(os.WriteFile(path, []byte(content), 0o644)).To(Succeed())
		}
		createVolume(src, srcNS, vol, "dvm-restricted-"+vol.claim, "1Gi")
	})

	It("runs non-root transfer pods that the namespace admits, and the data arrives", func() {
		dvm := newDVM("dvm-restricted", srcNS, []*volume{vol})
		dvm.Spec.RunAsRoot = nil
		dvm.Spec.RunAsUser, dvm.Spec.RunAsGroup = ptr.To[int64](1001), ptr.To[int64](1001)
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeTrue(), "conditions %v", got.Status.Conditions)
		// A non-root copy does not keep owners: the DVM says so although nobody asked for root.
		warning := conditions.Find(got.Status.Conditions, migv1.RsyncServerPodsRunningAsNonRoot)
		Expect(warning).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(warning.Category).To(Equal(migv1.CategoryWarn))
		Expect(warning.Durable).To(BeTrue())
		Expect(warning.Message).To(And(ContainSubstring("non-root user 1001"), ContainSubstring("owners"),
			ContainSubstring("device files"), ContainSubstring("symlink"), ContainSubstring("runAsRoot")))
		dest := destinationDir(vol)
		for _, name := range []string{"index.html", "data/rows.csv", "data/deep/x.bin"} {
			want, err := os.ReadFile(filepath.Join(vol.dir, name))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.ReadFile(filepath.Join(dest, name))).To(Equal(want), name)
			var st syscall.Stat_t
			Expect(syscall.Stat(filepath.Join(dest, name), &st)).To(Succeed())
			Expect(st.Uid).To(BeEquivalentTo(1001), "%s is owned by the transfer's user", name)
		}
		expectCleanedUp(got, srcNS, vol.targetNS)
	})

	It("warns, and still copies, when root is asked for where the namespace does not allow it", func() {
		dvm := reusing(newDVM("dvm-restricted-root", srcNS, []*volume{vol}))
		Expect(dvm.Spec.RunAsRoot).To(Equal(ptr.To(true)))
		// The same user as the first copy: a non-root receiver cannot update another user's files.
		dvm.Spec.RunAsUser, dvm.Spec.RunAsGroup = ptr.To[int64](1001), ptr.To[int64](1001)
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())
		warning := conditions.Find(got.Status.Conditions, migv1.RsyncServerPodsRunningAsNonRoot)
		Expect(warning).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(warning.Category).To(Equal(migv1.CategoryWarn))
		Expect(warning.Message).To(And(ContainSubstring("running as non root"), ContainSubstring(srcNS)))
		var st syscall.Stat_t
		Expect(syscall.Stat(filepath.Join(destinationDir(vol), "index.html"), &st)).To(Succeed())
		Expect(st.Uid).To(BeEquivalentTo(1001))
	})
})
