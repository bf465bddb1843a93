package dvm_test

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

func TestDirectVolumeMigrations(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "DirectVolumeMigration end to end")
}

var _ = BeforeSuite(func() {
	suite.Configure()
	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(500 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	env, err = migenv.Start(ctx, migenv.Options{Dir: os.Getenv("FERRY_MIGENV_DIR")})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
	if cancel != nil {
		cancel()
	}
})

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() && env != nil {
		AddReportEntry("operator log tail", env.OperatorLogTail(12000))
	}
})

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
