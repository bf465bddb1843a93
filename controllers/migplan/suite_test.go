package migplan_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/s3"
	"github.com/ferrymtc/ferry/test/suite"
)

// The suite runs the operator's real wiring on a "destination" control plane (the host) with
// a "source" control plane registered as a remote MigCluster, both with
// kube-controller-manager so PVCs really bind, and a real S3 server behind a MigStorage.
var (
	source, destination *controlplane.ControlPlane
	objectStore         *s3.Server
	ctx                 context.Context
	cancel              context.CancelFunc
)

const (
	opNamespace = operator.DefaultNamespace
	bucket      = "ferry"
	// destinationObjectLimit is the most the destination's etcd stores in one write: 256 KiB
	// instead of etcd's 1.5 MiB, so that a plan outgrows one object with a thousand PVs
	// (plan_size_test.go); the largest CRD takes about 100 KiB.
	destinationObjectLimit = 256 << 10
)

func TestMigPlan(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigPlan controller")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	source, err = controlplane.Start("source", controlplane.WithControllerManager())
	Expect(err).NotTo(HaveOccurred())
	destination, err = controlplane.Start("destination", controlplane.WithControllerManager(),
		controlplane.WithEtcdMaxRequestBytes(destinationObjectLimit))
	Expect(err).NotTo(HaveOccurred())
	objectStore, err = s3.Start(s3.Options{})
	Expect(err).NotTo(HaveOccurred())
	Expect(objectStore.CreateBucket(ctx, bucket)).To(Succeed())

	for _, cp := range []*controlplane.ControlPlane{source, destination} {
		create(cp, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})
		create(cp, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "kubernetes.io/host-path"})
	}

	opts := operator.Options{Namespace: opNamespace, MetricsAddr: "0", ProbeAddr: "0", GracefulShutdown: 5 * time.Second}
	mgr, err := operator.New(destination.Config, opts)
	Expect(err).NotTo(HaveOccurred())
	Expect(operator.Setup(ctx, mgr, opts)).To(Succeed())
	suite.Run(ctx, mgr)
	registerClustersAndStorage()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if objectStore != nil {
		Expect(objectStore.Stop()).To(Succeed())
	}
	for _, cp := range []*controlplane.ControlPlane{source, destination} {
		if cp != nil {
			Expect(cp.Stop()).To(Succeed())
		}
	}
})

func create(cp *controlplane.ControlPlane, obj client.Object) {
	GinkgoHelper()
	Expect(cp.Client.Create(ctx, obj)).To(Succeed())
}

// registerClustersAndStorage registers the host and source clusters and a MigStorage on the
// S3 server, and waits until all three are Ready.
func registerClustersAndStorage() {
	Expect(fixtures.Register(ctx, destination, source, opNamespace, objectStore, bucket)).To(Succeed())
}
