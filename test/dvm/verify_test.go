package dvm_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// verify on a PVC makes rsync compare checksums instead of sizes and times: a change that
// keeps both (a rewritten block, a restored mtime) is copied only then.
var _ = Describe("verify (checksums)", Ordered, func() {
	const srcNS = "dvm-verify"
	vol := &volume{claim: "data", targetNS: srcNS + "-copy", targetName: "data"}
	file := func(dir string) string { return filepath.Join(dir, "ledger.txt") }

	BeforeAll(func() {
		Expect(env.Source.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(os.Chmod(vol.dir, 0o755)).To(Succeed())
		Expect(os.WriteFile(file(vol.dir), []byte("balance=100\n"), 0o644)).To(Succeed())
		createVolume(env.Source.Client, srcNS, vol, srcNS+"-"+vol.claim, "1Gi")
	})

	copyWith := func(name string, verify bool) {
		GinkgoHelper()
		// Every copy after the first goes into the first one's PVC.
		dvm := reusing(newDVM(name, srcNS, []*volume{vol}))
		dvm.Spec.RunAsRoot = nil
		dvm.Spec.PersistentVolumeClaims[0].Verify = verify
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		Expect(waitCompleted(dvm).Status.Errors).To(BeEmpty())
	}

	It("copies a change of the same size and time only with verify", func() {
		copyWith("dvm-verify-first", false)
		Expect(os.ReadFile(file(destinationDir(vol)))).To(Equal([]byte("balance=100\n")))

		// Same size, and the old modification time put back.
		info, err := os.Stat(file(vol.dir))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(file(vol.dir), []byte("balance=999\n"), 0o644)).To(Succeed())
		Expect(os.Chtimes(file(vol.dir), time.Now(), info.ModTime())).To(Succeed())

		copyWith("dvm-verify-quick", false)
		Expect(os.ReadFile(file(destinationDir(vol)))).To(Equal([]byte("balance=100\n")), "rsync's quick check skips it")
		copyWith("dvm-verify-checksums", true)
		Expect(os.ReadFile(file(destinationDir(vol)))).To(Equal([]byte("balance=999\n")))
	})
})
