// Package suite holds what every controller's Ginkgo integration suite does the same way:
// Gomega's waiting defaults, logging to the Ginkgo writer, and running a manager in the
// background until the suite's context ends.
package suite

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// Configure sets the suite's defaults. Reconciles are quick, but CI machines are loaded:
// wait generously, poll often.
func Configure() {
	gomega.SetDefaultEventuallyTimeout(30 * time.Second)
	gomega.SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctrl.SetLogger(zap.New(zap.WriteTo(ginkgo.GinkgoWriter), zap.UseDevMode(true)))
}

// Run starts mgr in the background; it stops when ctx ends, and a start failure fails the suite.
func Run(ctx context.Context, mgr ctrl.Manager) {
	go func() {
		defer ginkgo.GinkgoRecover()
		gomega.Expect(mgr.Start(ctx)).To(gomega.Succeed())
	}()
}
