package faults_test

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ferrymtc/ferry/test/migenv"
	"github.com/ferrymtc/ferry/test/suite"
)

const ns = migenv.Namespace

var (
	env    *migenv.Env
	ctx    context.Context
	cancel context.CancelFunc
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Faults end to end")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	env, err = migenv.Start(ctx, migenv.Options{Dir: os.Getenv("FERRY_MIGENV_DIR")})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
	for _, dir := range volumeDirs.list {
		Expect(os.RemoveAll(dir)).To(Succeed())
	}
	if cancel != nil {
		cancel()
	}
})

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() && env != nil {
		AddReportEntry("operator log tail", env.OperatorLogTail(16000))
		AddReportEntry("velero log tail", env.VeleroLogs(3000))
	}
})
