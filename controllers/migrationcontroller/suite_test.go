package migrationcontroller_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrymtc/ferry/controllers/migrationcontroller"
	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/suite"
)

// The suite runs the MigrationController controller alone against a real control plane.
var (
	cp     *controlplane.ControlPlane
	ctx    context.Context
	cancel context.CancelFunc
)

const opNamespace = "openshift-migration"

func TestMigrationController(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigrationController controller")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	cp, err = controlplane.Start("host")
	Expect(err).NotTo(HaveOccurred())
	Expect(cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})).To(Succeed())
	mgr, err := operator.New(cp.Config, operator.Options{Namespace: opNamespace, MetricsAddr: "0", ProbeAddr: "0"})
	Expect(err).NotTo(HaveOccurred())
	r := &migrationcontroller.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder(migrationcontroller.ControllerName)}
	Expect(r.SetupWithManager(ctx, mgr)).To(Succeed())
	suite.Run(ctx, mgr)
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
})
