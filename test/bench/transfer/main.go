// Command transfer measures volume transfers (make bench-transfer): a DirectVolumeMigration
// copying large files, many small files, and several PVCs at once between the two local
// clusters (rsync through a verifying stunnel pair, pods on the process nodes), next to the
// transports users would pick instead, run as host processes on 127.0.0.1 on the same data
// in the same run (peers.go: rsync over ssh, stunnel with a pre-shared key, stunnel without
// verification), plain `rsync -a` between two directories (the limit), and Ferry's own
// stunnel pair on loopback. It prints each one's MB/s and files/s, the ratios, and last the
// figures as `<metric> <value>` lines. --peers-only leaves the clusters and the DVM out.
//
// The DVM's transfer time is its rsync runs' own (from the summary line rsync prints, kept in
// the progress objects; the longest when PVCs run in parallel); its end-to-end time (creation
// to Completed: namespaces, PVCs, certificates, pods) is printed too.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
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

// scenario is one measured transfer: PVCs of files of a size. The DVM copies a scenario's
// PVCs at once; the host transports copy them one after the other.
type scenario struct {
	name, key   string // key names the scenario in the metrics
	pvcs        int
	filesPerPVC int
	fileSize    int
}

type result struct {
	bytes, files        int64
	host                map[string]time.Duration // by transport key
	dvmTransfer, dvmE2E time.Duration            // zero with --peers-only
}

func main() {
	largeMB := flag.Int("large-mb", 1024, "Size of the large-file scenario, in MiB.")
	small := flag.Int("small-files", 20000, "Files in the small-file scenario.")
	extras := flag.String("rsync-extras", "", "rsync_opt_extras of the MigrationController during the run, to compare options.")
	managerPath := flag.String("manager", "", "Path of the operator binary (built when empty).")
	dir := flag.String("state-dir", ".ferry/bench-transfer", "Where kubeconfigs, the operator log and the data go.")
	peersOnly := flag.Bool("peers-only", false, "Measure only the host transports (peers, plain rsync, Ferry's pair on loopback): no clusters, no DVM.")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	// Four large files (256 MiB at the default size), and one of them per PVC for three PVCs.
	large := max(1, *largeMB/4) << 20
	scenarios := []scenario{
		{name: "large files", key: "large", pvcs: 1, filesPerPVC: 4, fileSize: large},
		{name: "small files", key: "small", pvcs: 1, filesPerPVC: *small, fileSize: 4 << 10},
		{name: "3 PVCs in parallel", key: "parallel", pvcs: 3, filesPerPVC: 1, fileSize: large},
	}
	if err := run(scenarios, *managerPath, *dir, *extras, *peersOnly); err != nil {
		fmt.Fprintln(os.Stderr, "bench-transfer failed:", err)
		os.Exit(1)
	}
}

func run(scenarios []scenario, managerPath, dir, extras string, peersOnly bool) error {
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
	var env *migenv.Env
	if !peersOnly {
		fmt.Println("Starting two clusters, S3, two Velero servers and the operator...")
		if env, err = migenv.Start(ctx, migenv.Options{Dir: dir, Manager: managerPath}); err != nil {
			return err
		}
		defer func() { _ = env.Stop() }()
	}
	if env != nil && extras != "" {
		mc := &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migration-controller"},
			Spec: migv1.MigrationControllerSpec{RsyncOptExtras: extras}}
		if err := env.Destination.Client.Create(ctx, mc); err != nil {
			return fmt.Errorf("create MigrationController: %w", err)
		}
		fmt.Printf("rsync_opt_extras: %s\n", extras)
	}
	var metrics []string
	for i, sc := range scenarios {
		r, err := measure(ctx, env, sc, i, filepath.Join(data, fmt.Sprint(i)))
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		metrics = append(metrics, report(sc, r, hostTransports())...)
	}
	fmt.Println()
	fmt.Println("MB/s are MiB per second. The host transports run as processes on 127.0.0.1 (no pods, veths or")
	fmt.Println("Service proxy), each the median of 3 runs, interleaved; the DVM runs once. Ratios are of speeds.")
	fmt.Println("The peers run rsync -a through their transports; VolSync also passes -z, and pv-migrate can")
	fmt.Println("(its compress option): on incompressible data like this that only slows them down.")
	fmt.Println()
	for _, m := range metrics {
		fmt.Println(m)
	}
	return nil
}

// measure fills the scenario's volumes and copies them with each host transport and, with
// env, with a DVM.
func measure(ctx context.Context, env *migenv.Env, sc scenario, index int, root string) (result, error) {
	var r result
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
	}
	var err error
	if r.host, err = timeHost(ctx, hostTransports(), dirs, filepath.Join(root, "host")); err != nil || env == nil {
		return r, err
	}
	namespace := fmt.Sprintf("bench-%d", index)
	src := env.Source.Client
	if err := src.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return r, err
	}
	for p, d := range dirs {
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
	r.dvmTransfer, r.dvmE2E, err = dvm(ctx, env, namespace, sc.pvcs)
	return r, err
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

// plainRsync copies each directory with `rsync -a` into work, one after the other: the
// limit of any rsync-based transport on this machine.
func plainRsync(ctx context.Context, dirs []string, work string) (time.Duration, error) {
	defer func() { _ = os.RemoveAll(work) }()
	if err := os.MkdirAll(work, 0o755); err != nil {
		return 0, err
	}
	return timeCopies(ctx, dirs, work, &servers{}, func(i int, d string) []string {
		return []string{"rsync", "-a", d + "/", filepath.Join(work, fmt.Sprint(i)) + "/"}
	})
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
