// Package manager runs Ferry's operator binary (bin/manager) as a separate process against a
// cluster, as it runs in production, for the demo, end-to-end suites and benchmarks. It also
// reads the process's peak memory, which benchmarks report.
package manager
