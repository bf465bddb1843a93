package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestDemoMigratesTheSampleApp runs `make demo`'s program end to end with --once: two control
// planes, an S3 server, Velero, the operator installed from config/, the samples, a stage and a cutover.
func TestDemoMigratesTheSampleApp(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	out := &bytes.Buffer{}
	state := filepath.Join(t.TempDir(), "state")
	if err := Run(ctx, Options{StateDir: state, Once: true, Out: out}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"MigCluster source: Ready=True (The cluster is ready.)",
		"MigStorage migstorage: Ready=True",
		"MigPlan demo is Ready",
		"demo-app/data (pv-demo-app, 1Gi): copy by filesystem",
		"Stage Completed. Succeeded",
		"Final Completed. Succeeded",
		"source demo-db has 0 replicas, destination demo-db-migrated has 1",
		"pod demo-db/web-",
		"pod demo-db-migrated/web-",
		"Stopped the Velero servers",
		"Installing Ferry on the destination (the host cluster)",
		"Stopped the source cluster",
		"Web console: https://",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
