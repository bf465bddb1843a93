package migplan_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
)

// sourceApp creates namespace ns on the source with one PVC per name, each bound to its own
// local PV of storage class "standard", and a pod (it stays Pending: no kubelet) mounting
// them all. It returns the PV names by PVC name.
func sourceApp(ns string, claims ...string) map[string]string {
	GinkgoHelper()
	create(source, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	pvNames := map[string]string{}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}}}
	for _, claim := range claims {
		pv := fmt.Sprintf("pv-%s-%s", ns, claim)
		pvNames[claim] = pv
		pvObj, pvcObj := fixtures.BoundVolume(ns, claim, pv, "1Gi")
		create(source, pvObj)
		create(source, pvcObj)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: claim,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
	create(source, pod)
	for claim := range pvNames {
		Eventually(func() corev1.PersistentVolumeClaimPhase {
			pvc := &corev1.PersistentVolumeClaim{}
			_ = source.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: claim}, pvc)
			return pvc.Status.Phase
		}, 30*time.Second).Should(Equal(corev1.ClaimBound), "kube-controller-manager binds %s/%s", ns, claim)
	}
	return pvNames
}

func newPlan(name string, namespaces ...string) *migv1.MigPlan {
	p := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: name}, Spec: migv1.MigPlanSpec{
		Namespaces:        namespaces,
		SrcMigClusterRef:  &corev1.ObjectReference{Namespace: opNamespace, Name: "source"},
		DestMigClusterRef: &corev1.ObjectReference{Namespace: opNamespace, Name: "host"},
		MigStorageRef:     &corev1.ObjectReference{Namespace: opNamespace, Name: "storage"},
	}}
	create(destination, p)
	return p
}

func getPlan(p *migv1.MigPlan) *migv1.MigPlan {
	got := &migv1.MigPlan{}
	Expect(destination.Client.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
	return got
}

// planCondition reads one condition of the plan.
func planCondition(p *migv1.MigPlan, conditionType string) func() *migv1.Condition {
	return func() *migv1.Condition {
		got := &migv1.MigPlan{}
		if err := destination.Client.Get(ctx, client.ObjectKeyFromObject(p), got); err != nil {
			return nil
		}
		return conditions.Find(got.Status.Conditions, conditionType)
	}
}

var beTrue = And(Not(BeNil()), HaveField("Status", migv1.True))

// updatePlan applies mutate to the latest version of the plan, retrying on conflicts.
func updatePlan(p *migv1.MigPlan, mutate func(*migv1.MigPlan)) {
	GinkgoHelper()
	Eventually(func() error {
		got := getPlan(p)
		mutate(got)
		return destination.Client.Update(ctx, got)
	}).Should(Succeed())
}

// installCRD installs the namespaced custom resource <plural>.example.com (version v1) on the
// cluster and waits until discovery serves it.
func installCRD(cp *controlplane.ControlPlane, kind, plural string) {
	GinkgoHelper()
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + ".example.com"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Scope: apiextv1.NamespaceScoped,
			Names: apiextv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
			Versions: []apiextv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(apiextv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	create(cp, u)
	Eventually(func() ([]string, error) {
		var names []string
		_, lists, err := cp.Clientset.Discovery().ServerGroupsAndResources()
		for _, l := range lists {
			if l.GroupVersion == "example.com/v1" {
				for _, r := range l.APIResources {
					names = append(names, r.Name)
				}
			}
		}
		return names, err
	}, 30*time.Second).Should(ContainElement(plural), "%s serves %s.example.com", cp.Name, plural)
}

// createCustom creates an example.com/v1 custom resource of the kind in the namespace.
func createCustom(cp *controlplane.ControlPlane, namespace, kind, name string) {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: kind})
	u.SetNamespace(namespace)
	u.SetName(name)
	create(cp, u)
}

func location(cp *controlplane.ControlPlane) func() error {
	return func() error {
		return cp.Client.Get(ctx, client.ObjectKey{Namespace: opNamespace, Name: "storage"}, &velerov1.BackupStorageLocation{})
	}
}

var _ = Describe("MigPlan", Ordered, func() {
	var pvs map[string]string
	var plan *migv1.MigPlan

	BeforeAll(func() {
		pvs = sourceApp("shop", "data", "logs")
		plan = newPlan("shop", "shop:shop-new")
	})

	It("becomes Ready with its volumes discovered and Velero storage on both clusters", func() {
		Eventually(planCondition(plan, migv1.Ready), time.Minute).Should(beTrue)
		got := getPlan(plan)
		Expect(got.Spec.PersistentVolumes).To(HaveLen(2))
		for _, pv := range got.Spec.PersistentVolumes {
			Expect(pv.Name).To(BeElementOf(pvs["data"], pvs["logs"]))
			Expect(pv.PVC.Namespace).To(Equal("shop"))
			Expect(pv.Selection.Action).To(Equal(migv1.PvCopyAction))
			Expect(pv.Selection.CopyMethod).To(Equal(migv1.PvFilesystemCopyMethod))
			Expect(pv.Selection.StorageClass).To(Equal("standard"))
			Expect(pv.PVC.HasReference).To(BeTrue(), "the app pod mounts it")
		}
		Expect(got.Status.DestStorageClasses).To(ContainElement(HaveField("Name", "standard")))
		Expect(got.Status.ExcludedResources).To(ContainElement("events"))

		for _, cp := range []*controlplane.ControlPlane{source, destination} {
			bsl := &velerov1.BackupStorageLocation{}
			Expect(cp.Client.Get(ctx, client.ObjectKey{Namespace: opNamespace, Name: "storage"}, bsl)).To(Succeed())
			Expect(bsl.Spec.Provider).To(Equal("aws"))
			Expect(bsl.Spec.ObjectStorage.Bucket).To(Equal(bucket))
			Expect(bsl.Spec.Config).To(HaveKeyWithValue("s3Url", objectStore.Endpoint))
			Expect(bsl.Spec.Credential).NotTo(BeNil())
			secret := &corev1.Secret{}
			Expect(cp.Client.Get(ctx, client.ObjectKey{Namespace: opNamespace, Name: bsl.Spec.Credential.Name}, secret)).To(Succeed())
			Expect(string(secret.Data[bsl.Spec.Credential.Key])).To(ContainSubstring("aws_access_key_id=" + objectStore.AccessKey))
			Expect(cp.Client.Get(ctx, client.ObjectKey{Namespace: opNamespace, Name: "storage"}, &velerov1.VolumeSnapshotLocation{})).To(Succeed())
		}
	})

	It("keeps the user's selections and PVC mapping when volumes are rediscovered", func() {
		updatePlan(plan, func(p *migv1.MigPlan) {
			for i := range p.Spec.PersistentVolumes {
				pv := &p.Spec.PersistentVolumes[i]
				switch pv.Name {
				case pvs["logs"]:
					pv.Selection.Action = migv1.PvSkipAction
				case pvs["data"]:
					pv.PVC.Name = "data:data-new"
					pv.Selection.Verify = true
				}
			}
			p.Spec.Refresh = true
		})
		Eventually(func() bool { return getPlan(plan).Spec.Refresh }).Should(BeFalse(), "the controller resets refresh")
		got := getPlan(plan)
		Expect(got.Spec.PersistentVolumes).To(ContainElements(
			And(HaveField("Name", pvs["logs"]), HaveField("Selection.Action", migv1.PvSkipAction)),
			And(HaveField("Name", pvs["data"]), HaveField("PVC.Name", "data:data-new"), HaveField("Selection.Verify", true)),
		))
	})

	It("reports an invalid selection and recovers when it is fixed", func() {
		updatePlan(plan, func(p *migv1.MigPlan) {
			p.Spec.PersistentVolumes[0].Selection.Action = "teleport"
		})
		Eventually(planCondition(plan, migv1.PvInvalidAction)).Should(beTrue)
		Expect(planCondition(plan, migv1.Ready)()).To(BeNil())
		updatePlan(plan, func(p *migv1.MigPlan) { p.Spec.PersistentVolumes[0].Selection.Action = migv1.PvCopyAction })
		Eventually(planCondition(plan, migv1.Ready)).Should(beTrue)
	})

	It("applies a MigrationController change at once, without a restart", func() {
		mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "migration-controller"},
			Spec: migv1.MigrationControllerSpec{MigNamespaceLimit: ptr.To(intstr.FromString("0")), MigPVLimit: ptr.To(intstr.FromInt32(1))}}
		create(destination, mc)
		Eventually(planCondition(plan, migv1.PvLimitExceeded)).Should(And(beTrue, HaveField("Message", "PV limit: 1 exceeded, found: 2.")))
		Expect(destination.Client.Delete(ctx, mc)).To(Succeed())
		Eventually(planCondition(plan, migv1.PvLimitExceeded)).Should(BeNil())
	})

	It("is suspended while one of its migrations runs", func() {
		m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "shop-stage"},
			Spec: migv1.MigMigrationSpec{Stage: true, MigPlanRef: &corev1.ObjectReference{Namespace: opNamespace, Name: plan.Name}}}
		create(destination, m)
		// The suite's MigMigration controller writes the migration too: retried on conflicts.
		Eventually(func() error {
			if err := destination.Client.Get(ctx, client.ObjectKeyFromObject(m), m); err != nil {
				return err
			}
			m.Status.Conditions = migv1.Conditions{conditions.Advisory(migv1.Running, "", "Step: 1/10")}
			m.Status.Conditions[0].LastTransitionTime = metav1.Now()
			return destination.Client.Status().Update(ctx, m)
		}).Should(Succeed())
		Eventually(planCondition(plan, migv1.Suspended)).Should(beTrue)
		Expect(planCondition(plan, migv1.Ready)()).To(beTrue, "a suspended plan keeps its last discovery and storage")
		Expect(destination.Client.Delete(ctx, m)).To(Succeed())
		Eventually(planCondition(plan, migv1.Suspended)).Should(BeNil())
	})

	It("reports namespaces missing on the source, unknown included kinds and conflicting plans", func() {
		missing := newPlan("missing", "nowhere")
		Eventually(planCondition(missing, migv1.NamespaceNotFoundOnSourceCluster)).Should(And(beTrue, HaveField("Message", ContainSubstring("[nowhere]"))))

		kinds := newPlan("kinds", "shop")
		updatePlan(kinds, func(p *migv1.MigPlan) {
			p.Spec.IncludedResources = []*metav1.GroupKind{{Kind: "Secret"}, {Group: "example.com", Kind: "Widget"}}
		})
		Eventually(planCondition(kinds, migv1.InvalidResourceList)).Should(And(beTrue, HaveField("Message", ContainSubstring("Widget.example.com"))))
		Eventually(planCondition(kinds, migv1.PlanConflict)).Should(And(beTrue, HaveField("Category", migv1.CategoryError)))
		Expect(destination.Client.Delete(ctx, kinds)).To(Succeed())
		Expect(destination.Client.Delete(ctx, missing)).To(Succeed())
	})

	// After the spec above: it needs Widget.example.com to be unknown on the source.
	It("reports the resources of its namespaces that the destination does not serve", func() {
		installCRD(source, "Widget", "widgets")
		installCRD(source, "Gadget", "gadgets")
		installCRD(destination, "Gadget", "gadgets")
		sourceApp("lab")
		createCustom(source, "lab", "Widget", "w")
		createCustom(source, "lab", "Gadget", "g")
		lab := newPlan("lab", "lab")

		Eventually(planCondition(lab, migv1.GVKsIncompatible), 30*time.Second).Should(And(beTrue,
			HaveField("Category", migv1.CategoryWarn), HaveField("Message", ContainSubstring("`incompatibleNamespaces`"))))
		Expect(getPlan(lab).Status.IncompatibleNamespaces).To(Equal([]migv1.IncompatibleNamespace{{
			Name: "lab", GVKs: []migv1.IncompatibleGVK{{Group: "example.com", Version: "v1", Kind: "widgets"}},
		}}), "gadgets are served by both clusters")
		Eventually(planCondition(lab, migv1.Ready), time.Minute).Should(beTrue, "the warning does not block")
		Expect(planCondition(plan, migv1.GVKsIncompatible)()).To(BeNil(), "the shop namespace holds no widgets")

		Expect(destination.Client.Delete(ctx, lab)).To(Succeed())
		Eventually(func() error {
			return destination.Client.Get(ctx, client.ObjectKeyFromObject(lab), &migv1.MigPlan{})
		}).Should(MatchError(ContainSubstring("not found")))
	})

	It("removes its Velero storage when closed, unless another open plan still uses it", func() {
		sourceApp("blog", "posts")
		other := newPlan("blog", "blog")
		Eventually(planCondition(other, migv1.Ready), time.Minute).Should(beTrue)

		updatePlan(plan, func(p *migv1.MigPlan) { p.Spec.Closed = true })
		Eventually(planCondition(plan, migv1.Closed)).Should(beTrue)
		Expect(planCondition(plan, migv1.Ready)()).To(BeNil())
		Consistently(location(source), 2*time.Second).Should(Succeed(), "the blog plan still uses the storage")

		Expect(destination.Client.Delete(ctx, other)).To(Succeed())
		Eventually(func() error {
			return destination.Client.Get(ctx, client.ObjectKeyFromObject(other), &migv1.MigPlan{})
		}).Should(MatchError(ContainSubstring("not found")), "the finalizer is released once storage is removed")
		for _, cp := range []*controlplane.ControlPlane{source, destination} {
			Eventually(location(cp)).Should(MatchError(ContainSubstring("not found")))
		}
	})
})
