package faults_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// Faults that touch only their own migration run side by side (see concurrent_test.go),
// together with the preparation of the applications later faults migrate.

// registry holds what a scenario prepared for a later one.
type registry[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

func (r *registry[T]) put(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	r.m[name] = v
}

// get returns what was prepared under name; it panics (failing the spec or scenario) when the
// preparation failed.
func (r *registry[T]) get(name string) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[name]
	if !ok {
		panic("nothing was prepared for " + name + ": its preparation failed")
	}
	return v
}

var (
	apps  registry[*app]
	plans registry[*migv1.MigPlan]
)

// prepare creates an app and its plan for a later fault; cutOver also cuts it over (for a
// rollback).
func prepare(name string, replicas int32, cutOver bool) scenario {
	return func(g Gomega) {
		a := newApp(g, name, name+"-new", replicas)
		plan := a.plan(g, name)
		if cutOver {
			m := ended(g, cutover(g, name+"-final", plan), 4*time.Minute)
			succeeded(g, m)
			a.copied(g)
			a.runsOnDestination(g)
		}
		apps.put(name, a)
		plans.put(name, plan)
	}
}

// lostServerPod deletes the destination's rsync server pod (grace period 0, as a lost node
// would) the moment the client pod is created: the copy must still complete.
func lostServerPod(g Gomega) {
	a := newApp(g, "lost", "lost-new", 1)
	plan := a.plan(g, a.name)
	w, err := env.Source.Clientset.CoreV1().Pods(a.name).Watch(ctx, metav1.ListOptions{LabelSelector: transfer.LabelCreatedForPVC})
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()
	m := cutover(g, a.name+"-final", plan)
	g.Eventually(w.ResultChan()).WithTimeout(3*time.Minute).Should(Receive(HaveField("Type", watch.Added)), "a client pod is created")
	servers := &corev1.PodList{}
	g.Expect(env.Destination.Client.List(ctx, servers, client.InNamespace(a.dest),
		client.MatchingLabels{transfer.LabelApp: transfer.AppTransfer, transfer.LabelPurpose: transfer.PurposeRsync})).To(Succeed())
	g.Expect(servers.Items).To(HaveLen(1), "the rsync server pod runs")
	g.Expect(env.Destination.Client.Delete(ctx, &servers.Items[0], client.GracePeriodSeconds(0))).To(Succeed())

	m = ended(g, m, 4*time.Minute)
	succeeded(g, m)
	a.copied(g)
	a.quiescedOnSource(g)
	a.sourceUnchanged(g)
	a.runsOnDestination(g)
}

// deletedPlan deletes the plan of a cutover while its volume is copied: the migration is
// canceled and goes, then the plan; the source application runs on its unchanged data.
func deletedPlan(g Gomega) {
	a := newApp(g, "doomed", "doomed-new", 2)
	plan := a.plan(g, a.name)
	m := cutover(g, a.name+"-final", plan)
	waitFor(g, m, "its volume copy", func(m *migv1.MigMigration) bool {
		return m.Status.Phase == "WaitForDirectVolumeMigrationToComplete" && len(transferPods(g, env.Source.Client, a.name)) > 0
	})
	g.Expect(env.Destination.Client.Delete(ctx, plan)).To(Succeed())
	g.Eventually(func() error {
		return env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), &migv1.MigMigration{})
	}).WithTimeout(4*time.Minute).ShouldNot(Succeed(), "the migration goes with its plan")
	g.Eventually(func() error {
		return env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), &migv1.MigPlan{})
	}).WithTimeout(2*time.Minute).ShouldNot(Succeed(), "the plan is gone in the end")
	a.runsOnSource(g)
	a.sourceUnchanged(g)
	g.Expect(dvmsOf(g, m)).To(BeEmpty(), "the DVM is gone")
	g.Eventually(func() []string { return transferPods(g, env.Source.Client, a.name) }).Should(BeEmpty(), "no rsync pod is left on the source")
}

// unrelatedVolume is a PVC data of namespace on the destination that no migration created,
// holding someone else's files; it returns its directory.
func unrelatedVolume(g Gomega, namespace string) string {
	d := env.Destination.Client
	g.Expect(d.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
	dir := tempDir(g, namespace+"-unrelated")
	g.Expect(os.WriteFile(filepath.Join(dir, "precious.db"), []byte("someone else's data\n"), 0o644)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "file-00"), []byte("not the source's file-00\n"), 0o644)).To(Succeed())
	pv, pvc := fixtures.BoundVolume(namespace, "data", "pv-"+namespace+"-unrelated", "1Gi")
	pv.Spec.Local.Path = dir
	g.Expect(d.Create(ctx, pv)).To(Succeed())
	g.Expect(d.Create(ctx, pvc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &corev1.PersistentVolumeClaim{}
		g.Expect(d.Get(ctx, client.ObjectKeyFromObject(pvc), got)).To(Succeed())
		g.Expect(got.Status.Phase).To(Equal(corev1.ClaimBound))
	}).WithTimeout(time.Minute).Should(Succeed())
	return dir
}

// existingDestinationPVC cuts over an app whose PVC has a namesake in the destination
// namespace that no migration created: the migration fails without writing to it, and the
// source application runs again.
func existingDestinationPVC(g Gomega) {
	a := newApp(g, "occupied", "occupied-new", 1)
	dir := unrelatedVolume(g, a.dest)
	before := checksums(g, dir)
	plan := a.plan(g, a.name)
	m := ended(g, cutover(g, a.name+"-final", plan), 4*time.Minute)
	g.Expect(m.Status.Itinerary).To(Equal("Failed"), "errors %v", m.Status.Errors)
	g.Expect(m.Status.Errors).To(ContainElement(ContainSubstring(a.dest+"/data")), "the error names the PVC")
	g.Expect(checksums(g, dir)).To(Equal(before), "the unrelated destination PVC is untouched")
	a.runsOnSource(g)
	a.sourceUnchanged(g)
	g.Eventually(func() []string { return transferPods(g, env.Source.Client, a.name) }).Should(BeEmpty(), "no rsync pod is left on the source")
}

// sharedDestination migrates two plans' applications into one destination namespace, each
// with a PVC data: the first cutover copies its volume; the second must fail without
// touching the first's copy, which its application keeps running on.
func sharedDestination(g Gomega) {
	first, second := newApp(g, "duo-a", "duo", 1), newApp(g, "duo-b", "duo", 1)
	planA := first.plan(g, first.name)
	succeeded(g, ended(g, cutover(g, first.name+"-final", planA), 4*time.Minute))
	first.copied(g)
	first.runsOnDestination(g)
	copyDir := first.destinationDir(g)
	copyData, copyVisits := checksums(g, copyDir), readFile(filepath.Join(copyDir, visits))

	// While the first plan is open, the second is refused for sharing its namespace.
	planB := second.newPlan(g, second.name)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(planB), planB)).To(Succeed())
		c := conditions.Find(planB.Status.Conditions, migv1.PlanConflict)
		g.Expect(c).NotTo(BeNil(), "conditions %v", planB.Status.Conditions)
		g.Expect(c.Message).To(ContainSubstring(ns + "/" + first.name))
	}).WithTimeout(time.Minute).Should(Succeed())
	// Closed once its cutover is done, it no longer blocks the second, whose copy must then be
	// refused by the transfer itself.
	closed := planA.DeepCopy()
	closed.Spec.Closed = true
	g.Expect(env.Destination.Client.Patch(ctx, closed, client.MergeFrom(planA))).To(Succeed())
	g.Expect(fixtures.WaitReady(ctx, env.Destination.Client, 2*time.Minute, planB)).To(Succeed())

	m := ended(g, cutover(g, second.name+"-final", planB), 4*time.Minute)
	g.Expect(m.Status.Itinerary).To(Equal("Failed"), "errors %v", m.Status.Errors)
	g.Expect(m.Status.Errors).To(ContainElement(ContainSubstring("duo/data")), "the error names the PVC")
	sameData(g, copyData, checksums(g, copyDir), "the first plan's copy")
	g.Expect(readFile(filepath.Join(copyDir, visits))).To(HavePrefix(copyVisits))
	first.runsOn(g, env.Destination.Client, first.dest)
	second.runsOnSource(g)
	second.sourceUnchanged(g)
}

// blockingQuota cuts over an app whose namespace has a ResourceQuota that admits no pod with
// resource requests (transfer pods request CPU and memory; the app's pods request nothing):
// the migration must say that the quota blocks it, and end once the quota is lifted.
func blockingQuota(g Gomega) {
	a := newApp(g, "quota", "quota-new", 1)
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: a.name, Name: "no-burstable-pods"},
		Spec: corev1.ResourceQuotaSpec{
			Hard:   corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")},
			Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort},
		}}
	g.Expect(env.Source.Client.Create(ctx, quota)).To(Succeed())
	plan := a.plan(g, a.name)
	m := cutover(g, a.name+"-final", plan)
	m = waitFor(g, m, "a condition naming the quota", func(m *migv1.MigMigration) bool {
		for _, c := range m.Status.Conditions {
			if strings.Contains(strings.ToLower(c.Message), "quota") {
				return true
			}
		}
		return m.Status.Phase == "Completed"
	})
	g.Expect(m.Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring(quota.Name))),
		"the migration names the quota that blocks its transfer pods")
	g.Expect(env.Source.Client.Delete(ctx, quota)).To(Succeed())
	m = ended(g, m, 4*time.Minute)
	if isSucceeded(m) {
		succeeded(g, m)
		a.copied(g)
		a.quiescedOnSource(g)
		a.sourceUnchanged(g)
		a.runsOnDestination(g)
		return
	}
	g.Expect(m.Status.Errors).To(ContainElement(ContainSubstring("quota")), "a failed migration says why")
	a.runsOnSource(g)
	a.sourceUnchanged(g)
}
