package mighook_test

import (
	"encoding/base64"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/controllers/mighook"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// get reads the hook as the API server has it.
func get(h *migv1.MigHook) func() *migv1.MigHook {
	return func() *migv1.MigHook {
		got := &migv1.MigHook{}
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(h), got); err != nil {
			return nil
		}
		return got
	}
}

// haveOnly matches a hook whose status describes its current generation and holds exactly
// one condition, of the given type, True, with the given category and reason.
func haveOnly(conditionType, category, reason string) OmegaMatcher {
	return And(Not(BeNil()),
		WithTransform(func(h *migv1.MigHook) bool { return h.Status.ObservedGeneration == h.Generation }, BeTrue()),
		WithTransform(func(h *migv1.MigHook) migv1.Conditions { return h.Status.Conditions }, ConsistOf(And(
			HaveField("Type", conditionType), HaveField("Status", migv1.True),
			HaveField("Category", category), HaveField("Reason", reason)))))
}

var beReady = haveOnly(migv1.Ready, migv1.CategoryRequired, "")

var _ = Describe("MigHook", func() {
	It("makes a valid custom hook Ready", func() {
		h := &migv1.MigHook{
			ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "custom"},
			Spec:       migv1.MigHookSpec{Custom: true, Image: "quay.io/example/hook:v1", TargetCluster: migv1.HookTargetSource},
		}
		Expect(cp.Client.Create(ctx, h)).To(Succeed())
		Eventually(get(h)).Should(beReady)
		Expect(conditions.Find(get(h)().Status.Conditions, migv1.Ready).Message).To(Equal(mighook.ReadyMessage))
	})

	It("rejects an Ansible playbook that is not YAML, and becomes Ready once it is fixed", func() {
		h := &migv1.MigHook{
			ObjectMeta: metav1.ObjectMeta{Namespace: opNamespace, Name: "ansible"},
			Spec: migv1.MigHookSpec{
				Image:         "quay.io/konveyor/hook-runner:latest",
				Playbook:      base64.StdEncoding.EncodeToString([]byte("- hosts: [localhost\n")),
				TargetCluster: migv1.HookTargetDestination,
			},
		}
		Expect(cp.Client.Create(ctx, h)).To(Succeed())
		Eventually(get(h)).Should(haveOnly(migv1.InvalidPlaybookData, migv1.CategoryCritical, migv1.NotSet))
		Expect(conditions.Find(get(h)().Status.Conditions, migv1.InvalidPlaybookData).Message).
			To(ContainSubstring("non-empty YAML list of plays"))

		fixed := get(h)()
		fixed.Spec.Playbook = base64.StdEncoding.EncodeToString([]byte("- hosts: localhost\n  tasks: []\n"))
		Expect(cp.Client.Update(ctx, fixed)).To(Succeed())
		Eventually(get(h)).Should(beReady)
	})
})
