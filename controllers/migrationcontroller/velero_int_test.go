package migrationcontroller_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/velerodeploy"
)

// veleroDeployment returns Velero's Deployment in the operator's namespace, nil when there is none.
func veleroDeployment() *appsv1.Deployment {
	d := &appsv1.Deployment{}
	err := cp.Client.Get(ctx, client.ObjectKey{Namespace: opNamespace, Name: velerodeploy.Name}, d)
	if apierrors.IsNotFound(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return d
}

func images(d *appsv1.Deployment) []string {
	if d == nil {
		return nil
	}
	return []string{d.Spec.Template.Spec.Containers[0].Image, d.Spec.Template.Spec.InitContainers[0].Image}
}

// The control plane has no kube-controller-manager and no nodes: the Deployment never becomes
// available, so these tests see what the operator applies and reports while it rolls out; the
// e2e suites see Velero run.
var _ = Describe("migration_velero", Ordered, func() {
	mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "migration-controller"}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: velerodeploy.ServiceAccountName}}

	AfterAll(func() {
		Expect(client.IgnoreNotFound(cp.Client.Delete(ctx, mc))).To(Succeed())
		Expect(client.IgnoreNotFound(cp.Client.Delete(ctx, sa))).To(Succeed())
		if d := veleroDeployment(); d != nil {
			Expect(cp.Client.Delete(ctx, d)).To(Succeed())
		}
	})

	It("says to apply config/velero when it is missing, and deploys nothing", func() {
		mc.Spec = migv1.MigrationControllerSpec{MigrationVelero: ptr.To(true)}
		Expect(cp.Client.Create(ctx, mc)).To(Succeed())
		Eventually(condition(mc, migv1.VeleroNotReady)).Should(And(HaveField("Category", migv1.CategoryWarn),
			HaveField("Reason", migv1.NotInstallable), HaveField("Message", ContainSubstring("apply config/velero"))))
		Expect(veleroDeployment()).To(BeNil())
	})

	It("deploys Velero's own Deployment once config/velero's ServiceAccount exists", func() {
		Expect(cp.Client.Create(ctx, sa)).To(Succeed())
		Eventually(veleroDeployment, "40s").ShouldNot(BeNil())
		d := veleroDeployment()
		Expect(images(d)).To(Equal([]string{velerodeploy.DefaultImage, velerodeploy.DefaultAWSPluginImage}))
		Expect(d.Labels).To(HaveKeyWithValue(velerodeploy.ManagedByLabel, velerodeploy.ManagedBy))
		Expect(metav1.GetControllerOf(d)).To(And(Not(BeNil()), HaveField("Kind", "MigrationController"), HaveField("Name", mc.Name)))
		Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal(velerodeploy.ServiceAccountName))
		Eventually(condition(mc, migv1.VeleroNotReady)).Should(And(HaveField("Reason", migv1.Deploying),
			HaveField("Message", ContainSubstring("0 available"))))
	})

	It("upgrades live when the images change, keeping what others set", func() {
		d := veleroDeployment()
		d.Annotations = map[string]string{"example.com/owner": "admin"}
		Expect(cp.Client.Update(ctx, d)).To(Succeed())
		Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(mc), mc)).To(Succeed())
		mc.Spec.VeleroImageFqin = "registry.local:5000/velero/velero:v1.18.3-ferry"
		mc.Spec.VeleroAWSPluginFqin = "registry.local:5000/velero/velero-plugin-for-aws:v1.14.3-ferry"
		Expect(cp.Client.Update(ctx, mc)).To(Succeed())
		Eventually(func() []string { return images(veleroDeployment()) }).Should(Equal([]string{
			"registry.local:5000/velero/velero:v1.18.3-ferry", "registry.local:5000/velero/velero-plugin-for-aws:v1.14.3-ferry"}))
		Expect(veleroDeployment().Annotations).To(HaveKeyWithValue("example.com/owner", "admin"))
		Eventually(condition(mc, migv1.VeleroNotReady)).Should(HaveField("Message", ContainSubstring("v1.18.3-ferry")))
	})

	It("removes its Velero when migration_velero turns off", func() {
		Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(mc), mc)).To(Succeed())
		mc.Spec.MigrationVelero = ptr.To(false)
		Expect(cp.Client.Update(ctx, mc)).To(Succeed())
		Eventually(veleroDeployment).Should(BeNil())
		Eventually(condition(mc, migv1.VeleroNotReady)).Should(BeNil())
	})

	It("leaves a Velero it did not deploy alone, and says so", func() {
		other, err := velerodeploy.Deployment(velerodeploy.Spec{Namespace: opNamespace, Image: "velero/velero:v1.17.0"})
		Expect(err).NotTo(HaveOccurred())
		delete(other.Labels, velerodeploy.ManagedByLabel)
		Expect(cp.Client.Create(ctx, other)).To(Succeed())
		Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(mc), mc)).To(Succeed())
		mc.Spec.MigrationVelero = ptr.To(true)
		Expect(cp.Client.Update(ctx, mc)).To(Succeed())
		Eventually(condition(mc, migv1.VeleroNotReady)).Should(And(HaveField("Reason", migv1.NotManaged),
			HaveField("Message", ContainSubstring("not deployed by Ferry"))))
		Expect(images(veleroDeployment())[0]).To(Equal("velero/velero:v1.17.0"))

		By("turning migration_velero off: the other Velero stays")
		Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(mc), mc)).To(Succeed())
		mc.Spec.MigrationVelero = ptr.To(false)
		Expect(cp.Client.Update(ctx, mc)).To(Succeed())
		Eventually(condition(mc, migv1.VeleroNotReady)).Should(BeNil())
		Consistently(veleroDeployment, "2s").ShouldNot(BeNil())
	})
})
