package migration_test

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/permissions"
)

// The operator runs as installed: on the host, its ServiceAccount is bound to the destination
// role of config/rbac/remote. An administrator who trims that role (here: Velero Restores may
// no longer be created) gets a plan that says what is missing and a migration that waits
// without touching the source, not one that quiesces the application and then meets a
// Forbidden. Putting the rule back lets the same migration run.
var _ = Describe("The operator under a destination role missing one rule", func() {
	It("blocks the plan naming the permission, and the migration proceeds once it is granted", func() {
		app("rbac", 1)
		plan := readyPlan("rbac", []string{"rbac:rbac-new"}, nil)

		By("removing create on Velero Restores from " + permissions.DestinationRole)
		role := &rbacv1.ClusterRole{}
		Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Name: permissions.DestinationRole}, role)).To(Succeed())
		original := role.DeepCopy()
		trimmed := 0
		for i, rule := range role.Rules {
			if slices.Contains(rule.APIGroups, "velero.io") && slices.Contains(rule.Resources, "restores") && slices.Contains(rule.Verbs, "create") {
				role.Rules[i].Verbs = slices.DeleteFunc(slices.Clone(rule.Verbs), func(v string) bool { return v == "create" })
				trimmed++
			}
		}
		Expect(trimmed).To(BeNumerically(">", 0), "the shipped role grants create on restores")
		Expect(env.Destination.Client.Update(ctx, role)).To(Succeed())
		restore := func() {
			current := &rbacv1.ClusterRole{}
			Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Name: permissions.DestinationRole}, current)).To(Succeed())
			current.Rules = original.Rules
			Expect(env.Destination.Client.Update(ctx, current)).To(Succeed())
		}
		DeferCleanup(restore)

		got := &migv1.MigPlan{}
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), got)).To(Succeed())
			c := conditions.Find(got.Status.Conditions, migv1.DestinationClusterNotPrivileged)
			g.Expect(c).NotTo(BeNil(), "conditions %v", got.Status.Conditions)
			g.Expect(c.Category).To(Equal(migv1.CategoryCritical))
			g.Expect(c.Message).To(ContainSubstring("create restores.velero.io"))
		}).WithTimeout(3*time.Minute).Should(Succeed(), "the host MigCluster re-checks its privileges every minute")

		m := migrate("rbac-final", plan, migv1.MigMigrationSpec{QuiescePods: true})
		blocked := &migv1.MigMigration{}
		Eventually(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), blocked)).To(Succeed())
			g.Expect(conditions.Find(blocked.Status.Conditions, migv1.PlanNotReady)).NotTo(BeNil(), "conditions %v", blocked.Status.Conditions)
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(env.Destination.Client.Get(ctx, client.ObjectKeyFromObject(m), blocked)).To(Succeed())
			g.Expect(blocked.Status.Phase).To(BeElementOf("", "Created"), "a blocked migration does not start")
			g.Expect(replicasOf(env.Source.Client, "rbac")()).To(Equal(int32(1)), "nothing quiesced the source")
		}).WithTimeout(10 * time.Second).Should(Succeed())
		backups, _ := veleroObjects(blocked)
		Expect(backups).To(BeEmpty())

		By("granting the rule again")
		restore()
		done := completed(m, 4*time.Minute)
		Expect(done.Status.Errors).To(BeEmpty())
		Expect(hasCondition(done, migv1.Succeeded)).To(BeTrue(), "conditions %v", done.Status.Conditions)
		Expect(replicasOf(env.Destination.Client, "rbac-new")()).To(Equal(int32(1)))
	})
})
