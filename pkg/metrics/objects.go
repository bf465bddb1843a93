package metrics

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// scrapeTimeout bounds the cache reads of one scrape.
const scrapeTimeout = 5 * time.Second

var (
	migrationsDesc = prometheus.NewDesc("ferry_migrations",
		"MigMigrations by outcome (pending, running, succeeded, succeeded_with_warnings, failed, canceled) and current phase.",
		[]string{"outcome", "phase"}, nil)
	clusterReadyDesc = prometheus.NewDesc("ferry_cluster_ready",
		"1 when the MigCluster is Ready (its API server reachable with its token), else 0.",
		[]string{"namespace", "cluster"}, nil)
	volumeBytesDesc = prometheus.NewDesc("ferry_volume_transferred_bytes",
		"Bytes rsync transferred for a PVC of a DirectVolumeMigration (current or last attempt).",
		[]string{"namespace", "dvm", "pvc_namespace", "pvc"}, nil)
	volumeFilesDesc = prometheus.NewDesc("ferry_volume_transferred_files",
		"Regular files rsync transferred for a PVC of a DirectVolumeMigration, once its attempt ended.",
		[]string{"namespace", "dvm", "pvc_namespace", "pvc"}, nil)
	volumeRateDesc = prometheus.NewDesc("ferry_volume_transfer_rate_bytes_per_second",
		"rsync's last reported transfer rate for a PVC of a DirectVolumeMigration.",
		[]string{"namespace", "dvm", "pvc_namespace", "pvc"}, nil)
	imageBytesDesc = prometheus.NewDesc("ferry_image_copied_bytes",
		"Image bytes of a DirectImageStreamMigration (state: copied, skipped because the destination held them, total).",
		[]string{"namespace", "dism", "state"}, nil)
)

// objects reads Ferry's objects from the manager's cache at scrape time.
type objects struct{ reader client.Reader }

func (objects) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{migrationsDesc, clusterReadyDesc, volumeBytesDesc, volumeFilesDesc, volumeRateDesc, imageBytesDesc} {
		ch <- d
	}
}

func (o objects) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	o.migrations(ctx, ch)
	o.clusters(ctx, ch)
	o.volumes(ctx, ch)
	o.images(ctx, ch)
}

func (o objects) migrations(ctx context.Context, ch chan<- prometheus.Metric) {
	list := &migv1.MigMigrationList{}
	if err := o.reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(migrationsDesc, err)
		return
	}
	counts := map[[2]string]float64{}
	for i := range list.Items {
		m := &list.Items[i]
		counts[[2]string{Outcome(m), m.Status.Phase}]++
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(migrationsDesc, prometheus.GaugeValue, v, k[0], k[1])
	}
}

// Outcome is how a migration stands: pending, running, succeeded, succeeded_with_warnings,
// failed or canceled.
func Outcome(m *migv1.MigMigration) string {
	c := m.Status.Conditions
	switch {
	case conditions.Find(c, migv1.Canceled) != nil:
		return "canceled"
	case conditions.Find(c, migv1.Failed) != nil:
		if m.Status.Phase == itinerary.Completed {
			return "failed"
		}
		return "running"
	case conditions.Find(c, migv1.SucceededWithWarnings) != nil:
		return "succeeded_with_warnings"
	case conditions.Find(c, migv1.Succeeded) != nil:
		return "succeeded"
	case m.Status.Phase != "":
		return "running"
	}
	return "pending"
}

func (o objects) clusters(ctx context.Context, ch chan<- prometheus.Metric) {
	list := &migv1.MigClusterList{}
	if err := o.reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(clusterReadyDesc, err)
		return
	}
	for i := range list.Items {
		c := &list.Items[i]
		ready := 0.0
		if conditions.IsTrue(c.Status.Conditions, migv1.Ready) {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(clusterReadyDesc, prometheus.GaugeValue, ready, c.Namespace, c.Name)
	}
}

func (o objects) volumes(ctx context.Context, ch chan<- prometheus.Metric) {
	list := &migv1.DirectVolumeMigrationProgressList{}
	if err := o.reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(volumeBytesDesc, err)
		return
	}
	for i := range list.Items {
		p := &list.Items[i]
		dvm := ""
		if ref := metav1.GetControllerOf(p); ref != nil {
			dvm = ref.Name
		}
		labels := []string{p.Namespace, dvm, p.Spec.PodNamespace, pvcName(p)}
		st := p.Status.RsyncPodStatus
		ch <- prometheus.MustNewConstMetric(volumeBytesDesc, prometheus.GaugeValue, float64(st.TransferredBytes), labels...)
		if rate, ok := ParseRate(st.LastObservedTransferRate); ok {
			ch <- prometheus.MustNewConstMetric(volumeRateDesc, prometheus.GaugeValue, rate, labels...)
		}
		if stats, ok := transfer.ParseStats(st.LogMessage); ok {
			ch <- prometheus.MustNewConstMetric(volumeFilesDesc, prometheus.GaugeValue, float64(stats.RegularFilesTransferred), labels...)
		}
	}
}

func (o objects) images(ctx context.Context, ch chan<- prometheus.Metric) {
	list := &migv1.DirectImageStreamMigrationList{}
	if err := o.reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(imageBytesDesc, err)
		return
	}
	for i := range list.Items {
		d := &list.Items[i]
		p := d.Status.Progress
		if p == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(imageBytesDesc, prometheus.GaugeValue, float64(p.CopiedBytes), d.Namespace, d.Name, "copied")
		ch <- prometheus.MustNewConstMetric(imageBytesDesc, prometheus.GaugeValue, float64(p.SkippedBytes), d.Namespace, d.Name, "skipped")
		ch <- prometheus.MustNewConstMetric(imageBytesDesc, prometheus.GaugeValue, float64(p.TotalBytes), d.Namespace, d.Name, "total")
	}
}

// pvcName is the claim a progress object follows: its annotation, else its own name.
func pvcName(p *migv1.DirectVolumeMigrationProgress) string {
	if v, ok := p.Annotations[transfer.AnnotationPVC]; ok {
		if _, name, found := strings.Cut(v, "/"); found {
			return name
		}
		return v
	}
	return p.Name
}

// ParseRate reads rsync's rate ("12.34MB/s", "512.00kB/s", "1.5GB/s"; rsync's units are
// powers of 1024) in bytes per second.
func ParseRate(s string) (float64, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/s")
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v * mult, true
}

// Register registers Ferry's metrics with registry, the scrape-time ones reading through
// reader (the manager's cache).
func Register(registry prometheus.Registerer, reader client.Reader) error {
	for _, c := range append(observations(), objects{reader: reader}) {
		if err := registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}
