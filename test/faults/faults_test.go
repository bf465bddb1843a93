package faults_test

import (
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Faults", Ordered, func() {
	Context("that touch only their own migration, side by side", Ordered, func() {
		var r results
		BeforeAll(func() {
			r = concurrently(map[string]scenario{
				"server pod":    lostServerPod,
				"plan deleted":  deletedPlan,
				"existing PVC":  existingDestinationPVC,
				"shared":        sharedDestination,
				"quota":         blockingQuota,
				"kill-a":        prepare("kill-a", 1, false),
				"kill-b":        prepare("kill-b", 2, false),
				"kill-c":        prepare("kill-c", 1, false),
				"kill-cancel":   prepare("kill-cancel", 2, false),
				"kill-rollback": prepare("kill-rollback", 2, true),
				"outage":        prepare("outage", 1, false),
				"rotate":        prepare("rotate", 1, false),
				"velero":        func(g Gomega) { prepare("velero", 1, false)(g); bulk(g, "velero", 300) },
			})
		})
		It("completes a cutover whose rsync server pod is lost while the client connects", func() { r.check("server pod") })
		It("cancels a cutover whose plan is deleted while its volume is copied, then lets both go", func() { r.check("plan deleted") })
		It("refuses to copy into a destination PVC no migration created, and leaves it as it was", func() { r.check("existing PVC") })
		It("refuses to copy a second plan's volume over the first's in a shared destination namespace", func() { r.check("shared") })
		It("says which ResourceQuota blocks its transfer pods, and ends once it is lifted", func() { r.check("quota") })
		It("prepared the applications of the faults that follow", func() {
			for _, name := range []string{"kill-a", "kill-b", "kill-c", "kill-cancel", "kill-rollback", "outage", "rotate", "velero"} {
				r.check(name)
			}
		})
	})

	Context("the operator SIGKILLed", Ordered, func() {
		var r results
		var k *killer
		BeforeAll(func() {
			k = newKiller()
			done := make(chan struct{})
			var killed results
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer GinkgoRecover()
				killed = concurrently(map[string]scenario{"killer": func(g Gomega) { k.run(g, done) }})
			}()
			r = concurrently(map[string]scenario{
				"transfers": killedCutovers([]*app{apps.get("kill-a"), apps.get("kill-b"), apps.get("kill-c")}),
				"cancel":    killedCancel(apps.get("kill-cancel")),
				"rollback":  killedRollback(apps.get("kill-rollback")),
			})
			close(done)
			wg.Wait()
			r["killer"] = killed["killer"]
			for _, x := range k.kills {
				GinkgoWriter.Printf("killed at the %s: %s\n", x.moment, x.what)
			}
		})
		It("at random moments during volume transfers and at the end of a copy, completes every cutover", func() {
			r.check("killer")
			r.check("transfers")
			Expect(k.at(atEndOfCopy)).NotTo(BeEmpty(), "the operator was killed at the end of a copy")
			Expect(k.at(atRandom)).NotTo(BeEmpty(), "the operator was killed during a transfer")
		})
		It("during a cancel, ends the migration Canceled with the source application running", func() {
			r.check("cancel")
			Expect(k.at(atCancel)).NotTo(BeEmpty(), "the operator was killed during the cancel")
		})
		It("during a rollback, rolls back", func() {
			r.check("rollback")
			Expect(k.at(atRollback)).NotTo(BeEmpty(), "the operator was killed during the rollback")
		})
	})

	It("completes a cutover whose source API server stops for 30 s while its volume is copied", func() { sourceAPIServerOutage(Default) })

	It("completes a cutover whose source token is rotated while its volume is copied", func() { rotatedToken(Default) })

	It("ends a cutover whose Velero server is killed mid-restore in a clear state", func() { killedVelero(Default) })
})
