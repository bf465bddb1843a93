package migcluster_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/suite"
)

// The suite runs the real operator wiring against a "destination" control plane (the host
// cluster) and registers a "source" control plane as a remote MigCluster.
var (
	source, destination *controlplane.ControlPlane
	ctx                 context.Context
	cancel              context.CancelFunc
)

const opNamespace = operator.DefaultNamespace

func TestMigCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigCluster controller")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	source, err = controlplane.Start("source")
	Expect(err).NotTo(HaveOccurred())
	destination, err = controlplane.Start("destination")
	Expect(err).NotTo(HaveOccurred())
	Expect(destination.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})).To(Succeed())

	opts := operator.Options{Namespace: opNamespace, MetricsAddr: "0", ProbeAddr: "0", GracefulShutdown: 5 * time.Second}
	mgr, err := operator.New(destination.Config, opts)
	Expect(err).NotTo(HaveOccurred())
	Expect(operator.Setup(ctx, mgr, opts)).To(Succeed())
	suite.Run(ctx, mgr)
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	for _, cp := range []*controlplane.ControlPlane{source, destination} {
		if cp != nil {
			Expect(cp.Stop()).To(Succeed())
		}
	}
})
