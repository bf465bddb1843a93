package migration_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// fastClass is the storage class a conversion moves volumes onto: the host-path provisioner,
// like "standard", under another name.
const fastClass = "fast"

// convertStorageThenRollBack converts the storage of a running app within the host cluster
// (a state migration of a plan whose source and destination are the host, namespace mapped
// to itself): a Deployment's claim and a StatefulSet's template claim are copied onto class
// "fast" into "-mig-<suffix>" claims, the workloads are pointed at them and run again, though
// the operator is killed while the StatefulSet is recreated. A Job that mounts the
// Deployment's claim cannot be changed: the conversion leaves it as is and says so in a
// warning. The rollback points the workloads back at the original claims and deletes the
// copies.
func convertStorageThenRollBack() {
	const name = "convert"
	host := env.Destination.Client
	webDir := volumeApp(host, name)
	report := claimJob(name, "report", "data")
	Expect(host.Create(ctx, report)).To(Succeed())
	dbDir := statefulApp(host, name, "db", "pgdata")
	dbClaim := "pgdata-db-0"
	webBefore, dbBefore := checksums(webDir), checksums(dbDir)

	plan := conversionPlan(name)
	suffix := ptr.Deref(plan.Status.Suffix, "")
	Expect(suffix).To(HaveLen(4))
	webCopy, dbTemplate, dbCopy := "data-mig-"+suffix, "pgdata-mig-"+suffix, "pgdata-mig-"+suffix+"-db-0"
	Expect(plan.Spec.PersistentVolumes).To(ConsistOf(
		HaveField("PVC.Name", "data:"+webCopy),
		HaveField("PVC.Name", dbClaim+":"+dbCopy)), "the plan names the new claims, the StatefulSet's by its renamed template")

	m := migrate(name+"-convert", plan, migv1.MigMigrationSpec{MigrateState: true, QuiescePods: true, RunAsRoot: ptr.To(true)})
	By("killing the operator while the StatefulSet is being recreated: only its temporary copy may exist at that moment")
	Eventually(exists(host, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "db-new"}})).
		WithTimeout(4 * time.Minute).WithPolling(20 * time.Millisecond).Should(BeTrue())
	Expect(env.KillOperator()).To(Succeed())
	Expect(env.StartOperator()).To(Succeed())
	conversion := completed(m, 5*time.Minute)
	Expect(conversion.Status.Errors).To(BeEmpty())
	Expect(hasCondition(conversion, migv1.SucceededWithWarnings)).To(BeTrue(), "conditions: %v", conversion.Status.Conditions)
	kept := conditions.Find(conversion.Status.Conditions, migv1.WorkloadsKeepOldPVCs)
	Expect(kept).NotTo(BeNil(), "conditions: %v", conversion.Status.Conditions)
	Expect(kept.Message).To(ContainSubstring("Job "+name+"/report"), "the warning names the Job left on the old claim")
	Expect(kept.Message).To(ContainSubstring("data → " + webCopy))
	Expect(host.Get(ctx, client.ObjectKeyFromObject(report), report)).To(Succeed())
	Expect(report.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName).To(Equal("data"), "the Job is left as it was")
	Expect(stepOf(conversion, "Cleanup").Progress).To(ContainElements(
		"Deployment "+name+"/web: "+webCopy, "StatefulSet "+name+"/db: template "+dbTemplate))

	By("the workloads run on the copies, on the new class, with the same data")
	for claim, dir := range map[string]string{webCopy: webDir, dbCopy: dbDir} {
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(host.Get(ctx, client.ObjectKey{Namespace: name, Name: claim}, pvc)).To(Succeed())
		Expect(ptr.Deref(pvc.Spec.StorageClassName, "")).To(Equal(fastClass), "claim %s", claim)
		copyDir, err := fixtures.VolumeDir(ctx, host, name, claim)
		Expect(err).NotTo(HaveOccurred())
		Expect(checksums(copyDir)).To(Equal(checksums(dir)), "claim %s holds the original's files", claim)
	}
	Expect(mountedClaims(host, name)).To(Equal(map[string]string{"web": webCopy, "db": dbCopy}))
	set := &appsv1.StatefulSet{}
	Expect(host.Get(ctx, client.ObjectKey{Namespace: name, Name: "db"}, set)).To(Succeed())
	Expect(set.Spec.VolumeClaimTemplates).To(ConsistOf(HaveField("Name", dbTemplate)))
	Expect(set.Spec.Template.Spec.Containers[0].VolumeMounts).To(ConsistOf(HaveField("Name", dbTemplate)))
	Expect(exists(host, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "db-new"}})()).To(BeFalse(),
		"the temporary StatefulSet is gone")
	for _, claim := range []string{"data", dbClaim} {
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(host.Get(ctx, client.ObjectKey{Namespace: name, Name: claim}, pvc)).To(Succeed())
		Expect(pvc.Labels).To(HaveKeyWithValue(migv1.SourceForDirectVolumeMigrationLabel, string(plan.UID)), "claim %s", claim)
	}

	By("rolling back: the workloads mount the original claims again, the copies go")
	rb := completed(migrate(name+"-rollback", plan, migv1.MigMigrationSpec{Rollback: true}), 4*time.Minute)
	Expect(rb.Status.Errors).To(BeEmpty())
	Expect(hasCondition(rb, migv1.Succeeded)).To(BeTrue(), "conditions: %v", rb.Status.Conditions)
	Expect(mountedClaims(host, name)).To(Equal(map[string]string{"web": "data", "db": dbClaim}))
	Expect(host.Get(ctx, client.ObjectKey{Namespace: name, Name: "db"}, set)).To(Succeed())
	Expect(set.Spec.VolumeClaimTemplates).To(ConsistOf(HaveField("Name", "pgdata")))
	for _, claim := range []string{webCopy, dbCopy} {
		Eventually(exists(host, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: claim}})).
			WithTimeout(2*time.Minute).Should(BeFalse(), "the copy %s is deleted", claim)
	}
	for _, claim := range []string{"data", dbClaim} {
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(host.Get(ctx, client.ObjectKey{Namespace: name, Name: claim}, pvc)).To(Succeed())
		Expect(pvc.Labels).NotTo(HaveKey(migv1.SourceForDirectVolumeMigrationLabel), "claim %s", claim)
	}
	Expect(checksums(webDir)).To(Equal(webBefore), "the original data stays")
	Expect(checksums(dbDir)).To(Equal(dbBefore), "the original data stays")
}

// cancelConversionDuringTheSwap cancels a storage conversion while its StatefulSet is being
// recreated: the migration ends Canceled with the StatefulSet there again, running, on data
// identical to the original's, and no temporary copy left.
func cancelConversionDuringTheSwap() {
	const name = "convert-cancel"
	host := env.Destination.Client
	volumeApp(host, name)
	dbDir := statefulApp(host, name, "db", "pgdata")
	dbBefore := checksums(dbDir)
	plan := conversionPlan(name)

	m := migrate(name+"-convert", plan, migv1.MigMigrationSpec{MigrateState: true, QuiescePods: true, RunAsRoot: ptr.To(true)})
	Eventually(exists(host, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "db-new"}})).
		WithTimeout(4 * time.Minute).WithPolling(20 * time.Millisecond).Should(BeTrue())
	cancelPatch := client.MergeFrom(m.DeepCopy())
	m.Spec.Canceled = true
	Expect(host.Patch(ctx, m, cancelPatch)).To(Succeed())
	got := completed(m, 3*time.Minute)
	Expect(hasCondition(got, migv1.Canceled)).To(BeTrue(), "conditions: %v", got.Status.Conditions)

	claims := mountedClaims(host, name)
	Expect(exists(host, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "db-new"}})()).To(BeFalse(),
		"no temporary StatefulSet is left")
	dir, err := fixtures.VolumeDir(ctx, host, name, claims["db"])
	Expect(err).NotTo(HaveOccurred())
	Expect(checksums(dir)).To(Equal(dbBefore), "the StatefulSet runs on %s, which holds the original's data", claims["db"])
}

// claimJob returns a suspended Job of namespace ns that mounts claim: a workload whose pod
// template cannot change.
func claimJob(ns, name, claim string) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: batchv1.JobSpec{
		Suspend: ptr.To(true),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "report", Image: "busybox", Command: []string{"true"},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}},
		}},
	}}
}

// createFastClass creates storage class "fast" on c, unless it exists.
func createFastClass(c client.Client) {
	GinkgoHelper()
	Expect(client.IgnoreAlreadyExists(c.Create(ctx, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: fastClass},
		Provisioner: "kubernetes.io/host-path"}))).To(Succeed())
}

// conversionPlan creates a storage conversion plan of namespace name on the host, without a
// MigStorage (a conversion copies within the cluster), selects class "fast" for every claim
// and waits until the plan is Ready again.
func conversionPlan(name string) *migv1.MigPlan {
	GinkgoHelper()
	host := env.Destination.Client
	createFastClass(host)
	plan := readyPlan(name, []string{name}, func(p *migv1.MigPlan) {
		p.Spec.SrcMigClusterRef = fixtures.Ref(ns, fixtures.HostCluster)
		p.Spec.MigStorageRef = nil
	})
	Expect(conditionReason(plan, migv1.MigrationTypeIdentified)).To(Equal(migv1.StorageConversionPlan))
	patch := client.MergeFrom(plan.DeepCopy())
	for i := range plan.Spec.PersistentVolumes {
		plan.Spec.PersistentVolumes[i].Selection.StorageClass = fastClass
	}
	Expect(host.Patch(ctx, plan, patch)).To(Succeed())
	Expect(fixtures.WaitReady(ctx, host, time.Minute, plan)).To(Succeed())
	return plan
}

// statefulApp creates StatefulSet set in namespace ns with one replica and claim template
// tpl, its claim pre-bound to a local PV over a fresh directory holding a few files, waits
// until it runs, and returns the directory.
func statefulApp(c client.Client, ns, set, tpl string) string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "table"), []byte("id,name\n1,ferry\n"), 0o640)).To(Succeed())
	Expect(os.MkdirAll(filepath.Join(dir, "wal"), 0o700)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "wal", "0001"), []byte("commit 1\n"), 0o600)).To(Succeed())
	claim := tpl + "-" + set + "-0"
	pv, _ := fixtures.BoundVolume(ns, claim, "pv-"+ns+"-"+set, "1Gi")
	pv.Spec.Local.Path = dir
	Expect(c.Create(ctx, pv)).To(Succeed())
	labels := map[string]string{"app": set}
	Expect(c.Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: set, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](1),
			ServiceName: set,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](5),
				Containers: []corev1.Container{{Name: "db", Image: "registry.example/db:1", Command: serve,
					VolumeMounts: []corev1.VolumeMount{{Name: tpl, MountPath: "/var/lib/db"}}}},
			}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: tpl},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: ptr.To(fixtures.StorageClass),
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				}}},
		}})).To(Succeed())
	Eventually(func(g Gomega) {
		s := &appsv1.StatefulSet{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: set}, s)).To(Succeed())
		g.Expect(s.Status.ReadyReplicas).To(Equal(int32(1)))
	}).WithTimeout(2 * time.Minute).Should(Succeed())
	return dir
}

// mountedClaims waits until Deployment web and StatefulSet db of namespace ns each run one
// ready pod of their current template, and returns the claim each pod mounts, by app label.
func mountedClaims(c client.Client, ns string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, d)).To(Succeed())
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		g.Expect(d.Status.UpdatedReplicas).To(Equal(int32(1)))
		g.Expect(d.Status.ReadyReplicas).To(Equal(int32(1)))
		g.Expect(d.Status.Replicas).To(Equal(int32(1)))
		s := &appsv1.StatefulSet{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, s)).To(Succeed())
		g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
		g.Expect(s.Status.ReadyReplicas).To(Equal(int32(1)))
		g.Expect(s.Status.CurrentRevision).To(Equal(s.Status.UpdateRevision))
		pods := &corev1.PodList{}
		g.Expect(c.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
		clear(out)
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
				continue
			}
			for _, v := range p.Spec.Volumes {
				if v.PersistentVolumeClaim != nil {
					g.Expect(out).NotTo(HaveKey(p.Labels["app"]), "one running pod per app")
					out[p.Labels["app"]] = v.PersistentVolumeClaim.ClaimName
				}
			}
		}
		g.Expect(out).To(HaveLen(2), "pods %s", podStates(c, ns))
	}).WithTimeout(2 * time.Minute).Should(Succeed())
	return out
}

// conditionReason returns the reason of the plan's condition of type t, "" without it.
func conditionReason(plan *migv1.MigPlan, t string) string {
	for _, c := range plan.Status.Conditions {
		if c.Type == t {
			return c.Reason
		}
	}
	return ""
}
