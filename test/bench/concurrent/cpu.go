package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, which Linux fixes at 100
// for that interface whatever the kernel's own tick (x/sys/unix has no sysconf to ask).
const userHZ = 100

// cpuSnapshot is the CPU time (user and system) every live process has used, itself and its
// reaped children, by component (command name), at one moment. A process that started and
// ended between two snapshots is counted in its reaper: the node's container processes are
// children of this benchmark, so they land in "benchmark (process nodes, pods that exited)".
type cpuSnapshot map[string]time.Duration

func takeCPUSnapshot() cpuSnapshot {
	snap := cpuSnapshot{}
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // gone since the glob
		}
		text := string(raw)
		open, closing := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
		if open < 0 || closing < open {
			continue
		}
		comm := text[open+1 : closing]
		// After the command: state, ppid, ... utime is the 12th field, then stime, cutime, cstime.
		fields := strings.Fields(text[closing+1:])
		if len(fields) < 15 {
			continue
		}
		var ticks int64
		for _, f := range fields[11:15] {
			v, _ := strconv.ParseInt(f, 10, 64)
			ticks += v
		}
		name := component(comm)
		if filepath.Base(filepath.Dir(path)) == self {
			name = "benchmark (process nodes, pods that exited)"
		}
		snap[name] += time.Duration(ticks) * time.Second / userHZ
	}
	return snap
}

// component names a command as the report groups it.
func component(comm string) string {
	for _, known := range []string{"etcd", "kube-apiserver", "kube-controller", "kube-scheduler", "velero", "manager", "versitygw", "registry"} {
		if strings.HasPrefix(comm, known) {
			return known
		}
	}
	return "other (pods, tools)"
}

// cpuReport prints what each component used between before and after, largest first, and how
// much of the machine's CPUs the round kept busy over wall.
func cpuReport(n int, before, after cpuSnapshot, wall time.Duration) {
	type use struct {
		name string
		cpu  time.Duration
	}
	var uses []use
	var total time.Duration
	for name, t := range after {
		if d := t - before[name]; d > 0 {
			uses = append(uses, use{name, d})
			total += d
		}
	}
	slices.SortFunc(uses, func(a, b use) int { return int(b.cpu - a.cpu) })
	busy := total.Seconds() / (wall.Seconds() * float64(runtime.NumCPU()))
	fmt.Printf("%d plan(s): CPU used %.1f s in %.1f s on %d CPUs (%.0f%% busy):", n, total.Seconds(), wall.Seconds(), runtime.NumCPU(), 100*busy)
	for _, u := range uses {
		fmt.Printf(" %s %.1f s;", u.name, u.cpu.Seconds())
	}
	fmt.Println()
	fmt.Printf("concurrent_%d_cpu_seconds %.1f\n", n, total.Seconds())
	fmt.Printf("concurrent_%d_cpu_busy %.2f\n", n, busy)
}
