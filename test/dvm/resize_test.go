package dvm_test

import (
	"crypto/rand"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// PV resizing measures usage through the kubelets' /stats/summary (the process nodes serve it
// from the volumes' directories), never by exec into pods.
var _ = Describe("PV resizing (enable_dvm_pv_resizing)", Ordered, func() {
	const srcNS = "dvm-resize"
	full := &volume{claim: "full", targetNS: srcNS + "-copy", targetName: "full"} // 63 of 64 MiB: grows
	half := &volume{claim: "half", targetNS: srcNS + "-copy", targetName: "half"} // 8 of 64 MiB: kept
	cold := &volume{claim: "cold", targetNS: srcNS + "-copy", targetName: "cold"} // no pod mounts it: unknown
	volumes := []*volume{full, half, cold}

	BeforeAll(func() {
		src := env.Source.Client
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})).To(Succeed())
		for _, v := range volumes {
			v.dir = GinkgoT().TempDir()
			Expect(os.Chmod(v.dir, 0o755)).To(Succeed())
			createVolume(src, srcNS, v, "dvm-resize-"+v.claim, "64Mi")
		}
		for v, mib := range map[*volume]int{full: 63, half: 8, cold: 1} {
			data := make([]byte, mib<<20)
			_, _ = rand.Read(data)
			Expect(os.WriteFile(filepath.Join(v.dir, "data.bin"), data, 0o644)).To(Succeed())
		}
		// The application, running, mounts two of the three claims.
		app := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: srcNS, Name: "app"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "busybox", Command: []string{"sleep", "3600"},
				VolumeMounts: []corev1.VolumeMount{{Name: "full", MountPath: "/full"}, {Name: "half", MountPath: "/half"}}}},
			Volumes: []corev1.Volume{
				{Name: "full", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "full"}}},
				{Name: "half", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "half"}}},
			},
		}}
		Expect(src.Create(ctx, app)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(src.Get(ctx, client.ObjectKeyFromObject(app), app)).To(Succeed())
			g.Expect(app.Status.Phase).To(Equal(corev1.PodRunning))
		}).Should(Succeed())
	})

	It("keeps the sizes and says which role to bind when the source token may not read kubelet statistics", func() {
		useMigrationController(migv1.MigrationControllerSpec{EnableDVMPVResizing: true})
		unbound := &volume{claim: "full", targetNS: srcNS + "-unbound", targetName: "full"}
		dvm := newDVM("dvm-resize-unbound", srcNS, []*volume{unbound})
		dvm.Spec.RunAsRoot = nil
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: unbound.targetNS, Name: "full"}, pvc)).To(Succeed())
		Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal("64Mi"))
		unmeasured := conditions.Find(got.Status.Conditions, migv1.PvUsageAnalysisFailed)
		Expect(unmeasured).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(unmeasured.Message).To(And(ContainSubstring("ClusterRole ferry-pv-resizing"), ContainSubstring(srcNS+"/full")))
	})

	It("grows the destination of a nearly full volume and says which volumes it could not measure", func() {
		By("binding the source's ServiceAccount to ferry-pv-resizing, as the README says to")
		bindPVResizing()
		useMigrationController(migv1.MigrationControllerSpec{EnableDVMPVResizing: true})
		dvm := newDVM("dvm-resize", srcNS, volumes)
		dvm.Spec.RunAsRoot = nil
		Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
		got := waitCompleted(dvm)
		Expect(got.Status.Errors).To(BeEmpty())

		requests := map[string]string{}
		for _, v := range volumes {
			pvc := &corev1.PersistentVolumeClaim{}
			Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: v.targetNS, Name: v.targetName}, pvc)).To(Succeed())
			q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
			requests[v.claim] = q.String()
			Expect(os.ReadFile(filepath.Join(destinationDir(v), "data.bin"))).To(Equal(mustRead(filepath.Join(v.dir, "data.bin"))), v.claim)
		}
		// 63 MiB + the directory of 64 MiB is 98.4 %; with 3 % headroom: 64 MiB × 1.014 → 65 MiB.
		Expect(requests).To(Equal(map[string]string{"full": "65Mi", "half": "64Mi", "cold": "64Mi"}))
		adjusted := conditions.Find(got.Status.Conditions, migv1.PvCapacityAdjustmentRequired)
		Expect(adjusted).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(adjusted.Message).To(And(ContainSubstring(srcNS+"/full 64Mi→65Mi"), Not(ContainSubstring("half"))))
		unmeasured := conditions.Find(got.Status.Conditions, migv1.PvUsageAnalysisFailed)
		Expect(unmeasured).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
		Expect(unmeasured.Message).To(And(ContainSubstring(srcNS+"/cold"), Not(ContainSubstring("full"))))
	})

	It("proposes capacities on the MigPlan and reports there which volumes will be adjusted (seed §11.6.2)", func() {
		src := env.Source.Client
		bindPVResizing()
		useMigrationController(migv1.MigrationControllerSpec{EnableDVMPVResizing: true})
		pvOf := map[string]string{}
		for _, v := range volumes {
			pvc := &corev1.PersistentVolumeClaim{}
			Expect(src.Get(ctx, client.ObjectKey{Namespace: srcNS, Name: v.claim}, pvc)).To(Succeed())
			pvOf[v.claim] = pvc.Spec.VolumeName
		}
		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "resize-plan"}, Spec: migv1.MigPlanSpec{
			Namespaces:        []string{srcNS},
			SrcMigClusterRef:  fixtures.Ref(ns, fixtures.SourceCluster),
			DestMigClusterRef: fixtures.Ref(ns, fixtures.HostCluster),
			MigStorageRef:     fixtures.Ref(ns, fixtures.Storage),
		}}
		Expect(env.Destination.Client.Create(ctx, plan)).To(Succeed())
		DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, plan)).To(Succeed()) })

		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
			proposed := map[string]string{}
			for _, pv := range plan.Spec.PersistentVolumes {
				proposed[pv.Name] = pv.ProposedCapacity.String()
			}
			// 63 MiB + the directory of 64 MiB is 98.4 %; with 3 % headroom: 65 MiB. The cold
			// volume is mounted by no running pod, so it has no proposal.
			g.Expect(proposed).To(Equal(map[string]string{pvOf["full"]: "65Mi", pvOf["half"]: "64Mi", pvOf["cold"]: "0"}))
			adjusted := conditions.Find(plan.Status.Conditions, migv1.PvCapacityAdjustmentRequired)
			g.Expect(adjusted).NotTo(BeNil(), "conditions %v", plan.Status.Conditions)
			g.Expect(*adjusted).To(And(HaveField("Status", migv1.False), HaveField("Reason", migv1.Done),
				HaveField("Category", migv1.CategoryWarn), HaveField("Durable", true),
				HaveField("Message", And(HavePrefix("Capacity of the following volumes will be automatically adjusted"),
					HaveSuffix("["+pvOf["full"]+"]")))))
			unmeasured := conditions.Find(plan.Status.Conditions, migv1.PvUsageAnalysisFailed)
			g.Expect(unmeasured).NotTo(BeNil())
			g.Expect(unmeasured.Message).To(HaveSuffix("[" + pvOf["cold"] + "]"))
		}).Should(Succeed())

		By("turning DVM resizing off: the same volume is reported at risk, not adjusted")
		useMigrationController(migv1.MigrationControllerSpec{EnableIntelligentPVResize: ptr.To(true)})
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), plan)).To(Succeed())
			adjusted := conditions.Find(plan.Status.Conditions, migv1.PvCapacityAdjustmentRequired)
			g.Expect(adjusted).NotTo(BeNil())
			g.Expect(*adjusted).To(And(HaveField("Status", migv1.True), HaveField("Reason", migv1.NotDone),
				HaveField("Message", HaveSuffix("["+pvOf["full"]+"]"))))
		}).Should(Succeed())
	})
})

// bindPVResizing binds the source's ServiceAccount to ferry-pv-resizing, as the README says to,
// until the spec ends.
func bindPVResizing() {
	GinkgoHelper()
	src := env.Source.Client
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ferry-pv-resizing"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ferry-pv-resizing"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "openshift-migration", Name: "migration-controller"}}}
	Expect(src.Create(ctx, binding)).To(Succeed())
	DeferCleanup(func() { Expect(src.Delete(ctx, binding)).To(Succeed()) })
}

func mustRead(path string) []byte {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return b
}
