package migplan_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
)

var _ = Describe("MigPlan storage", func() {
	It("keeps the Velero storage of both clusters in sync with its MigStorage", func() {
		sourceApp("wiki", "pages")
		plan := newPlan("wiki", "wiki")
		Eventually(planCondition(plan, migv1.Ready), time.Minute).Should(beTrue)

		const publicURL = "http://s3.example.com"
		storage := &migv1.MigStorage{}
		key := client.ObjectKey{Namespace: opNamespace, Name: fixtures.Storage}
		Eventually(func() error {
			Expect(destination.Client.Get(ctx, key, storage)).To(Succeed())
			storage.Spec.BackupStorageConfig.AwsPublicURL = publicURL
			return destination.Client.Update(ctx, storage)
		}).Should(Succeed())
		for _, cp := range []*controlplane.ControlPlane{source, destination} {
			Eventually(func() map[string]string {
				bsl := &velerov1.BackupStorageLocation{}
				_ = cp.Client.Get(ctx, key, bsl)
				return bsl.Spec.Config
			}, 30*time.Second).Should(HaveKeyWithValue("publicUrl", publicURL), "on the %s cluster", cp.Name)
		}

		Expect(destination.Client.Delete(ctx, plan)).To(Succeed())
		Eventually(func() error {
			return destination.Client.Get(ctx, client.ObjectKeyFromObject(plan), &migv1.MigPlan{})
		}, 30*time.Second).Should(MatchError(ContainSubstring("not found")))
	})
})
