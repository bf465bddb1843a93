package migration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// rollbackKeepsPreexistingObjects migrates into a destination namespace that already holds
// objects of its own, then rolls back: the rollback deletes what the migration restored and
// nothing that was there before, not even objects of the same name as migrated ones (a
// ConfigMap Velero skipped as existing, a ServiceAccount whose labels Velero merged).
func rollbackKeepsPreexistingObjects() {
	const name, dest = "tenant", "tenant-new"
	app(name, 1)
	src, d := env.Source.Client, env.Destination.Client
	Expect(src.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "builder"}})).To(Succeed())

	By("giving the destination namespace objects of its own")
	Expect(d.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dest}})).To(Succeed())
	own := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: dest, Name: "local-settings"}, Data: map[string]string{"mine": "yes"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: dest, Name: "web-config"}, Data: map[string]string{"greeting": "the destination's own"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: dest, Name: "builder"}},
	}
	uids := map[string]types.UID{}
	for _, obj := range own {
		Expect(d.Create(ctx, obj)).To(Succeed())
		uids[obj.GetName()] = obj.GetUID()
	}

	plan := readyPlan(name, []string{name + ":" + dest}, nil)
	final := completed(migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true}), 3*time.Minute)
	Expect(final.Status.Errors).To(BeEmpty())
	Expect(replicasOf(d, dest)()).To(Equal(int32(1)), "the application was migrated")
	cm := &corev1.ConfigMap{}
	Expect(d.Get(ctx, client.ObjectKey{Namespace: dest, Name: "web-config"}, cm)).To(Succeed())
	Expect(cm.Data).To(HaveKeyWithValue("greeting", "the destination's own"), "Velero skipped the existing ConfigMap")

	rb := completed(migrate(name+"-rollback", plan, migv1.MigMigrationSpec{Rollback: true}), 3*time.Minute)
	Expect(rb.Status.Errors).To(BeEmpty())
	Expect(hasCondition(rb, migv1.Succeeded)).To(BeTrue(), "conditions: %v", rb.Status.Conditions)
	Eventually(exists(d, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: dest, Name: "web"}})).Should(BeFalse(),
		"what the migration restored is deleted")
	Expect(replicasOf(src, name)()).To(Equal(int32(1)), "the source app runs again")

	for _, obj := range own {
		key := client.ObjectKeyFromObject(obj)
		Expect(d.Get(ctx, key, obj)).To(Succeed(), "%T %s, there before the migration, was deleted", obj, key)
		Expect(obj.GetUID()).To(Equal(uids[obj.GetName()]), "%T %s was deleted and created again", obj, key)
		Expect(obj.GetDeletionTimestamp().IsZero()).To(BeTrue(), "%T %s is being deleted", obj, key)
	}
	Expect(d.Get(ctx, client.ObjectKey{Namespace: dest, Name: "web-config"}, cm)).To(Succeed())
	Expect(cm.Data).To(HaveKeyWithValue("greeting", "the destination's own"))
}
