package faults_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// Faults of the clusters and services a migration depends on. Each disturbs every
// migration running at the time, so they run one at a time.

// copying waits until the cutover's volume is being copied: its DVM runs a client pod.
func copying(g Gomega, a *app, m *migv1.MigMigration) *migv1.MigMigration {
	return waitFor(g, m, "its volume copy", func(m *migv1.MigMigration) bool {
		return m.Status.Phase == "WaitForDirectVolumeMigrationToComplete" && len(transferPods(g, env.Source.Client, a.name)) > 0
	})
}

// completedCutover checks a cutover that must have succeeded despite the fault.
func completedCutover(g Gomega, a *app, m *migv1.MigMigration) {
	m = ended(g, m, 5*time.Minute)
	succeeded(g, m)
	a.copied(g)
	a.quiescedOnSource(g)
	a.sourceUnchanged(g)
	a.runsOnDestination(g)
}

// sourceAPIServerOutage stops the source cluster's API server for 30 s while the volume is
// copied: the cutover completes once it is back.
func sourceAPIServerOutage(g Gomega) {
	a := apps.get("outage")
	m := copying(g, a, cutover(g, a.name+"-final", plans.get(a.name)))
	By("stopping the source API server for 30 s at " + m.Status.Phase)
	g.Expect(env.Source.StopAPIServer()).To(Succeed())
	time.Sleep(30 * time.Second)
	g.Expect(env.Source.StartAPIServer(ctx)).To(Succeed())
	completedCutover(g, a, m)
}

// rotatedToken rotates the source cluster's token (the old one is revoked) while the volume
// is copied: the cutover completes with the new one.
func rotatedToken(g Gomega) {
	a := apps.get("rotate")
	m := copying(g, a, cutover(g, a.name+"-final", plans.get(a.name)))
	By("rotating the source token at " + m.Status.Phase)
	g.Expect(env.RotateSourceToken(ctx)).To(Succeed())
	completedCutover(g, a, m)
}

// killedVelero kills the destination's Velero server while it restores the application and
// starts a new one 5 s later: the migration ends, either completed or failed naming the
// restore with the source application running again, and no user data changed.
func killedVelero(g Gomega) {
	a := apps.get("velero")
	m := cutover(g, a.name+"-final", plans.get(a.name))
	var restore string
	g.Eventually(func(g Gomega) {
		restores := &velerov1.RestoreList{}
		g.Expect(env.Destination.Client.List(ctx, restores, client.InNamespace(ns),
			client.MatchingLabels{veleroadapter.MigratedByMigMigrationLabel: mustUID(g, m)})).To(Succeed())
		var phases []string
		for _, r := range restores.Items {
			phases = append(phases, r.Name+":"+string(r.Status.Phase))
			if r.Status.Phase == velerov1.RestorePhaseInProgress {
				restore = r.Name
			}
		}
		g.Expect(restore).NotTo(BeEmpty(), "restores %v", phases)
	}).WithTimeout(4 * time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
	By("killing the destination's Velero server while restore " + restore + " runs")
	g.Expect(env.KillVelero(env.Destination)).To(Succeed())
	time.Sleep(5 * time.Second)
	g.Expect(env.StartVelero(ctx, env.Destination)).To(Succeed())

	m = ended(g, m, 5*time.Minute)
	GinkgoWriter.Printf("after Velero was killed: itinerary %s, errors %v\n", m.Status.Itinerary, m.Status.Errors)
	if isSucceeded(m) {
		completedCutover(g, a, m)
		return
	}
	g.Expect(m.Status.Itinerary).To(Equal("Failed"))
	g.Expect(m.Status.Errors).To(ContainElement(ContainSubstring("Restore")), "the error names what failed")
	a.runsOnSource(g)
	a.sourceUnchanged(g)
}

// mustUID reads the migration's UID.
func mustUID(g Gomega, m *migv1.MigMigration) string {
	if m.UID == "" {
		g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), m)).To(Succeed())
	}
	return string(m.UID)
}

// bulk adds n ConfigMaps to the app's namespace, so that its restore takes a while.
func bulk(g Gomega, namespace string, n int) {
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("bulk-%03d", i)},
			Data: map[string]string{"data": fmt.Sprintf("%0512d", i)}}
		g.Expect(env.Source.Client.Create(ctx, cm)).To(Succeed())
	}
}
