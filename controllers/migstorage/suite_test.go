package migstorage_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/ferrymtc/ferry/controllers/migstorage"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/s3"
	"github.com/ferrymtc/ferry/test/suite"
)

// The suite runs the MigStorage controller alone against a real control plane, and points
// MigStorages at a real S3 server holding the bucket "backups".
var (
	cp     *controlplane.ControlPlane
	store  *s3.Server
	ctx    context.Context
	cancel context.CancelFunc
)

const (
	opNamespace = "openshift-migration"
	bucket      = "backups"
)

func TestMigStorage(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigStorage controller")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	store, err = s3.Start(s3.Options{})
	Expect(err).NotTo(HaveOccurred())
	Expect(store.CreateBucket(ctx, bucket)).To(Succeed())
	cp, err = controlplane.Start("host")
	Expect(err).NotTo(HaveOccurred())
	Expect(cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})).To(Succeed())

	// The operator's own manager (scheme, no Secret cache), running only this reconciler.
	mgr, err := operator.New(cp.Config, operator.Options{Namespace: opNamespace, MetricsAddr: "0", ProbeAddr: "0"})
	Expect(err).NotTo(HaveOccurred())
	r := &migstorage.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder(migstorage.ControllerName),
		Clock:     clock.RealClock{},
		Tester:    objectstore.Tester{RequestTimeout: 5 * time.Second},
	}
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
	if store != nil {
		Expect(store.Stop()).To(Succeed())
	}
})
