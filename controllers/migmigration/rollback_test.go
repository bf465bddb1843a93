package migmigration_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/controllers/migmigration"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

var _ = Describe("A rollback", func() {
	It("deletes only what the plan's restores created in the plan's namespaces", func() {
		c := host.Client
		const restoreName = "rb-final-restore"
		for _, n := range []string{"rb-new", "rb-other"} {
			Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})).To(Succeed())
		}
		restored := map[string]string{velerov1.RestoreNameLabel: restoreName}
		By("an object that existed before the restore, to which Velero added its restore-name label (as it does merging a ServiceAccount)")
		before := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "rb-new", Name: "pre-existing", Labels: restored}}
		Expect(c.Create(ctx, before)).To(Succeed())
		time.Sleep(1100 * time.Millisecond) // creation times have a resolution of one second

		restore := &velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: restoreName}}
		Expect(c.Create(ctx, restore)).To(Succeed())
		created := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "rb-new", Name: "restored", Labels: restored}}
		Expect(c.Create(ctx, created)).To(Succeed())
		pv := func(name, claimNS string) *corev1.PersistentVolume {
			return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: restored}, Spec: corev1.PersistentVolumeSpec{
				Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
				ClaimRef:               &corev1.ObjectReference{Namespace: claimNS, Name: "data"},
			}}
		}
		mine, elsewhere := pv("rb-pv-mine", "rb-new"), pv("rb-pv-elsewhere", "rb-other")
		Expect(c.Create(ctx, mine)).To(Succeed())
		Expect(c.Create(ctx, elsewhere)).To(Succeed())

		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "rb", UID: "plan-rb"},
			Spec: migv1.MigPlanSpec{Namespaces: []string{"rb:rb-new"}}}
		m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "rb-final", UID: "mig-rb"}}
		Expect(migmigration.LabelRestored(ctx, c, host.Config, plan, m, restore)).To(Succeed())
		Expect(migmigration.DeleteMigrated(ctx, c, host.Config, plan, m)).To(Succeed())

		deleted := func(obj client.Object) bool {
			err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			return client.IgnoreNotFound(err) == nil && (err != nil || !obj.GetDeletionTimestamp().IsZero())
		}
		Expect(deleted(created)).To(BeTrue(), "what the restore created is deleted")
		Expect(deleted(mine)).To(BeTrue(), "the restored PV bound in the plan's namespace is deleted")
		Expect(deleted(before)).To(BeFalse(), "what existed before the restore stays")
		Expect(before.Labels).NotTo(HaveKey("migration.openshift.io/migrated-by-migplan"))
		Expect(deleted(elsewhere)).To(BeFalse(), "a PV bound to a claim of another namespace stays")
	})
})

var _ = Describe("A rollback on a cluster where ferry-rollback was narrowed", func() {
	It("labels and deletes what it may, and warns naming the objects it leaves in place", func() {
		admin := host.Client
		const restoreName = "narrow-final-restore"
		Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "narrow-new"}})).To(Succeed())
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "narrow-rollback"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets", "persistentvolumes"}, Verbs: []string{"get", "list", "patch", "delete"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}},
		}}
		Expect(admin.Create(ctx, role)).To(Succeed())
		token, err := host.MintToken(ctx, opNamespace, "narrow-operator", role.Name)
		Expect(err).NotTo(HaveOccurred())
		cfg := rest.AnonymousClientConfig(host.Config)
		cfg.BearerToken = token
		narrow, err := client.New(cfg, client.Options{Scheme: admin.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		restore := &velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: restoreName}}
		Expect(admin.Create(ctx, restore)).To(Succeed())
		restored := map[string]string{velerov1.RestoreNameLabel: restoreName}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "narrow-new", Name: "restored", Labels: restored}}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "narrow-new", Name: "restored", Labels: restored}}
		Expect(admin.Create(ctx, secret)).To(Succeed())
		Expect(admin.Create(ctx, cm)).To(Succeed())

		plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "narrow", UID: "plan-narrow"},
			Spec: migv1.MigPlanSpec{Namespaces: []string{"narrow:narrow-new"}}}
		m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "narrow-final", UID: "mig-narrow"}}
		Expect(migmigration.LabelRestored(ctx, narrow, cfg, plan, m, restore)).To(Succeed())
		warning := conditions.Find(m.Status.Conditions, migv1.RestoredObjectsNotLabelled)
		Expect(warning).NotTo(BeNil(), "conditions: %v", m.Status.Conditions)
		Expect(warning.Message).To(And(ContainSubstring("label 1 restored objects"), ContainSubstring("ConfigMap narrow-new/restored"),
			ContainSubstring("ferry-rollback")))

		Expect(migmigration.DeleteMigrated(ctx, narrow, cfg, plan, m)).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(admin.Get(ctx, client.ObjectKeyFromObject(secret), secret)) }).Should(BeTrue(),
			"the Secret the restore created is deleted")
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(cm), cm)).To(Succeed(), "the ConfigMap it may not touch stays")
		Expect(cm.Labels).NotTo(HaveKey("migration.openshift.io/migrated-by-migplan"))
	})
})
