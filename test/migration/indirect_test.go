package migration_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/stagepod"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// migrateIndirectly stages, then cuts over, an app whose volume holds files of several
// owners and modes with indirectVolumeMigration: the data goes through the replication
// repository (Velero's file-system backup by the node-agent of each cluster, from and into
// stage pods), and the destination volume ends identical: contents, modes and owners. A
// rollback then deletes the plan's Restores and the resource modifiers that gave the claim
// its storage class.
func migrateIndirectly() {
	const name = "indirect"
	dir := GinkgoT().TempDir()
	writeOwnedFiles(dir)
	appWithRootVolume(name, dir)
	src, d := env.Source.Client, env.Destination.Client
	mountVolume(src, name, "echo \"$(hostname) was here\" >> /data/visits")
	createFastClass(d)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, func(p *migv1.MigPlan) { p.Spec.IndirectVolumeMigration = true })
	Expect(plan.Spec.PersistentVolumes).To(HaveLen(1))
	By("selecting another storage class for the destination claim: the restore gives it to the claim")
	patch := client.MergeFrom(plan.DeepCopy())
	plan.Spec.PersistentVolumes[0].Selection.StorageClass = fastClass
	Expect(d.Patch(ctx, plan, patch)).To(Succeed())
	Expect(fixtures.WaitReady(ctx, d, time.Minute, plan)).To(Succeed())

	By("a stage copies the volume through the repository while the app runs")
	stage := migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true})
	By("the pipeline shows the volume's bytes as the node-agents move them")
	seeProgress(stage, "StageBackup", `PodVolumeBackup \S+: .* backed up \(\w+, volume stage of pod indirect/stage-data-`)
	seeProgress(stage, "StageRestore", `PodVolumeRestore \S+: .* restored \(\w+, volume stage of pod indirect-new/stage-data-`)
	stage = completed(stage, 6*time.Minute)
	Expect(stage.Status.Errors).To(BeEmpty())
	Expect(hasCondition(stage, migv1.Succeeded)).To(BeTrue(), "conditions: %v", stage.Status.Conditions)
	Expect(ownedTree(destinationDataDir(name+"-new"))).To(Equal(ownedTree(dir)), "the stage copied contents, modes and owners")
	claim := &corev1.PersistentVolumeClaim{}
	Expect(d.Get(ctx, client.ObjectKey{Namespace: name + "-new", Name: "data"}, claim)).To(Succeed())
	Expect(ptr.Deref(claim.Spec.StorageClassName, "")).To(Equal(fastClass), "the plan's storage class selection")
	expectNoStageLeftovers(name, name+"-new")

	By("changing the data, then cutting over: the stage pods hold the claim of the quiesced app")
	Expect(os.WriteFile(filepath.Join(dir, "db", "changed"), []byte("written after the stage\n"), 0o640)).To(Succeed())
	final := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 6*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(hasCondition(final, migv1.Succeeded)).To(BeTrue(), "conditions: %v", final.Status.Conditions)
	Expect(replicasOf(src, name)()).To(Equal(int32(0)))
	withoutVisits := func(m map[string]string) map[string]string { delete(m, "visits"); return m }
	Expect(withoutVisits(ownedTree(destinationDataDir(name+"-new")))).To(Equal(withoutVisits(ownedTree(dir))), "the cutover copied what changed")
	expectNoStageLeftovers(name, name+"-new")

	By("the destination app runs on the copy")
	Eventually(func() (string, error) {
		data, err := os.ReadFile(filepath.Join(destinationDataDir(name+"-new"), "visits"))
		return string(data), err
	}).WithTimeout(2*time.Minute).Should(MatchRegexp(`(?s)was here.*was here`), func() string {
		// Built when the wait fails, so that it shows the pods as they were then.
		return "the destination pod appended to the copied file; pods " + podStates(d, name+"-new")
	})
	Expect(d.Get(ctx, client.ObjectKey{Namespace: name + "-new", Name: "data"}, &corev1.PersistentVolumeClaim{})).To(Succeed())

	By("rolling back: the plan's Restores go, and the resource modifiers next to them")
	ofPlan := client.MatchingLabels{"migration.openshift.io/migrated-by-migplan": string(plan.UID)}
	modifiers := func() ([]string, error) {
		list := &corev1.ConfigMapList{}
		err := d.List(ctx, list, client.InNamespace(ns), ofPlan)
		var names []string
		for _, cm := range list.Items {
			names = append(names, cm.Name)
		}
		return names, err
	}
	Expect(modifiers()).To(ContainElement(HaveSuffix("-modifiers")), "the Restores gave the claim its storage class with resource modifiers")
	rb := completed(migrate(name+"-rollback", plan, migv1.MigMigrationSpec{Rollback: true}), 4*time.Minute)
	Expect(rb.Status.Errors).To(BeEmpty())
	Expect(hasCondition(rb, migv1.Succeeded)).To(BeTrue(), "conditions: %v", rb.Status.Conditions)
	restores := &velerov1.RestoreList{}
	Expect(d.List(ctx, restores, client.InNamespace(ns), ofPlan)).To(Succeed())
	Expect(restores.Items).To(BeEmpty(), "the plan's Restores are deleted")
	Expect(modifiers()).To(BeEmpty(), "their resource modifiers are deleted with them")
	Expect(replicasOf(src, name)()).To(Equal(int32(1)), "the source app runs again")
}

// cancelIndirectStage cancels a stage of an indirect plan while its volume's backup runs:
// the migration ends Canceled, and neither cluster keeps a stage pod or a stage label.
func cancelIndirectStage() {
	const name = "indirect-cancel"
	dir := GinkgoT().TempDir()
	// Enough data that the backup is still running when the cancel arrives.
	Expect(fixtures.FillFiles(dir, "file", 24, 16<<20)).To(Succeed())
	appWithRootVolume(name, dir)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, func(p *migv1.MigPlan) { p.Spec.IndirectVolumeMigration = true })
	m := migrate(name+"-stage", plan, migv1.MigMigrationSpec{Stage: true})
	m = waitForPhase(m, "StageBackupCreated")
	Expect(stagePodsOf(env.Source.Client, name)).NotTo(BeEmpty(), "the backup runs from a stage pod")

	d := env.Destination.Client
	Eventually(func() error {
		if err := d.Get(ctx, client.ObjectKeyFromObject(m), m); err != nil {
			return err
		}
		m.Spec.Canceled = true
		return d.Update(ctx, m)
	}).Should(Succeed())
	m = completed(m, 4*time.Minute)
	Expect(hasCondition(m, migv1.Canceled)).To(BeTrue(), "conditions: %v", m.Status.Conditions)
	expectNoStageLeftovers(name, name+"-new")
}

// seeProgress waits until step of the running migration m shows a progress line matching
// pattern, as a user watching it would see it.
func seeProgress(m *migv1.MigMigration, step, pattern string) {
	GinkgoHelper()
	got := &migv1.MigMigration{}
	Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
		s := stepOf(got, step)
		g.Expect(s).NotTo(BeNil(), "pipeline %v", got.Status.Pipeline)
		g.Expect(s.Progress).To(ContainElement(MatchRegexp(pattern)), "phase %s", got.Status.Phase)
	}).WithTimeout(4 * time.Minute).WithPolling(50 * time.Millisecond).Should(Succeed())
}

// expectNoStageLeftovers checks that no stage pod is left in the namespaces and that the
// source's namespace, claim, volume and service accounts no longer carry the stage label.
func expectNoStageLeftovers(source, destination string) {
	GinkgoHelper()
	s := env.Source.Client
	// Cancel deletes the stage pods without waiting for them to go, as MTC's does; they end
	// within their one-second grace period.
	Eventually(func() []string { return stagePodsOf(s, source) }).WithTimeout(30*time.Second).Should(BeEmpty(), "stage pods left on the source")
	Eventually(func() []string { return stagePodsOf(env.Destination.Client, destination) }).WithTimeout(30*time.Second).
		Should(BeEmpty(), "stage pods left on the destination")
	pvc := &corev1.PersistentVolumeClaim{}
	Expect(s.Get(ctx, client.ObjectKey{Namespace: source, Name: "data"}, pvc)).To(Succeed())
	pv := &corev1.PersistentVolume{}
	Expect(s.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv)).To(Succeed())
	ns := &corev1.Namespace{}
	Expect(s.Get(ctx, client.ObjectKey{Name: source}, ns)).To(Succeed())
	for _, obj := range []client.Object{pvc, pv, ns} {
		Expect(obj.GetLabels()).NotTo(HaveKey(stagepod.IncludedInStageBackupLabel), "%T %s", obj, obj.GetName())
	}
	for _, side := range []struct {
		c  client.Client
		ns string
	}{{s, source}, {env.Destination.Client, destination}} {
		accounts := &corev1.ServiceAccountList{}
		Expect(side.c.List(ctx, accounts, client.InNamespace(side.ns), client.HasLabels{stagepod.IncludedInStageBackupLabel})).To(Succeed())
		Expect(accounts.Items).To(BeEmpty(), "service accounts of %s keep the stage label", side.ns)
	}
	// What a stage restore brought to the destination loses the label too.
	claims := &corev1.PersistentVolumeClaimList{}
	Expect(env.Destination.Client.List(ctx, claims, client.InNamespace(destination), client.HasLabels{stagepod.IncludedInStageBackupLabel})).To(Succeed())
	Expect(claims.Items).To(BeEmpty(), "claims of %s keep the stage label", destination)
	restored := &corev1.Namespace{}
	if err := env.Destination.Client.Get(ctx, client.ObjectKey{Name: destination}, restored); err == nil {
		Expect(restored.Labels).NotTo(HaveKey(stagepod.IncludedInStageBackupLabel), "namespace %s", destination)
	}
}

// podStates describes the pods of namespace on c, for failure messages.
func podStates(c client.Client, namespace string) string {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(namespace)); err != nil {
		return err.Error()
	}
	var out []string
	cs, err := kubernetes.NewForConfig(env.Destination.Config)
	if err != nil {
		return err.Error()
	}
	for _, p := range pods.Items {
		log, _ := cs.CoreV1().Pods(namespace).GetLogs(p.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
		out = append(out, fmt.Sprintf("%s %s %+v security %+v log %q", p.Name, p.Status.Phase, p.Status.ContainerStatuses, p.Spec.SecurityContext, log))
	}
	out = append(out, fmt.Sprintf("volume %v", ownedTree(destinationDataDir(namespace))))
	return strings.Join(out, "\n")
}

// stagePodsOf lists the names of the stage pods in namespace of c, terminating ones too.
func stagePodsOf(c client.Client, namespace string) []string {
	GinkgoHelper()
	pods := &corev1.PodList{}
	Expect(c.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{stagepod.StagePodLabel: "true"})).To(Succeed())
	var out []string
	for _, p := range pods.Items {
		out = append(out, p.Name)
	}
	return out
}

// writeOwnedFiles fills dir with what a database's volume holds: private directories and
// files of other users, an executable, a symlink and a few megabytes.
func writeOwnedFiles(dir string) {
	GinkgoHelper()
	Expect(fixtures.FillFiles(dir, "file", 3, 1<<20)).To(Succeed())
	Expect(os.MkdirAll(filepath.Join(dir, "db", "wal"), 0o750)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "db", "data"), []byte(strings.Repeat("row\n", 10000)), 0o640)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "db", "wal", "0001"), []byte("wal\n"), 0o600)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"), 0o755)).To(Succeed())
	Expect(os.Symlink("db/data", filepath.Join(dir, "current"))).To(Succeed())
	for path, owner := range map[string][2]int{"db": {1001, 2002}, "db/data": {1001, 2002}, "db/wal": {1002, 2002}, "db/wal/0001": {1002, 2002}} {
		Expect(os.Lchown(filepath.Join(dir, path), owner[0], owner[1])).To(Succeed())
	}
}

// ownedTree describes each entry under dir: mode, owner and group, and the content's
// checksum or the link's target.
func ownedTree(dir string) map[string]string {
	GinkgoHelper()
	sums := checksums(dir)
	out := map[string]string{}
	Expect(filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.HasPrefix(rel, ".velero") {
			return nil // the restore helper's done files (Velero leaves them)
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%s %d:%d %s", info.Mode(), st.Uid, st.Gid, sums[rel])
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		}
		out[rel] = desc
		return nil
	})).To(Succeed())
	return out
}
