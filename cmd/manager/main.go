// Command manager runs Ferry's operator: the controllers that migrate applications between
// clusters with MTC's API.
package main

import (
	"flag"
	"os"
	"time"

	// The image (hack/images) has no files but this binary and the nonroot user's entries:
	// Mozilla's roots, compiled in, verify public endpoints (an AWS S3 object store, a public
	// registry) where the system has no CA bundle, and step aside where it has one. A
	// ca-certificates layer would add a second thing to keep current and a file to mount over.
	_ "golang.org/x/crypto/x509roots/fallback"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ferrymtc/ferry/pkg/operator"
	"github.com/ferrymtc/ferry/pkg/tunnel"
)

func main() {
	// The tunnel agents of `ferry tunnel-api` ship in this binary, so that a cluster pulls one
	// image for everything Ferry runs (one image to mirror for a disconnected cluster).
	if len(os.Args) > 1 && os.Args[1] == tunnel.AgentCommand {
		runTunnelAgent(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == consoleCommand {
		runConsole(os.Args[2:])
		return
	}
	opts := operator.Options{}
	flag.StringVar(&opts.Namespace, "namespace", envOr("POD_NAMESPACE", operator.DefaultNamespace),
		"Namespace the operator runs in (its MigrationController and leader election lease live here).")
	flag.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8443", "Address of the Prometheus metrics endpoint; 0 disables it.")
	flag.BoolVar(&opts.MetricsInsecure, "metrics-insecure", false,
		"Serve metrics over plain HTTP to anyone, instead of HTTPS to callers allowed to get /metrics.")
	flag.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints; 0 disables them.")
	flag.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles.")
	flag.DurationVar(&opts.GracefulShutdown, "graceful-shutdown-timeout", 30*time.Second, "How long running reconciles may take to finish on shutdown.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	ctx := ctrl.SetupSignalHandler()
	mgr, err := operator.New(ctrl.GetConfigOrDie(), opts)
	if err != nil {
		log.Error(err, "Unable to create the manager")
		os.Exit(1)
	}
	if err := operator.Setup(ctx, mgr, opts); err != nil {
		log.Error(err, "Unable to set up the controllers")
		os.Exit(1)
	}
	log.Info("Starting the operator", "namespace", opts.Namespace)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

func runTunnelAgent(args []string) {
	log := zap.New(zap.UseDevMode(false)).WithName("tunnel")
	if err := tunnel.RunAgent(ctrl.SetupSignalHandler(), args, log); err != nil {
		log.Error(err, "The tunnel agent stopped")
		os.Exit(1)
	}
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
