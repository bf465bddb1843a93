// Command transfer measures volume transfers (make bench-transfer): a DirectVolumeMigration
// copying large files, many small files, and several PVCs at once between the two local
// clusters (rsync through a verifying stunnel pair, pods on the process nodes), next to plain
// `rsync -a` between the same kind of directories on this machine, and prints MB/s, files/s
// and the ratio. The DVM's transfer time is its rsync runs' own (from the summary line rsync
// prints, kept in the progress objects; the longest when PVCs run in parallel); its
// end-to-end time (creation to Completed: namespaces, PVCs, certificates, pods) is printed
// too.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
)

const ns = migenv.Namespace

// scenario is one measured transfer: PVCs of files of a size.
type scenario struct {
	name           string
	pvcs           int
	filesPerPVC    int
	fileSize       int
	plainOneStream bool // plain rsync copies all PVCs' directories one after the other
}

type result struct {
	bytes, files        int64
	dvmTransfer, dvmE2E time.Duration
	plain, loopback     time.Duration
}

func main() {
	largeMB := flag.Int("large-mb", 1024, "Size of the large-file scenario, in MiB.")
	small := flag.Int("small-files", 20000, "Files in the small-file scenario.")
	extras := flag.String("rsync-extras", "", "rsync_opt_extras of the MigrationController during the run, to compare options.")
	managerPath := flag.String("manager", "", "Path of the operator binary (built when empty).")
	dir := flag.String("state-dir", ".ferry/bench-transfer", "Where kubeconfigs, the operator log and the data go.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	scenarios := []scenario{
		{name: "large files", pvcs: 1, filesPerPVC: *largeMB / 256, fileSize: 256 << 20},
		{name: "small files", pvcs: 1, filesPerPVC: *small, fileSize: 4 << 10},
		{name: "3 PVCs in parallel", pvcs: 3, filesPerPVC: *largeMB / 256 / 3 * 1, fileSize: 256 << 20, plainOneStream: true},
	}
	if err := run(scenarios, *managerPath, *dir, *extras); err != nil {
		fmt.Fprintln(os.Stderr, "bench-transfer failed:", err)
		os.Exit(1)
	}
}

func run(scenarios []scenario, managerPath, dir, extras string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	defer func() { _ = os.RemoveAll(data) }()
	fmt.Println("Starting two clusters, S3, two Velero servers and the operator...")
	env, err := migenv.Start(ctx, migenv.Options{Dir: dir, Manager: managerPath})
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	if extras != "" {
		mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
			Spec: migv1.MigrationControllerSpec{RsyncOptExtras: extras}}
		if err := env.Destination.Client.Create(ctx, mc); err != nil {
			return fmt.Errorf("create MigrationController: %w", err)
		}
		fmt.Printf("rsync_opt_extras: %s\n", extras)
	}
	fmt.Printf("%-20s %10s %8s | %9s %11s %8s | %10s %13s | %9s | %6s %6s %6s\n", "scenario", "data", "files",
		"DVM MB/s", "DVM files/s", "DVM e2e", "rsync MB/s", "rsync files/s", "TLS MB/s", "ratio", "TLS", "DVM/TLS")
	for i, sc := range scenarios {
		r, err := measure(ctx, env, sc, i, filepath.Join(data, fmt.Sprint(i)))
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		mb := float64(r.bytes) / (1 << 20)
		fmt.Printf("%-20s %8.0fMiB %8d | %9.1f %11.0f %8s | %10.1f %13.0f | %9.1f | %6.2f %6.2f %6.2f\n", sc.name, mb, r.files,
			mb/r.dvmTransfer.Seconds(), float64(r.files)/r.dvmTransfer.Seconds(), r.dvmE2E.Round(100*time.Millisecond),
			mb/r.plain.Seconds(), float64(r.files)/r.plain.Seconds(), mb/r.loopback.Seconds(),
			r.plain.Seconds()/r.dvmTransfer.Seconds(), r.plain.Seconds()/r.loopback.Seconds(), r.loopback.Seconds()/r.dvmTransfer.Seconds())
	}
	fmt.Println("ratio = plain rsync time / DVM transfer time (target for large files: at least 0.7)")
	fmt.Println("TLS = the same rsync and stunnel configurations and client script as host processes on 127.0.0.1 (no pods,")
	fmt.Println("      veths or Service proxy): plain rsync time / its time, the ceiling of the transfer path on this machine;")
	fmt.Println("DVM/TLS = what the DVM reaches of that ceiling. Plain and TLS times are medians of 3 runs; the DVM runs once.")
	return nil
}

// measure fills the scenario's volumes, copies them with plain rsync and with a DVM.
func measure(ctx context.Context, env *migenv.Env, sc scenario, index int, root string) (result, error) {
	var r result
	namespace := fmt.Sprintf("bench-%d", index)
	src := env.Source.Client
	if err := src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return r, err
	}
	var dirs []string
	for p := range sc.pvcs {
		d := filepath.Join(root, fmt.Sprintf("pvc-%d", p))
		n, err := fill(d, sc.filesPerPVC, sc.fileSize)
		if err != nil {
			return r, err
		}
		r.bytes += n
		r.files += int64(sc.filesPerPVC)
		dirs = append(dirs, d)
		pv, pvc := fixtures.BoundVolume(namespace, fmt.Sprintf("data-%d", p), fmt.Sprintf("%s-pv-%d", namespace, p), "100Gi")
		pv.Spec.Local.Path = d
		if err := src.Create(ctx, pv); err != nil {
			return r, err
		}
		if err := src.Create(ctx, pvc); err != nil {
			return r, err
		}
	}
	if err := fixtures.WaitBound(ctx, src, sc.pvcs, time.Minute); err != nil {
		return r, err
	}
	var err error
	if r.plain, err = median(func() (time.Duration, error) { return plainRsync(dirs, filepath.Join(root, "plain")) }); err != nil {
		return r, err
	}
	if r.loopback, err = median(func() (time.Duration, error) { return loopbackTLS(ctx, dirs, filepath.Join(root, "loopback")) }); err != nil {
		return r, err
	}
	r.dvmTransfer, r.dvmE2E, err = dvm(ctx, env, namespace, sc.pvcs)
	return r, err
}

// median runs f three times and returns its median duration.
func median(f func() (time.Duration, error)) (time.Duration, error) {
	var runs []time.Duration
	for range 3 {
		d, err := f()
		if err != nil {
			return 0, err
		}
		runs = append(runs, d)
	}
	slices.Sort(runs)
	return runs[1], nil
}

// fill writes files of size bytes of pseudo-random data (incompressible, like real data).
func fill(dir string, files, size int) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(uint64(files), uint64(size)))
	buf := make([]byte, size)
	var total int64
	for i := range files {
		for j := 0; j+8 <= len(buf); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", i%100))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%06d", i)), buf, 0o644); err != nil {
			return 0, err
		}
		total += int64(size)
	}
	return total, nil
}

// plainRsync copies each directory with `rsync -a` into target, one after the other.
func plainRsync(dirs []string, target string) (time.Duration, error) {
	defer func() { _ = os.RemoveAll(target) }()
	if err := os.MkdirAll(target, 0o755); err != nil {
		return 0, err
	}
	start := time.Now()
	for i, d := range dirs {
		out, err := exec.Command("rsync", "-a", d+"/", filepath.Join(target, fmt.Sprint(i))+"/").CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("plain rsync: %w: %s", err, out)
		}
	}
	return time.Since(start), nil
}

// dvm copies the namespace's PVCs with a standalone DVM and returns the longest rsync client
// run time and the DVM's end-to-end time.
func dvm(ctx context.Context, env *migenv.Env, namespace string, pvcs int) (time.Duration, time.Duration, error) {
	host := env.Destination.Client
	d := &migv1.DirectVolumeMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: namespace}, Spec: migv1.DirectVolumeMigrationSpec{
		SrcMigClusterRef:            fixtures.Ref(ns, fixtures.SourceCluster),
		DestMigClusterRef:           fixtures.Ref(ns, fixtures.HostCluster),
		CreateDestinationNamespaces: true,
	}}
	for p := range pvcs {
		d.Spec.PersistentVolumeClaims = append(d.Spec.PersistentVolumeClaims, migv1.PVCToMigrate{
			ObjectReference:    &corev1.ObjectReference{Namespace: namespace, Name: fmt.Sprintf("data-%d", p)},
			TargetStorageClass: fixtures.StorageClass,
			TargetAccessModes:  []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			TargetNamespace:    namespace + "-copy",
		})
	}
	start := time.Now()
	if err := host.Create(ctx, d); err != nil {
		return 0, 0, fmt.Errorf("create DVM: %w", err)
	}
	for {
		if err := host.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return 0, 0, err
		}
		if d.Status.Phase == "Completed" {
			break
		}
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("DVM %s did not complete: %s", d.Name, d.Status.PhaseDescription)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e2e := time.Since(start)
	if len(d.Status.Errors) > 0 {
		return 0, 0, fmt.Errorf("DVM %s failed: %v", d.Name, d.Status.Errors)
	}
	var longest time.Duration
	for _, claim := range d.Spec.PersistentVolumeClaims {
		p := &migv1.DirectVolumeMigrationProgress{}
		key := client.ObjectKey{Namespace: ns, Name: transfer.ProgressName(d.Name, claim.Name, claim.Namespace)}
		if err := host.Get(ctx, key, p); err != nil {
			return 0, 0, fmt.Errorf("progress of %s: %w", claim.Name, err)
		}
		t, err := rsyncTime(p.Status.LogMessage)
		if err != nil {
			return 0, 0, fmt.Errorf("progress %s: %w", p.Name, err)
		}
		longest = max(longest, t)
	}
	return longest, e2e, nil
}

// summary is rsync's last line: "sent N bytes  received M bytes  R bytes/sec".
var summary = regexp.MustCompile(`sent ([\d,.]+) bytes\s+received ([\d,.]+) bytes\s+([\d,.]+) bytes/sec`)

// rsyncTime is the duration of an rsync run from its summary line (rsync divides the bytes it
// sent and received by its run time; this reverses it, at rsync's own clock resolution).
func rsyncTime(log string) (time.Duration, error) {
	m := summary.FindStringSubmatch(log)
	if m == nil {
		return 0, fmt.Errorf("no rsync summary in %q", log)
	}
	num := func(s string) float64 {
		f, _ := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
		return f
	}
	rate := num(m[3])
	if rate <= 0 {
		return 0, fmt.Errorf("rsync summary with no rate: %q", m[0])
	}
	return time.Duration((num(m[1]) + num(m[2])) / rate * float64(time.Second)), nil
}
