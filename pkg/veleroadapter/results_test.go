package veleroadapter

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/util/results"

	"github.com/ferrymtc/ferry/test/netutil"
)

func gzipJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSummary(t *testing.T) {
	body := gzipJSON(t, map[string]results.Result{
		"errors": {
			Velero:  []string{"error getting backup store"},
			Cluster: []string{"error restoring persistentvolumes/pv1: denied"},
			Namespaces: map[string][]string{
				"ns2": {"error restoring configmaps/ns2/web: denied"},
				"ns1": {"error restoring deployments.apps/ns1/web: exists", "error restoring services/ns1/web: denied"},
			},
		},
		"warnings": {Namespaces: map[string][]string{"ns1": {"could not restore, ConfigMap \"x\" already exists"}}},
	})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	ctx := context.Background()
	hosts := []string{strings.TrimPrefix(srv.URL, "https://")}

	all := []string{
		"velero: error getting backup store",
		"cluster: error restoring persistentvolumes/pv1: denied",
		"namespace ns1: error restoring deployments.apps/ns1/web: exists",
		"namespace ns1: error restoring services/ns1/web: denied",
		"namespace ns2: error restoring configmaps/ns2/web: denied",
		"warning: namespace ns1: could not restore, ConfigMap \"x\" already exists",
	}
	tests := []struct {
		name     string
		maxLines int
		want     []string
	}{
		{"no limit", 0, all},
		{"limit above the count", 10, all},
		{"limit", 3, append(append([]string{}, all[:2]...), "... and 4 more")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Summary(ctx, Download{URL: srv.URL + "/results", CABundle: ca, Hosts: hosts}, tt.maxLines)
			if err != nil {
				t.Fatalf("Summary: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Summary =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}

	if _, err := Summary(ctx, Download{URL: srv.URL + "/results", Hosts: hosts}, 0); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Summary without the CA: error %v, want a certificate error", err)
	}
	if _, err := Summary(ctx, Download{URL: srv.URL + "/results", InsecureSkipTLSVerify: true, Hosts: hosts}, 0); err != nil {
		t.Errorf("Summary with insecureSkipTLSVerify: %v", err)
	}
	if _, err := Summary(ctx, Download{URL: srv.URL + "/missing", CABundle: ca, Hosts: hosts}, 0); !errors.Is(err, ErrResultsNotFound) {
		t.Errorf("Summary of a missing file: error %v, want ErrResultsNotFound", err)
	}
}

func TestEnsureDownloadRequest(t *testing.T) {
	ctx := context.Background()
	bsl := location("loc", "bucket", "velero", map[string]string{"insecureSkipTLSVerify": "true"})
	bsl.Spec.ObjectStorage.CACert = []byte("CA")
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(
		bsl,
		&velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: testNS}, Spec: velerov1.BackupSpec{StorageLocation: "loc"}},
		&velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: testNS}, Spec: velerov1.RestoreSpec{BackupName: "b"}},
	).Build()
	kind := velerov1.DownloadTargetKindRestoreResults
	key := client.ObjectKey{Namespace: testNS, Name: "r-restoreresults"}
	if got := DownloadRequestName(kind, "r"); got != key.Name {
		t.Fatalf("DownloadRequestName = %q, want %q", got, key.Name)
	}

	// First call: the request is created, nothing to download yet.
	d, err := EnsureDownloadRequest(ctx, c, testNS, kind, "r")
	if err != nil || d != nil {
		t.Fatalf("first EnsureDownloadRequest = %+v, %v; want nil, nil", d, err)
	}
	req := &velerov1.DownloadRequest{}
	if err := c.Get(ctx, key, req); err != nil {
		t.Fatalf("DownloadRequest not created: %v", err)
	}
	if req.Spec.Target != (velerov1.DownloadTarget{Kind: kind, Name: "r"}) {
		t.Errorf("target = %+v", req.Spec.Target)
	}
	// Not answered yet.
	if d, err := EnsureDownloadRequest(ctx, c, testNS, kind, "r"); err != nil || d != nil {
		t.Fatalf("unanswered EnsureDownloadRequest = %+v, %v; want nil, nil", d, err)
	}

	// Velero answers.
	req.Status = velerov1.DownloadRequestStatus{
		Phase: velerov1.DownloadRequestPhaseProcessed, DownloadURL: "https://store/signed",
		Expiration: &metav1.Time{Time: time.Now().Add(10 * time.Minute)},
	}
	if err := c.Update(ctx, req); err != nil {
		t.Fatal(err)
	}
	d, err = EnsureDownloadRequest(ctx, c, testNS, kind, "r")
	want := &Download{URL: "https://store/signed", CABundle: []byte("CA"), InsecureSkipTLSVerify: true, Hosts: []string{".amazonaws.com", ".amazonaws.com.cn"}}
	if err != nil || !reflect.DeepEqual(d, want) {
		t.Fatalf("answered EnsureDownloadRequest = %+v, %v; want %+v", d, err, want)
	}

	// An expiring URL is not handed out; the request goes, to be made again.
	req.Status.Expiration = &metav1.Time{Time: time.Now().Add(10 * time.Second)}
	if err := c.Update(ctx, req); err != nil {
		t.Fatal(err)
	}
	if d, err := EnsureDownloadRequest(ctx, c, testNS, kind, "r"); err != nil || d != nil {
		t.Fatalf("expiring EnsureDownloadRequest = %+v, %v; want nil, nil", d, err)
	}
	if err := c.Get(ctx, key, &velerov1.DownloadRequest{}); err == nil {
		t.Errorf("the expiring DownloadRequest was not deleted")
	}

	if err := DeleteDownloadRequest(ctx, c, testNS, kind, "r"); err != nil {
		t.Errorf("DeleteDownloadRequest of a missing request: %v", err)
	}
}

func TestDownloadRequestNameIsBounded(t *testing.T) {
	n := DownloadRequestName(velerov1.DownloadTargetKindBackupResults, strings.Repeat("a", 300))
	if len(n) > 253 || !strings.HasSuffix(n, "-backupresults") {
		t.Errorf("DownloadRequestName of a long target = %q (%d characters)", n, len(n))
	}
}

// TestSummaryThroughAProxy: results on an object store whose name only a proxy resolves are
// downloaded through Download.Proxy (the MigrationController's settings in the operator).
func TestSummaryThroughAProxy(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(gzipJSON(t, map[string]results.Result{"errors": {Velero: []string{"error getting backup store"}}}))
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	// .test never resolves: only the proxy knows where the store is.
	const name = "objects.behind-proxy.test"
	proxy := netutil.StartProxy(t, map[string]string{name: "127.0.0.1"})
	host := net.JoinHostPort(name, port)
	// The test server's certificate does not name the host; verification is tested above.
	d := Download{URL: "https://" + host + "/results", InsecureSkipTLSVerify: true, Hosts: []string{host}}
	if _, err := Summary(t.Context(), d, 0); err == nil {
		t.Fatal("the store was reached without the proxy; the test proves nothing")
	}
	d.Proxy = http.ProxyURL(proxy.URL)
	got, err := Summary(t.Context(), d, 0)
	if err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if want := []string{"velero: error getting backup store"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if proxy.Requests() == 0 {
		t.Error("the proxy carried nothing")
	}
}
