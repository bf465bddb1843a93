package migration_test

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// warmDelta is what changes after the stage: 160 MiB, which at warmBwLimit takes about 8 s
// to copy. The limit (a WAN link's, as users set rsync_opt_bwlimit) makes the copy of the
// delta, which warm sync moves out of the downtime, stand clear of the run-to-run noise of
// everything else a cutover does on this shared machine (about 10 s of DVM set-up either way).
const (
	warmDeltaFiles = 10
	warmDeltaSize  = 16 << 20
	warmBwLimit    = 20000 // KiB/s
)

// warmPassBytes reads the size of warm pass 1 from its pipeline line, in MiB.
var warmPassBytes = regexp.MustCompile(`Warm sync pass 1: ([0-9.]+) MiB`)

// cutOverWithAndWithoutWarmSync stages, changes, then cuts over two identical apps that keep
// writing to their volume, one with enable_warm_sync off and one with it on: with it on, the
// delta is copied while the app still runs, the destination holds every file of the quiesced
// source with the same checksum, and the app is down (source scaled to 0 → destination pod
// ready) for less time than without it.
func cutOverWithAndWithoutWarmSync() {
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
		Spec: migv1.MigrationControllerSpec{RsyncOptBwlimit: ptr.To(intstr.FromInt32(warmBwLimit))}}
	Expect(env.Destination.Client.Create(ctx, mc)).To(Succeed())
	DeferCleanup(func() { Expect(env.Destination.Client.Delete(ctx, mc)).To(Succeed()) })

	downtime := map[bool]time.Duration{}
	for _, warm := range []bool{false, true} {
		name := map[bool]string{false: "warm-off", true: "warm-on"}[warm]
		By(fmt.Sprintf("cutting over %s with enable_warm_sync %v", name, warm))
		patch := client.MergeFrom(mc.DeepCopy())
		mc.Spec.EnableWarmSync = ptr.To(warm)
		Expect(env.Destination.Client.Patch(ctx, mc, patch)).To(Succeed())

		dir := GinkgoT().TempDir()
		Expect(fixtures.FillFiles(dir, "base", 8, 16<<20)).To(Succeed())
		Expect(fixtures.WriterApp(ctx, env.Source.Client, name, dir, "1Gi")).To(Succeed())
		plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
		Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
		stage := completed(migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true, RunAsRoot: ptr.To(true)}), 5*time.Minute)
		Expect(hasCondition(stage, migv1.Succeeded)).To(BeTrue(), "conditions: %v", stage.Status.Conditions)

		Expect(fixtures.FillFiles(dir, "delta", warmDeltaFiles, warmDeltaSize)).To(Succeed())
		watch := fixtures.WatchDowntime(ctx, env.Source.Client, env.Destination.Client, name, name+"-new", "web")
		final := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true)}), 8*time.Minute)
		Expect(final.Status.Errors).To(BeEmpty())
		Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions: %v", final.Status.Conditions)
		var seen fixtures.Result[fixtures.Downtime]
		Eventually(watch).WithTimeout(2 * time.Minute).Should(Receive(&seen))
		Expect(seen.Err).NotTo(HaveOccurred())
		downtime[warm] = seen.Value.Duration()
		AddReportEntry(name+" downtime", downtime[warm].String())
		GinkgoWriter.Printf("%s: downtime %s, pipeline %s\n", name, downtime[warm], pipelineTimes(final))

		source, dest := checksums(dir), checksums(destinationDataDir(name+"-new"))
		Expect(len(source)).To(BeNumerically(">", 8+warmDeltaFiles), "the app wrote files of its own")
		for file, sum := range source {
			Expect(dest).To(HaveKeyWithValue(file, sum), "every file of the quiesced source is on the destination, identical")
		}
		Expect(fixtures.StopApp(ctx, env.Destination.Client, name+"-new")).To(Succeed(), "nothing writes while the environment removes the volume")

		warmStep := stepOf(final, "WarmSync")
		if !warm {
			Expect(warmStep).To(BeNil(), "no warm pass with enable_warm_sync false")
			continue
		}
		Expect(warmStep).NotTo(BeNil())
		Expect(warmStep.Completed).NotTo(BeNil())
		quiesce := stepOf(final, "StageBackup")
		Expect(quiesce.Started).NotTo(BeNil())
		Expect(warmStep.Completed.Time).NotTo(BeTemporally(">", quiesce.Started.Time), "warm sync ended before the app was quiesced")
		Expect(warmStep.Progress).To(ContainElement(ContainSubstring("Warm sync done after")))
		var pass1 []string
		for _, line := range warmStep.Progress {
			if m := warmPassBytes.FindStringSubmatch(line); m != nil {
				pass1 = m
			}
		}
		Expect(pass1).NotTo(BeNil(), "progress %q", warmStep.Progress)
		mib, err := strconv.ParseFloat(pass1[1], 64)
		Expect(err).NotTo(HaveOccurred())
		Expect(mib).To(BeNumerically(">=", float64(warmDeltaFiles*warmDeltaSize>>20)), "pass 1 copied the delta while the app ran")
	}
	Expect(downtime[true]).To(BeNumerically("<", downtime[false]), "warm sync shortens the downtime")
}

// pipelineTimes prints how long each step of a migration took.
func pipelineTimes(m *migv1.MigMigration) string {
	out := ""
	for _, s := range m.Status.Pipeline {
		if s.Started != nil && s.Completed != nil {
			out += fmt.Sprintf("%s=%s ", s.Name, s.Completed.Sub(s.Started.Time))
		}
	}
	return out
}
