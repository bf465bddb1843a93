package objectstore

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/netutil"
	"github.com/ferrymtc/ferry/test/s3"
)

// startS3 starts a real S3 server with one bucket, "backups".
func startS3(t *testing.T, opts s3.Options) *s3.Server {
	t.Helper()
	srv, err := s3.Start(opts)
	if err != nil {
		t.Fatalf("start S3 server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	if err := srv.CreateBucket(t.Context(), "backups"); err != nil {
		t.Fatal(err)
	}
	return srv
}

func keysOf(srv *s3.Server) map[string][]byte {
	return map[string][]byte{AWSAccessKeyIDKey: []byte(srv.AccessKey), AWSSecretAccessKeyKey: []byte(srv.SecretKey)}
}

func configFor(srv *s3.Server) *migv1.BackupStorageConfig {
	return &migv1.BackupStorageConfig{AwsBucketName: "backups", AwsS3URL: srv.Endpoint, AwsRegion: srv.Region}
}

// wantFailure asserts a *TestError of the given kind whose message holds want and no secret.
func wantFailure(t *testing.T, err error, kind FailureKind, want string, secrets ...string) {
	t.Helper()
	var te *TestError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want a *TestError", err, err)
	}
	if te.Kind != kind || !strings.Contains(te.Message, want) {
		t.Fatalf("TestError = %s: %q, want %s containing %q", te.Kind, te.Message, kind, want)
	}
	for _, s := range secrets {
		if strings.Contains(te.Message, s) {
			t.Fatalf("message %q reveals a credential", te.Message)
		}
	}
}

func TestS3ProbeSucceedsAndCleansUp(t *testing.T) {
	srv := startS3(t, s3.Options{})
	tester := Tester{}
	if err := tester.TestBucket(t.Context(), "aws", configFor(srv), keysOf(srv)); err != nil {
		t.Fatalf("TestBucket: %v", err)
	}
	// awsPublicUrl is used when awsS3Url is empty.
	cfg := configFor(srv)
	cfg.AwsPublicURL, cfg.AwsS3URL = cfg.AwsS3URL, ""
	if err := tester.TestBucket(t.Context(), "aws", cfg, keysOf(srv)); err != nil {
		t.Fatalf("TestBucket with awsPublicUrl: %v", err)
	}
	left, err := srv.Objects(t.Context(), "backups")
	if err != nil || len(left) != 0 {
		t.Fatalf("objects left in the bucket: %v, %v", left, err)
	}
}

func TestS3ProbeClassifiesFailures(t *testing.T) {
	srv := startS3(t, s3.Options{})
	tester := Tester{}

	wrongSecret := keysOf(srv)
	wrongSecret[AWSSecretAccessKeyKey] = []byte("wrong-secret-key")
	err := tester.TestBucket(t.Context(), "aws", configFor(srv), wrongSecret)
	wantFailure(t, err, FailureAccessDenied, "access denied: check aws-access-key-id/aws-secret-access-key", "wrong-secret-key", srv.AccessKey)
	again := tester.TestBucket(t.Context(), "aws", configFor(srv), wrongSecret)
	if again.Error() != err.Error() {
		t.Errorf("the message changes between runs:\n%s\n%s", err, again)
	}

	unknownKey := map[string][]byte{AWSAccessKeyIDKey: []byte("NOSUCHKEY"), AWSSecretAccessKeyKey: []byte(srv.SecretKey)}
	wantFailure(t, tester.TestBucket(t.Context(), "aws", configFor(srv), unknownKey), FailureAccessDenied, "access denied", srv.SecretKey)

	missing := configFor(srv)
	missing.AwsBucketName = "no-such-bucket"
	wantFailure(t, tester.TestBucket(t.Context(), "aws", missing, keysOf(srv)), FailureBucketNotFound, "bucket no-such-bucket does not exist")
}

func TestS3ProbeReportsUnreachableEndpointsQuickly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	creds := map[string][]byte{AWSAccessKeyIDKey: []byte("a"), AWSSecretAccessKeyKey: []byte("b")}
	start := time.Now()
	err = Tester{}.TestBucket(t.Context(), "aws", &migv1.BackupStorageConfig{AwsBucketName: "b", AwsS3URL: closed}, creds)
	wantFailure(t, err, FailureUnreachable, "cannot reach "+closed)
	if !strings.Contains(err.Error(), "connection refused") || time.Since(start) > 5*time.Second {
		t.Errorf("after %s: %v; want connection refused within seconds", time.Since(start), err)
	}

	// A server that accepts connections but never answers is cut off by the request timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer func() { _ = c.Close() }()
		}
	}()
	err = Tester{RequestTimeout: 300 * time.Millisecond}.TestBucket(t.Context(), "aws",
		&migv1.BackupStorageConfig{AwsBucketName: "b", AwsS3URL: "http://" + silent.Addr().String()}, creds)
	wantFailure(t, err, FailureUnreachable, "no answer within 300ms")
}

func TestS3ProbeVerifiesTLS(t *testing.T) {
	srv := startS3(t, s3.Options{TLS: true})
	tester := Tester{}

	noCA := configFor(srv)
	wantFailure(t, tester.TestBucket(t.Context(), "aws", noCA, keysOf(srv)), FailureUntrustedCertificate, "s3CustomCABundle")

	withCA := configFor(srv)
	withCA.S3CustomCABundle = srv.CABundle
	if err := tester.TestBucket(t.Context(), "aws", withCA, keysOf(srv)); err != nil {
		t.Errorf("with the CA bundle: %v", err)
	}
	insecure := configFor(srv)
	insecure.Insecure = true
	if err := tester.TestBucket(t.Context(), "aws", insecure, keysOf(srv)); err != nil {
		t.Errorf("insecure: %v", err)
	}
	garbage := configFor(srv)
	garbage.S3CustomCABundle = []byte("not a certificate")
	wantFailure(t, tester.TestBucket(t.Context(), "aws", garbage, keysOf(srv)), FailureInvalidSettings, "holds no PEM certificate")
}

func TestLiveTestNotSupportedForGCPAndAzure(t *testing.T) {
	for _, provider := range []string{"gcp", "azure"} {
		err := Tester{}.TestBucket(context.Background(), provider, &migv1.BackupStorageConfig{}, nil)
		if !errors.Is(err, ErrLiveTestNotSupported) {
			t.Errorf("%s: err = %v, want ErrLiveTestNotSupported", provider, err)
		}
	}
}

// TestS3ProbeThroughAProxy: an object store whose name only a proxy resolves is tested through
// the Tester's proxy (the MigrationController's httpProxy/httpsProxy in the operator).
func TestS3ProbeThroughAProxy(t *testing.T) {
	srv := startS3(t, s3.Options{})
	endpoint, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	const name = "objects.behind-proxy.test"
	proxy := netutil.StartProxy(t, map[string]string{name: endpoint.Hostname()})
	cfg := configFor(srv)
	cfg.AwsS3URL = endpoint.Scheme + "://" + name + ":" + endpoint.Port()
	if err := (Tester{RequestTimeout: 2 * time.Second}).TestBucket(t.Context(), "aws", cfg, keysOf(srv)); err == nil {
		t.Fatal("the store was reached without the proxy; the test proves nothing")
	}
	if err := (Tester{Proxy: http.ProxyURL(proxy.URL)}).TestBucket(t.Context(), "aws", cfg, keysOf(srv)); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if proxy.Requests() == 0 {
		t.Error("the proxy carried nothing")
	}
}
