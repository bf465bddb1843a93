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
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// OpenShift gives each namespace a range of user IDs and supplemental groups, and its
// restricted SCC refuses pods outside them. The local clusters enforce the same with an
// admission policy (test/migenv/scc.go), so a fixed non-root user (65532) is refused here too.
var _ = Describe("A transfer between namespaces with OpenShift's user and group ranges", Ordered, func() {
	const srcNS, destNS = "dvm-scc-ranges", "dvm-scc-ranges-copy"
	ranges := map[string]map[string]string{
		srcNS:  {transfer.UIDRangeAnnotation: "1000650000/10000", transfer.SupplementalGroupsAnnotation: "1000650000/10000"},
		destNS: {transfer.UIDRangeAnnotation: "1000800000/10000", transfer.SupplementalGroupsAnnotation: "1000900000/10000"},
	}
	vol := &volume{claim: "data", targetNS: destNS, targetName: "data"}

	BeforeAll(func() {
		Expect(env.Source.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, Annotations: ranges[srcNS]}})).To(Succeed())
		Expect(env.Destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: destNS,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, Annotations: ranges[destNS]}})).To(Succeed())
		vol.dir = GinkgoT().TempDir()
		Expect(os.Chmod(vol.dir, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(vol.dir, "rows.csv"), []byte("1,2,3\n"), 0o644)).To(Succeed())
		createVolume(env.Source.Client, srcNS, vol, "dvm-scc-ranges-"+vol.claim, "1Gi")
	})

	It("refuses a pod whose user or fsGroup lies outside the namespace's ranges, as OpenShift does", func() {
		pod := func(user, fsGroup int64) *corev1.Pod {
			return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: destNS, Name: "probe"}, Spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr.To(user), FSGroup: ptr.To(fsGroup), RunAsNonRoot: ptr.To(true),
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
				Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
			}}
		}
		c := env.Destination.Client
		Expect(c.Create(ctx, pod(transfer.DefaultNonRootID, 1000900000), client.DryRunAll)).To(MatchError(ContainSubstring("runAsUser is not in the namespace range")))
		Expect(c.Create(ctx, pod(1000800000, transfer.DefaultNonRootID), client.DryRunAll)).To(MatchError(ContainSubstring("fsGroup 65532 is not in the namespace range")))
		Expect(c.Create(ctx, pod(1000800005, 1000900000), client.DryRunAll)).To(Succeed())
	})

	It("runs the non-root transfer pods as the first user and group of each namespace's ranges", func() {
		dvm := newDVM("dvm-scc-ranges", srcNS, []*volume{vol})
		dvm.Spec.RunAsRoot = nil
		got := runDVM(dvm)
		warning := conditions.Find(got.Status.Conditions, migv1.RsyncServerPodsRunningAsNonRoot)
		Expect(warning).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		dest := filepath.Join(destinationDir(vol), "rows.csv")
		Expect(os.ReadFile(dest)).To(Equal([]byte("1,2,3\n")))
		var st syscall.Stat_t
		Expect(syscall.Stat(dest, &st)).To(Succeed())
		Expect(st.Uid).To(BeEquivalentTo(1000800000), "the file belongs to the destination namespace's first user")
		expectCleanedUp(got, srcNS, destNS)
	})
})
