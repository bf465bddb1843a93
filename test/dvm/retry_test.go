package dvm_test

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
)

var _ = Describe("A transfer pod killed mid-way", Ordered, func() {
	It("is retried, the retry resumes, and the data arrives identical", func() {
		const srcNS = "dvm-retry"
		// A bandwidth limit keeps the transfer running long enough to kill it half-way.
		mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
			Spec: migv1.MigrationControllerSpec{RsyncOptBwlimit: ptr.To(intstr.FromInt(8 << 10))}}
		Expect(env.Destination.Client.Create(ctx, mc)).To(Succeed())
		DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, mc)).To(Succeed()) })

		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}})).To(Succeed())
		v := &volume{claim: "big", targetNS: srcNS, targetName: "big", dir: GinkgoT().TempDir()}
		Expect(fill(v.dir, 9, 64<<20)).To(Succeed())
		pv, pvc := fixtures.BoundVolume(srcNS, v.claim, "dvm-retry-big", "1Gi")
		pv.Spec.Local.Path = v.dir
		Expect(src.Create(ctx, pv)).To(Succeed())
		Expect(src.Create(ctx, pvc)).To(Succeed())
		Expect(fixtures.WaitBound(ctx, src, 1, time.Minute)).To(Succeed())

		dvm := newDVM("dvm-retry", srcNS, []*volume{v})
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())

		By("killing the rsync client once it has run for a few seconds")
		var victim *corev1.Pod
		Eventually(func(g Gomega) {
			pods := &corev1.PodList{}
			g.Expect(src.List(ctx, pods, client.InNamespace(srcNS), client.MatchingLabels{transfer.LabelAttempt: "1"})).To(Succeed())
			g.Expect(pods.Items).To(HaveLen(1))
			p := &pods.Items[0]
			g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning))
			g.Expect(p.Status.StartTime).NotTo(BeNil())
			g.Expect(time.Since(p.Status.StartTime.Time)).To(BeNumerically(">", 3*time.Second))
			victim = p
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		Expect(src.Delete(ctx, victim, client.GracePeriodSeconds(0))).To(Succeed())

		got := waitCompleted(dvm)
		Expect(got.Status.SuccessfulPods).To(HaveLen(1), "errors: %v", got.Status.Errors)
		Expect(diff(mustSnapshot(v.dir), mustSnapshot(destinationDir(v)))).To(BeEmpty(), "identical after the retry")
		p := &migv1.DirectVolumeMigrationProgress{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.ProgressName(dvm.Name, v.claim, srcNS)}, p)).To(Succeed())
		GinkgoWriter.Printf("last run:\n%s\n", p.Status.LogMessage)
		total, sent := statBytes(p.Status.LogMessage, "Total file size"), statBytes(p.Status.LogMessage, "Total transferred file size")
		Expect(sent).To(BeNumerically(">", 0))
		Expect(sent).To(BeNumerically("<", total), "the run after the kill resumed: it did not send everything again")
	})
})

// statBytes reads "<name>: 1,234 bytes" from rsync's statistics.
func statBytes(stats, name string) int64 {
	GinkgoHelper()
	m := regexp.MustCompile(regexp.QuoteMeta(name) + `: ([\d,]+) bytes`).FindStringSubmatch(stats)
	Expect(m).NotTo(BeNil(), "%s in %q", name, stats)
	n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	Expect(err).NotTo(HaveOccurred())
	return n
}
