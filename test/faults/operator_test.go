package faults_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// leaderLease is the operator's leader-election Lease (pkg/operator).
const leaderLease = "ferry.migration.openshift.io"

// Moments the killer aims at.
const (
	atEndOfCopy = "end of a copy" // a client pod of a DVM was just deleted: the DVM cleans up
	atRandom    = "random moment during a DVM"
	atCancel    = "cancel"
	atRollback  = "rollback"
)

// kill is one SIGKILL of the operator.
type kill struct {
	moment string
	// what the killer saw: the migrations' itineraries and phases, or the deleted pod.
	what string
}

// killer SIGKILLs the operator at the moments that matter while migrations run: at the end
// of a DVM's copy (a client pod is deleted: the DVM has judged the copy and cleans up), at
// random moments while DVMs run, during a cancel and during a rollback. Each kill waits
// until the operator's successor holds the leader lease again.
type killer struct {
	mu    sync.Mutex
	kills []kill
	rng   *rand.Rand
	// limits per moment.
	limits map[string]int
}

func newKiller() *killer {
	seed := uint64(GinkgoRandomSeed())
	GinkgoWriter.Printf("killer seed %d\n", seed)
	return &killer{rng: rand.New(rand.NewPCG(seed, 6)), //nolint:gosec // timing, not secrets.
		limits: map[string]int{atEndOfCopy: 1, atRandom: 2, atCancel: 1, atRollback: 1}}
}

// at returns the kills made at a moment.
func (k *killer) at(moment string) []kill {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []kill
	for _, x := range k.kills {
		if x.moment == moment {
			out = append(out, x)
		}
	}
	return out
}

func (k *killer) wants(moment string) bool { return len(k.at(moment)) < k.limits[moment] }

// run kills the operator until done is closed.
func (k *killer) run(g Gomega, done <-chan struct{}) {
	pods, stop := k.watchClientPods(g)
	defer func() { stop() }()
	nextRandom := time.Now().Add(time.Duration(k.rng.IntN(8000)) * time.Millisecond)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case ev, ok := <-pods:
			if !ok {
				pods, stop = k.watchClientPods(g)
				continue
			}
			if ev.Type == watch.Deleted && k.wants(atEndOfCopy) {
				pod, _ := ev.Object.(*corev1.Pod)
				k.kill(g, atEndOfCopy, "client pod "+podName(pod)+" deleted; migrations: "+k.phases(g))
				stop()
				pods, stop = k.watchClientPods(g) // events seen while the operator was away are stale
				nextRandom = time.Now().Add(time.Duration(k.rng.IntN(8000)) * time.Millisecond)
			}
		case <-tick.C:
			list := &migv1.MigMigrationList{}
			if err := env.Destination.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
				continue
			}
			moment := ""
			for _, m := range list.Items {
				switch {
				case m.Status.Itinerary == "Cancel" && slices.Contains([]string{"DeleteDirectVolumeMigrationResources", "UnQuiesceSrcApplications"}, m.Status.Phase) && k.wants(atCancel):
					moment = atCancel
				case m.Status.Itinerary == "Rollback" && slices.Contains([]string{"EnsureDestQuiesced", "DeleteMigrated", "EnsureMigratedDeleted", "UnQuiesceSrcApplications"}, m.Status.Phase) && k.wants(atRollback):
					moment = atRollback
				case m.Status.Itinerary == "Final" && m.Status.Phase == "WaitForDirectVolumeMigrationToComplete" && time.Now().After(nextRandom) && k.wants(atRandom):
					moment = atRandom
				}
				if moment != "" {
					break
				}
			}
			if moment == "" {
				continue
			}
			k.kill(g, moment, k.phases(g))
			stop()
			pods, stop = k.watchClientPods(g)
			nextRandom = time.Now().Add(time.Duration(k.rng.IntN(8000)) * time.Millisecond)
		}
	}
}

// watchClientPods watches the rsync client pods of every namespace on the source.
func (k *killer) watchClientPods(g Gomega) (<-chan watch.Event, func()) {
	w, err := env.Source.Clientset.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{
		LabelSelector: transfer.LabelApp + "=" + transfer.AppTransfer + "," + transfer.LabelCreatedForPVC})
	g.Expect(err).NotTo(HaveOccurred())
	return w.ResultChan(), w.Stop
}

// phases describes where every migration and DVM stands.
func (k *killer) phases(g Gomega) string {
	list := &migv1.MigMigrationList{}
	g.Expect(env.Destination.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, m := range list.Items {
		if m.Status.Phase != "Completed" {
			out = append(out, fmt.Sprintf("%s %s/%s", m.Name, m.Status.Itinerary, m.Status.Phase))
		}
	}
	dvms := &migv1.DirectVolumeMigrationList{}
	g.Expect(env.Destination.Client.List(ctx, dvms, client.InNamespace(ns))).To(Succeed())
	for _, d := range dvms.Items {
		if d.Status.Phase != "Completed" {
			out = append(out, fmt.Sprintf("%s %s", d.Name, d.Status.Phase))
		}
	}
	return strings.Join(out, ", ")
}

// kill SIGKILLs the operator and waits until its successor leads.
func (k *killer) kill(g Gomega, moment, what string) {
	holder := leaseHolder(g)
	g.Expect(env.KillOperator()).To(Succeed())
	k.mu.Lock()
	k.kills = append(k.kills, kill{moment: moment, what: what})
	k.mu.Unlock()
	GinkgoWriter.Printf("%s killed the operator at the %s: %s\n", time.Now().Format(time.StampMilli), moment, what)
	g.Expect(env.StartOperator()).To(Succeed())
	g.Eventually(leaseHolder).WithTimeout(time.Minute).ShouldNot(Equal(holder), "the operator's successor leads")
}

// leaseHolder is the holder of the operator's leader lease.
func leaseHolder(g Gomega) string {
	lease := &coordinationv1.Lease{}
	g.Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: leaderLease}, lease)).To(Succeed())
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

func podName(pod *corev1.Pod) string {
	if pod == nil {
		return "?"
	}
	return pod.Namespace + "/" + pod.Name
}

// killedCutovers are the cutovers the killer interrupts: each must complete with its volume
// copied and its application running on the destination only.
func killedCutovers(apps []*app) scenario {
	return func(g Gomega) {
		var ms []*migv1.MigMigration
		for i, a := range apps {
			ms = append(ms, cutover(g, a.name+"-final", plans.get(a.name)))
			if i < len(apps)-1 {
				time.Sleep(3 * time.Second) // their DVMs end at different moments
			}
		}
		for i, a := range apps {
			m := ended(g, ms[i], 5*time.Minute)
			succeeded(g, m)
			a.copied(g)
			a.quiescedOnSource(g)
			a.sourceUnchanged(g)
			a.runsOnDestination(g)
			for _, d := range dvmsOf(g, m) {
				g.Expect(d.Status.Phase).To(Equal("Completed"), "DVM %s", d.Name)
				g.Expect(d.Status.Errors).To(BeEmpty(), "DVM %s", d.Name)
			}
			g.Expect(transferPods(g, env.Source.Client, a.name)).To(BeEmpty(), "no transfer pod is left on the source")
			g.Expect(transferPods(g, env.Destination.Client, a.dest)).To(BeEmpty(), "no transfer pod is left on the destination")
		}
	}
}

// killedCancel cancels a cutover while its volume is copied; the killer interrupts the
// cancel. The migration ends Canceled with the source application running on its data.
func killedCancel(a *app) scenario {
	return func(g Gomega) {
		m := cutover(g, a.name+"-final", plans.get(a.name))
		m = waitFor(g, m, "its volume copy", func(m *migv1.MigMigration) bool {
			return m.Status.Phase == "WaitForDirectVolumeMigrationToComplete" && len(transferPods(g, env.Source.Client, a.name)) > 0
		})
		patch := client.MergeFrom(m.DeepCopy())
		m.Spec.Canceled = true
		g.Expect(env.Destination.Client.Patch(ctx, m, patch)).To(Succeed())
		m = ended(g, m, 4*time.Minute)
		g.Expect(conditions.Find(m.Status.Conditions, migv1.Canceled)).NotTo(BeNil(), "conditions %v", m.Status.Conditions)
		a.runsOnSource(g)
		a.sourceUnchanged(g)
		g.Expect(dvmsOf(g, m)).To(BeEmpty(), "the DVM is gone")
		g.Eventually(func() []string { return transferPods(g, env.Source.Client, a.name) }).Should(BeEmpty(), "no rsync pod is left on the source")
	}
}

// killedRollback rolls back a completed cutover; the killer interrupts the rollback. The
// rollback succeeds: the migrated objects are gone and the source application runs again on
// its unchanged data.
func killedRollback(a *app) scenario {
	return func(g Gomega) {
		rb := ended(g, migrate(g, a.name+"-rollback", plans.get(a.name), migv1.MigMigrationSpec{Rollback: true}), 4*time.Minute)
		succeeded(g, rb)
		a.runsOnSource(g)
		a.sourceUnchanged(g)
		g.Eventually(func() error {
			return env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: a.dest, Name: "web"}, &appsv1.Deployment{})
		}).Should(Satisfy(apierrors.IsNotFound), "the migrated application is gone from the destination")
	}
}
