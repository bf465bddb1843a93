// Command demo runs Ferry on two local clusters (make demo). See package test/demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ferrymtc/ferry/test/demo"
)

func main() {
	opts := demo.Options{Out: os.Stdout}
	flag.StringVar(&opts.Manager, "manager", "bin/manager", "Path of the operator binary.")
	flag.StringVar(&opts.StateDir, "state-dir", ".ferry/demo", "Where kubeconfigs and logs are kept while the demo runs.")
	flag.BoolVar(&opts.Once, "once", false, "Exit once the clusters are Ready instead of waiting for Ctrl-C.")
	flag.Parse()
	// The control planes' client-side logs are noise in a demo; the operator logs to a file.
	ctrllog.SetLogger(logr.Discard())

	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(opts demo.Options) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	err := demo.Run(ctx, opts)
	if ctx.Err() != nil {
		fmt.Println("Interrupted; everything the demo started is stopped.")
		return nil
	}
	return err
}
