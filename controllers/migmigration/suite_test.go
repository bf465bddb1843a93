package migmigration_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/suite"
)

// The suite runs the migration Reconciler against a real kube-apiserver (the host, with
// Ferry's CRDs), calling Reconcile directly: what it checks is how the controller reads and
// writes a migration, not a whole migration (the end-to-end suites run those).
var (
	host   *controlplane.ControlPlane
	ctx    context.Context
	cancel context.CancelFunc
)

const opNamespace = operator.DefaultNamespace

func TestMigMigration(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigMigration controller")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	host, err = controlplane.Start("host")
	Expect(err).NotTo(HaveOccurred())
	Expect(host.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})).To(Succeed())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if host != nil {
		Expect(host.Stop()).To(Succeed())
	}
})
