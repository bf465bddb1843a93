package dvm_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// volume is a source PVC of the test and where it goes.
type volume struct {
	claim, targetNS, targetName string
	dir                         string
}

// sourceNamespace holds the source PVCs.
const sourceNamespace = "dvm-data"

var _ = Describe("A standalone DirectVolumeMigration", Ordered, func() {
	const srcNS = sourceNamespace
	volumes := []*volume{
		{claim: "db", targetNS: srcNS, targetName: "db"},
		{claim: "files", targetNS: srcNS, targetName: "files-renamed"},
		{claim: "logs", targetNS: "dvm-data-moved", targetName: "logs"},
	}

	BeforeAll(func() {
		src := env.Source.Client
		// Keeping owners needs root transfer pods, which only a privileged namespace admits.
		Expect(src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS,
			Labels:      map[string]string{"team": "storage", "pod-security.kubernetes.io/enforce": "privileged"},
			Annotations: map[string]string{"owner": "ops"}}})).To(Succeed())
		for i, v := range volumes {
			v.dir = GinkgoT().TempDir()
			Expect(fill(v.dir, byte(i+1), (8<<20)*(i+1))).To(Succeed())
			pv, pvc := fixtures.BoundVolume(srcNS, v.claim, "dvm-"+v.claim, "1Gi")
			pv.Spec.Local.Path = v.dir
			Expect(src.Create(ctx, pv)).To(Succeed())
			Expect(src.Create(ctx, pvc)).To(Succeed())
		}
		Expect(fixtures.WaitBound(ctx, src, len(volumes), time.Minute)).To(Succeed())
	})

	It("copies three volumes with their content and metadata, then only what changed", func() {
		started := time.Now()
		first := run("dvm-first", srcNS, volumes)
		GinkgoWriter.Printf("first DVM completed in %s\n", time.Since(started))
		Expect(first.Status.SuccessfulPods).To(HaveLen(3))
		Expect(first.Status.FailedPods).To(BeEmpty())
		for _, v := range volumes {
			Expect(diff(mustSnapshot(v.dir), mustSnapshot(destinationDir(v)))).To(BeEmpty(), "volume %s", v.claim)
		}
		ns := &corev1.Namespace{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Name: "dvm-data-moved"}, ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("team", "storage"))
		Expect(ns.Annotations).To(HaveKeyWithValue("owner", "ops"))
		expectCleanedUp(first, srcNS, "dvm-data-moved")
		for _, v := range volumes {
			Expect(lastStats(first, v)).To(MatchRegexp(`Number of regular files transferred: 20[0-9]\n`), "first copy of %s", v.claim)
		}

		By("changing one file and adding one on the first volume")
		Expect(os.WriteFile(filepath.Join(volumes[0].dir, "dir/sub/small-007.txt"), []byte("changed"), 0o640)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(volumes[0].dir, "new.txt"), []byte("new"), 0o600)).To(Succeed())
		Expect(os.Remove(filepath.Join(volumes[0].dir, "dir/sub/small-008.txt"))).To(Succeed())
		started = time.Now()
		// A second standalone DVM into the first one's PVCs says so (the PVCs carry the first DVM's label).
		second := runDVM(reusing(newDVM("dvm-second", srcNS, volumes)))
		GinkgoWriter.Printf("second DVM completed in %s\n", time.Since(started))
		for _, v := range volumes {
			Expect(diff(mustSnapshot(v.dir), mustSnapshot(destinationDir(v)))).To(BeEmpty(), "volume %s after the delta", v.claim)
		}
		Expect(lastStats(second, volumes[0])).To(ContainSubstring("Number of regular files transferred: 2\n"))
		Expect(lastStats(second, volumes[1])).To(ContainSubstring("Number of regular files transferred: 0\n"))
		Expect(lastStats(second, volumes[2])).To(ContainSubstring("Number of regular files transferred: 0\n"))

		By("deleting a finished DVM: the finalizer lets it go")
		Expect(env.Destination.Client.Delete(ctx, first)).To(Succeed())
		Eventually(func() error {
			return env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(first), &migv1.DirectVolumeMigration{})
		}).Should(MatchError(ContainSubstring("not found")))
	})
})

// run applies a DVM of volumes from the source to the host and waits until it completes.
func run(name, srcNS string, volumes []*volume) *migv1.DirectVolumeMigration {
	GinkgoHelper()
	return runDVM(newDVM(name, srcNS, volumes))
}

// runDVM applies dvm and waits until it completes successfully.
func runDVM(dvm *migv1.DirectVolumeMigration) *migv1.DirectVolumeMigration {
	GinkgoHelper()
	Expect(env.Destination.Client.Create(ctx, dvm)).To(Succeed())
	got := waitCompleted(dvm)
	Expect(got.Status.Errors).To(BeEmpty())
	Expect(conditions.IsTrue(got.Status.Conditions, migv1.Succeeded)).To(BeTrue(), "conditions %v", got.Status.Conditions)
	return got
}

// newDVM builds a DVM of volumes from the source to the host, asking for root transfer pods
// (granted in privileged namespaces only).
func newDVM(name, srcNS string, volumes []*volume) *migv1.DirectVolumeMigration {
	dvm := &migv1.DirectVolumeMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: migv1.DirectVolumeMigrationSpec{
		SrcMigClusterRef:            fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef:           fixtures.Ref(ns, fixtures.HostCluster),
		CreateDestinationNamespaces: true,
		RunAsRoot:                   ptr.To(true),
	}}
	for _, v := range volumes {
		dvm.Spec.PersistentVolumeClaims = append(dvm.Spec.PersistentVolumeClaims, migv1.PVCToMigrate{
			ObjectReference:    &corev1.ObjectReference{Namespace: srcNS, Name: v.claim},
			TargetStorageClass: fixtures.StorageClass,
			TargetAccessModes:  []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			TargetNamespace:    v.targetNS,
			TargetName:         v.targetName,
		})
	}
	return dvm
}

// waitCompleted waits until the DVM's phase is Completed and returns it.
func waitCompleted(dvm *migv1.DirectVolumeMigration) *migv1.DirectVolumeMigration {
	GinkgoHelper()
	got := &migv1.DirectVolumeMigration{}
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(dvm), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal("Completed"), "phase %s (%s), conditions %v, errors %v",
			got.Status.Phase, got.Status.PhaseDescription, got.Status.Conditions, got.Status.Errors)
	}).Should(Succeed())
	return got
}

// destinationDir is the host directory of the destination PV of v.
func destinationDir(v *volume) string {
	GinkgoHelper()
	dir, err := fixtures.VolumeDir(ctx, env.Destination.Client, v.targetNS, v.targetName)
	Expect(err).NotTo(HaveOccurred())
	return dir
}

func mustSnapshot(dir string) map[string]entry {
	GinkgoHelper()
	s, err := snapshot(dir)
	Expect(err).NotTo(HaveOccurred())
	return s
}

// lastStats returns rsync's statistics of the last attempt for v, from its DVMP.
func lastStats(dvm *migv1.DirectVolumeMigration, v *volume) string {
	GinkgoHelper()
	p := &migv1.DirectVolumeMigrationProgress{}
	Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.ProgressName(dvm.Name, v.claim, sourceNamespace)}, p)).To(Succeed())
	Expect(p.Status.PodPhase).To(Equal(corev1.PodSucceeded))
	Expect(p.Status.TotalProgressPercentage).To(Equal("100%"))
	return p.Status.LogMessage + "\n"
}

// expectCleanedUp checks that no transfer resource of the DVM is left on either cluster.
func expectCleanedUp(dvm *migv1.DirectVolumeMigration, srcNS, destNS string) {
	GinkgoHelper()
	sel := client.MatchingLabels(transfer.Selector(string(dvm.UID)))
	for _, c := range []struct {
		c  client.Client
		ns []string
	}{{env.Source.Client, []string{srcNS}}, {env.Destination.Client, []string{srcNS, destNS}}} {
		for _, n := range c.ns {
			for _, list := range []client.ObjectList{&corev1.PodList{}, &corev1.ServiceList{}, &corev1.SecretList{}, &corev1.ConfigMapList{}} {
				Expect(c.c.List(ctx, list, client.InNamespace(n), sel)).To(Succeed())
				Expect(apimeta.LenList(list)).To(BeZero(), "left in %s: %T", n, list)
			}
		}
	}
	secret := &corev1.Secret{}
	err := env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.NamesFor(string(dvm.UID)).Credentials()}, secret)
	Expect(err).To(HaveOccurred())
}
