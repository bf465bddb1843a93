package migration_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// scraper reads the operator's metrics endpoint as Prometheus does: HTTPS to the pod's
// address (from the node, the pod network being the node's), with a ServiceAccount token.
type scraper struct {
	client *http.Client
	url    string
}

func newScraper() *scraper {
	GinkgoHelper()
	pod, err := env.Operator.Pod(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(pod.Status.PodIP).NotTo(BeEmpty())
	n := env.DestinationNode()
	return &scraper{
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return n.DialContext(ctx, network, addr)
			},
			// The endpoint's certificate is self-signed (none is mounted), as the shipped
			// ServiceMonitor assumes.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
		}},
		url: "https://" + net.JoinHostPort(pod.Status.PodIP, "8443") + "/metrics",
	}
}

// scrape returns the HTTP status and the body of one scrape with token ("" for none).
func (s *scraper) scrape(token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// sample is the sum of the samples of metric name whose labels contain every one of labels
// (`key="value"`), and whether there was any.
func sample(body, name string, labels ...string) (float64, bool) {
	total, found := 0.0, false
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err == nil {
			total, found = total+v, true
		}
	}
	return total, found
}

// value is sample's sum, -1 when there is no such sample.
func value(body, name string, labels ...string) float64 {
	if v, ok := sample(body, name, labels...); ok {
		return v
	}
	return -1
}

// scrapeDuringAMigration scrapes the metrics endpoint before, during and after a cutover that
// copies a volume, and checks that only an authorized caller gets them and that they move.
func scrapeDuringAMigration() {
	if env.Operator == nil {
		Skip("the operator runs as a host process without a metrics endpoint (FERRY_OPERATOR=process, for debugging)")
	}
	s := newScraper()
	By("refusing callers without a token, or whose token may not get /metrics")
	nobody, err := env.Destination.MintToken(ctx, "monitoring", "nobody", "")
	Expect(err).NotTo(HaveOccurred())
	reader, err := env.Destination.MintToken(ctx, "monitoring", "prometheus", "ferry-metrics-reader")
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() (int, error) { code, _, err := s.scrape(""); return code, err }).Should(Equal(http.StatusUnauthorized))
	code, body, err := s.scrape(nobody)
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(Equal(http.StatusForbidden))
	Expect(body).NotTo(ContainSubstring("ferry_"))

	code, before, err := s.scrape(reader)
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(Equal(http.StatusOK))
	Expect(value(before, "ferry_cluster_ready", `cluster="source"`)).To(BeNumerically("==", 1))
	finals := func(body string) float64 {
		v, _ := sample(body, "ferry_migration_duration_seconds_count", `type="final"`, `outcome="succeeded"`)
		return v
	}

	const name = "metered"
	volumeApp(env.Source.Client, name)
	plan := readyPlan(name, []string{name + ":" + name + "-new"}, nil)
	m := migrate(name+"-final", plan, migv1.MigMigrationSpec{QuiescePods: true, RunAsRoot: ptr.To(true)})

	By("seeing the migration run and its Velero items counted while it runs")
	var mu sync.Mutex
	seen := map[string]bool{}
	key, step := client.ObjectKeyFromObject(m), regexp.MustCompile(`^Step: \d+/\d+$`)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			// The seed's example of a running migration (MTC 1.8 docs, "oc describe migmigration"):
			// Running, Advisory, its reason the phase, "Step: n/m"; Ready, Required.
			running := &migv1.MigMigration{}
			if err := env.Destination.Client.Get(ctx, key, running); err == nil &&
				running.Status.Phase != "" && running.Status.Phase != "Completed" {
				c, ready := conditions.Find(running.Status.Conditions, migv1.Running), conditions.Find(running.Status.Conditions, migv1.Ready)
				if c != nil && c.Category == migv1.CategoryAdvisory && c.Reason == running.Status.Phase &&
					step.MatchString(c.Message) &&
					ready != nil && ready.Category == migv1.CategoryRequired && ready.Status == migv1.True {
					mu.Lock()
					seen["Running condition"] = true
					mu.Unlock()
				}
			}
			_, body, err := s.scrape(reader)
			if err != nil {
				continue
			}
			mu.Lock()
			if v, _ := sample(body, "ferry_migrations", `outcome="running"`); v > 0 {
				seen["running"] = true
			}
			if v, _ := sample(body, "ferry_velero_items", fmt.Sprintf(`migration="%s-final"`, name), `state="total"`); v > 0 {
				seen["velero items"] = true
			}
			mu.Unlock()
		}
	}()
	m = completed(m, 4*time.Minute)
	close(stop)
	<-done
	Expect(hasCondition(m, migv1.Succeeded)).To(BeTrue(), "conditions: %v", m.Status.Conditions)
	mu.Lock()
	Expect(seen).To(And(HaveKey("running"), HaveKey("velero items"), HaveKey("Running condition")), "scrapes during the migration saw %v", seen)
	mu.Unlock()

	By("counting the ended migration, its phases and the volume's bytes and files")
	Eventually(func(g Gomega) {
		code, after, err := s.scrape(reader)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusOK))
		g.Expect(finals(after)).To(Equal(finals(before) + 1))
		phases, _ := sample(after, "ferry_migration_phase_duration_seconds_count", `itinerary="Final"`)
		g.Expect(phases).To(BeNumerically(">", 5))
		bytes, _ := sample(after, "ferry_volume_transferred_bytes", `pvc_namespace="`+name+`"`, `pvc="data"`)
		g.Expect(bytes).To(BeNumerically(">", 0))
		files, _ := sample(after, "ferry_volume_transferred_files", `pvc_namespace="`+name+`"`, `pvc="data"`)
		g.Expect(files).To(BeNumerically(">=", 11), "the volume holds 11 files")
		g.Expect(value(after, "ferry_migrations", `outcome="succeeded"`, `phase="Completed"`)).To(BeNumerically(">=", 1))
		g.Expect(value(after, "controller_runtime_reconcile_total", `controller="migmigration"`)).To(BeNumerically(">", 0))
		_, stale := sample(after, "ferry_velero_items", fmt.Sprintf(`migration="%s-final"`, name))
		g.Expect(stale).To(BeFalse(), "an ended migration's Velero gauges are dropped")
		g.Expect(after).To(ContainSubstring("cam_app_workload_migrations"), "MTC's gauge is kept")
	}).Should(Succeed())
}
