package main

import (
	"fmt"
	"time"
)

// report prints one scenario's rows (the DVM when it ran, then each host transport) and its
// ratios, and returns its `<metric> <value>` lines, which are printed last, all together, for
// the README's table to be regenerated from.
func report(sc scenario, r result, ts []transport) []string {
	mib := float64(r.bytes) / (1 << 20)
	fmt.Printf("\n%s: %.0f MiB in %d files\n", sc.name, mib, r.files)
	fmt.Printf("  %-42s %9s %9s %9s\n", "transport", "MB/s", "files/s", "time")
	var metrics []string
	metric := func(name, format string, v float64) {
		metrics = append(metrics, fmt.Sprintf("transfer_%s_%s "+format, sc.key, name, v))
	}
	row := func(key, label string, d time.Duration) {
		mbps, fps := mib/d.Seconds(), float64(r.files)/d.Seconds()
		fmt.Printf("  %-42s %9.1f %9.1f %9s\n", label, mbps, fps, d.Round(10*time.Millisecond))
		metric("mbps_"+key, "%.1f", mbps)
		metric("files_per_s_"+key, "%.1f", fps)
	}
	if r.dvmTransfer > 0 {
		row("dvm", "Ferry DVM (two clusters, pods, NodePort)", r.dvmTransfer)
		fmt.Printf("  %-42s %29s\n", "  its end-to-end time (creation to Completed)", r.dvmE2E.Round(100*time.Millisecond))
		metric("dvm_e2e_s", "%.1f", r.dvmE2E.Seconds())
	}
	best := ""
	for _, t := range ts {
		row(t.key, t.label, r.host[t.key])
		if t.peer && (best == "" || r.host[t.key] < r.host[best]) {
			best = t.key
		}
	}
	// A ratio of speeds: how many times as fast a is as b.
	ratio := func(name string, a, b time.Duration) {
		v := b.Seconds() / a.Seconds()
		fmt.Printf("  %s = %.2f\n", name, v)
		metric("ratio_"+name, "%.2f", v)
	}
	fmt.Printf("  best peer: %s\n", best)
	if r.dvmTransfer > 0 {
		ratio("ferry_best_peer", r.dvmTransfer, r.host[best])
		ratio("dvm_own_loopback", r.dvmTransfer, r.host["own_loopback"])
		ratio("dvm_plain", r.dvmTransfer, r.host["plain"])
	}
	ratio("own_loopback_best_peer", r.host["own_loopback"], r.host[best])
	return metrics
}
