package veleroadapter

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/util/results"
)

// signedDownload returns the Download EnsureDownloadRequest hands out when the Velero of a
// cluster answered the DownloadRequest with url, for a backup in a location with config.
func signedDownload(t *testing.T, provider string, config map[string]string, url string, ca []byte) *Download {
	t.Helper()
	ctx := context.Background()
	bsl := location("loc", "bucket", "velero", config)
	bsl.Spec.Provider = provider
	bsl.Spec.ObjectStorage.CACert = ca
	req := &velerov1.DownloadRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: DownloadRequestName(velerov1.DownloadTargetKindBackupResults, "b")},
		Spec:       velerov1.DownloadRequestSpec{Target: velerov1.DownloadTarget{Kind: velerov1.DownloadTargetKindBackupResults, Name: "b"}},
		Status: velerov1.DownloadRequestStatus{Phase: velerov1.DownloadRequestPhaseProcessed, DownloadURL: url,
			Expiration: &metav1.Time{Time: time.Now().Add(10 * time.Minute)}},
	}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(bsl, req,
		&velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: testNS}, Spec: velerov1.BackupSpec{StorageLocation: "loc"}},
	).WithStatusSubresource(req).Build()
	d, err := EnsureDownloadRequest(ctx, c, testNS, velerov1.DownloadTargetKindBackupResults, "b")
	if err != nil || d == nil {
		t.Fatalf("EnsureDownloadRequest = %+v, %v", d, err)
	}
	return d
}

// TestResultsOnlyFromTheLocationsEndpoint: the download URL is whatever a (possibly remote)
// Velero wrote into a DownloadRequest's status; the operator fetches it from inside the
// host cluster, so it must point at the object store of the backup's location, and nothing
// of what answers (a body, the signed query string) may reach the migration's status.
func TestResultsOnlyFromTheLocationsEndpoint(t *testing.T) {
	var hits int
	internal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("internal admin page: token=hunter2"))
	}))
	defer internal.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: internal.Certificate().Raw})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(internal.URL, "https://"))
	ctx := context.Background()

	// A location on https://store.example:9000: a URL to another host is not fetched.
	d := signedDownload(t, "aws", map[string]string{"s3Url": "https://store.example:9000"}, internal.URL+"/admin?X-Amz-Signature=SECRET", ca)
	if _, err := Summary(ctx, *d, 0); err == nil {
		t.Error("results were fetched from a host that is not the location's")
	} else if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("the error shows the signed query string: %v", err)
	}
	if hits != 0 {
		t.Errorf("the operator sent %d requests to a host that is not the location's", hits)
	}
	// AWS without s3Url: only Amazon's endpoints.
	d = signedDownload(t, "velero.io/aws", map[string]string{"region": "us-east-1"}, internal.URL+"/results?X-Amz-Signature=SECRET", ca)
	if _, err := Summary(ctx, *d, 0); err == nil || hits != 0 {
		t.Errorf("an AWS location's results were fetched from %s: %v", internal.URL, err)
	}

	// The location's own endpoint is fetched; its error body is not reflected, nor is the
	// signed query string of a failed request.
	d = signedDownload(t, "aws", map[string]string{"s3Url": "https://127.0.0.1:" + port}, internal.URL+"/results?X-Amz-Signature=SECRET", ca)
	_, err := Summary(ctx, *d, 0)
	if err == nil || hits != 1 {
		t.Fatalf("the location's endpoint: %d requests, error %v", hits, err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "admin page") || !strings.Contains(err.Error(), "403") {
		t.Errorf("error %q: want the status, not the body", err)
	}
	internal.Close()
	if _, err := Summary(ctx, *d, 0); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("a failed request's error shows the signed query string: %v", err)
	}
}

// TestResultsFromTheLocationsEndpoint: the URL of the location's endpoint works, also behind
// publicUrl, with or without the default port.
func TestResultsFromTheLocationsEndpoint(t *testing.T) {
	body := gzipJSON(t, map[string]results.Result{"errors": {Velero: []string{"boom"}}})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	for _, config := range []map[string]string{
		{"s3Url": srv.URL},
		{"s3Url": "http://minio.internal:9000", "publicUrl": srv.URL + "/"},
	} {
		d := signedDownload(t, "aws", config, srv.URL+"/bucket/velero/backups/b/b-results.gz?X-Amz-Signature=x", ca)
		lines, err := Summary(context.Background(), *d, 0)
		if err != nil || len(lines) != 1 || lines[0] != "velero: boom" {
			t.Errorf("config %v: %q, %v", config, lines, err)
		}
	}
}

func TestLocationHosts(t *testing.T) {
	cases := []struct {
		provider string
		config   map[string]string
		url      string
		ok       bool
	}{
		{"aws", nil, "https://bucket.s3.us-east-1.amazonaws.com/velero/b.gz?X-Amz-Signature=x", true},
		{"velero.io/aws", nil, "https://s3.amazonaws.com/bucket/b.gz", true},
		{"aws", nil, "https://s3.cn-north-1.amazonaws.com.cn/bucket/b.gz", true},
		{"aws", nil, "https://amazonaws.com.evil.example/b.gz", false},
		{"aws", nil, "https://bucket.s3.amazonaws.com:8443/b.gz", false},
		{"aws", nil, "http://bucket.s3.amazonaws.com/b.gz", false},
		{"aws", nil, "https://169.254.169.254/latest/meta-data", false},
		{"aws", map[string]string{"s3Url": "http://minio.velero.svc:9000"}, "http://minio.velero.svc:9000/bucket/b.gz", true},
		{"aws", map[string]string{"s3Url": "http://minio.velero.svc:9000"}, "http://minio.velero.svc/bucket/b.gz", false},
		{"aws", map[string]string{"s3Url": "http://minio.velero.svc:9000"}, "https://bucket.s3.amazonaws.com/b.gz", false},
		{"aws", map[string]string{"s3Url": "https://S3.Example.com"}, "https://s3.example.com:443/bucket/b.gz", true},
		{"aws", map[string]string{"s3Url": "http://10.0.0.5:9000", "publicUrl": "https://s3.example.com"}, "https://s3.example.com/b", true},
		{"azure", nil, "https://account.blob.core.windows.net/container/b.gz?sig=x", true},
		{"azure", nil, "https://account.file.core.windows.net/share/b.gz", false},
		{"gcp", nil, "https://storage.googleapis.com/bucket/b.gz?X-Goog-Signature=x", true},
		{"gcp", nil, "https://metadata.google.internal/computeMetadata/v1/", false},
		{"example.io/other", nil, "https://store.example/b.gz", false},
	}
	for _, tc := range cases {
		spec := &velerov1.BackupStorageLocationSpec{Provider: tc.provider, Config: tc.config}
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := allowed(u, LocationHosts(spec)); got != tc.ok {
			t.Errorf("%s %v: %s allowed = %v, want %v (hosts %v)", tc.provider, tc.config, tc.url, got, tc.ok, LocationHosts(spec))
		}
	}
}
