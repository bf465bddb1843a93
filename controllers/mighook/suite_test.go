package mighook_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrymtc/ferry/controllers/mighook"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// The suite runs the MigHook controller alone against a real control plane.
var (
	cp     *controlplane.ControlPlane
	ctx    context.Context
	cancel context.CancelFunc
)

const opNamespace = "openshift-migration"

func TestMigHook(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "MigHook controller")
}

var _ = BeforeSuite(func() {
	// Reconciles are quick, but CI machines are loaded: wait generously, poll often.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	cp, err = controlplane.Start("host")
	Expect(err).NotTo(HaveOccurred())
	Expect(cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNamespace}})).To(Succeed())

	scheme, err := controlplane.Scheme()
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cp.Config, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	Expect(err).NotTo(HaveOccurred())
	r := &mighook.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder(mighook.ControllerName),
		Clock:    clock.RealClock{},
	}
	Expect(r.SetupWithManager(ctx, mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
})
