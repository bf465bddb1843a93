package migration_test

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// crashPoints are the phases of a cutover at which the operator is killed, in itinerary
// order: each waits for something (the plan, Velero, pods) or persists a name before
// creating an object, so an observer sees them.
var crashPoints = []string{
	"WaitForRefresh",
	"EnsureInitialBackup",
	"InitialBackupCreated",
	"EnsureSrcQuiesced",
	"EnsureFinalRestore",
	"FinalRestoreCreated",
}

// killDuringCutover kills the operator at each crash point of a cutover.
func killDuringCutover() {
	{
		app("crash", 2)
		plan := readyPlan("crash", []string{"crash:crash-new"}, nil)
		m := migrate("crash-final", plan, migv1.MigMigrationSpec{QuiescePods: true})

		var killedAt []string
		got := &migv1.MigMigration{}
		deadline := time.Now().Add(4 * time.Minute)
		for got.Status.Phase != "Completed" && time.Now().Before(deadline) {
			Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			phase := got.Status.Phase
			if slices.Contains(crashPoints, phase) && !slices.Contains(killedAt, phase) {
				Expect(env.KillOperator()).To(Succeed())
				killedAt = append(killedAt, phase)
				GinkgoWriter.Printf("killed the operator at %s\n", phase)
				Expect(env.StartOperator()).To(Succeed())
			}
			time.Sleep(10 * time.Millisecond)
		}
		GinkgoWriter.Printf("killed at %v\n", killedAt)
		Expect(len(killedAt)).To(BeNumerically(">=", 5), "killed at %v", killedAt)

		got = completed(m, 3*time.Minute)
		Expect(got.Status.Errors).To(BeEmpty())
		Expect(hasCondition(got, migv1.Succeeded)).To(BeTrue(), "conditions: %v", got.Status.Conditions)
		backups, restores := veleroObjects(got)
		Expect(backups).To(HaveLen(1), "one Backup, however often the operator died")
		Expect(restores).To(HaveLen(1), "one Restore, however often the operator died")
		Expect(got.Status.References).To(HaveLen(2))
		Expect(replicasOf(env.Destination.Client, "crash-new")()).To(Equal(int32(2)))
		Expect(replicasOf(env.Source.Client, "crash")()).To(Equal(int32(0)))
		Expect(exists(env.Destination.Client, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "crash-new", Name: "web-config"}})()).To(BeTrue())
	}
}

// failVelero stops the object store during a cutover, and starts it again afterwards for the
// specs that follow.
func failVelero() {
	{
		app("broken", 2)
		plan := readyPlan("broken", []string{"broken:broken-new"}, nil)
		m := migrate("broken-final", plan, migv1.MigMigrationSpec{QuiescePods: true})
		got := &migv1.MigMigration{}
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), got)).To(Succeed())
			g.Expect(got.Status.Phase).To(BeElementOf("EnsureSrcQuiesced", "EnsureInitialBackupReplicated", "EnsureFinalRestore"))
		}).WithPolling(10 * time.Millisecond).Should(Succeed())
		By("making the replication repository unavailable at " + got.Status.Phase)
		Expect(env.StopS3()).To(Succeed())
		DeferCleanup(env.StartS3)

		got = completed(m, 4*time.Minute)
		Expect(got.Status.Itinerary).To(Equal("Failed"))
		Expect(hasCondition(got, migv1.Failed)).To(BeTrue())
		Expect(got.Status.Errors).To(ContainElement(ContainSubstring("Restore")), "the error names what failed: %v", got.Status.Errors)
		GinkgoWriter.Printf("errors: %v\n", got.Status.Errors)
		Expect(replicasOf(env.Source.Client, "broken")()).To(Equal(int32(2)), "the source app runs again")
	}
}
