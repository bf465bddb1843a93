package veleroadapter

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/util/results"
)

const (
	// urlMargin is how long before its expiration a signed URL is no longer handed out: the
	// request is deleted and made again, so that the URL is still valid when it is fetched.
	urlMargin = time.Minute
	// maxResultsBytes caps the decompressed results file read by Summary.
	maxResultsBytes = 16 << 20
	// pollInterval is how often Results looks at the DownloadRequest; Velero answers a new
	// one in milliseconds.
	pollInterval = 100 * time.Millisecond
	// cleanupTimeout bounds the deletion of the DownloadRequest after Results.
	cleanupTimeout = 5 * time.Second
	// insecureConfigKey is the location config key that turns off TLS verification.
	insecureConfigKey = "insecureSkipTLSVerify"
)

// ErrResultsNotFound says the object store has no results file: the backup or restore wrote
// none (backups older than Velero 1.11, or a failure before any item was processed).
var ErrResultsNotFound = errors.New("results file not found in object storage")

// Download is a file in Velero's object storage that Velero has signed a URL for.
type Download struct {
	// URL is the signed URL (valid for 10 minutes from when Velero signed it).
	URL string
	// CABundle verifies the store's certificate: the location's caCertRef Secret or caCert;
	// nil for the system roots.
	CABundle []byte
	// InsecureSkipTLSVerify is the location's config insecureSkipTLSVerify.
	InsecureSkipTLSVerify bool
	// Hosts are where the location's object store answers (LocationHosts): the URL must
	// point at one of them. An entry that begins with "." matches any host under it.
	Hosts []string
	// Proxy picks the proxy of the download (the operator's: the MigrationController's
	// httpProxy, httpsProxy and noProxy); nil uses the proxy of the environment, as Velero.
	Proxy func(*http.Request) (*url.URL, error)
}

// LocationHosts returns the hosts a BackupStorageLocation's signed URLs point at: those of
// its s3Url and publicUrl (host:port), else the public endpoints of its provider (AWS S3,
// Azure Blob Storage, Google Cloud Storage). None for another provider: its URLs are not
// fetched.
func LocationHosts(spec *velerov1.BackupStorageLocationSpec) []string {
	var hosts []string
	for _, key := range []string{"s3Url", "publicUrl"} {
		if raw := spec.Config[key]; raw != "" {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				hosts = append(hosts, hostPort(u))
			}
		}
	}
	if len(hosts) > 0 {
		return hosts
	}
	switch strings.TrimPrefix(spec.Provider, "velero.io/") {
	case "aws":
		return []string{".amazonaws.com", ".amazonaws.com.cn"}
	case "azure":
		return []string{".blob.core.windows.net", ".blob.core.chinacloudapi.cn", ".blob.core.usgovcloudapi.net"}
	case "gcp":
		return []string{"storage.googleapis.com", ".storage.googleapis.com"}
	}
	return nil
}

// hostPort is u's lower-case host with its port, the scheme's default when it has none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// allowed reports whether u points at one of hosts (see Download.Hosts); a suffix entry
// admits HTTPS on the default port only.
func allowed(u *url.URL, hosts []string) bool {
	if u.Scheme != "https" && u.Scheme != "http" {
		return false
	}
	hp := hostPort(u)
	for _, h := range hosts {
		if strings.HasPrefix(h, ".") {
			if u.Scheme == "https" && hp == net.JoinHostPort(strings.ToLower(u.Hostname()), "443") &&
				(strings.HasSuffix(strings.ToLower(u.Hostname()), h) || strings.ToLower(u.Hostname()) == h[1:]) {
				return true
			}
			continue
		}
		if hp == h {
			return true
		}
	}
	return false
}

// redacted is u without its query (a signature that grants access), fragment and user.
func redacted(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// DownloadRequestName is the deterministic name of the DownloadRequest for a file of the
// Backup or Restore named target: "<target>-<kind in lower case>", for example
// "mig-final-0123456789-restoreresults".
func DownloadRequestName(kind velerov1.DownloadTargetKind, target string) string {
	suffix := "-" + strings.ToLower(string(kind))
	if limit := validation.DNS1123SubdomainMaxLength - len(suffix); len(target) > limit {
		target = strings.TrimRight(target[:limit], "-.")
	}
	return target + suffix
}

// EnsureDownloadRequest asks Velero for a signed URL of a file of a Backup or Restore (kind
// BackupResults or RestoreResults for Summary) without blocking: it creates the
// DownloadRequest DownloadRequestName(kind, target) in namespace when it is missing and
// returns nil, nil until Velero has filled status.downloadURL, then the Download with the
// location's TLS settings. A request whose URL expires within a minute is deleted (nil, nil),
// so the next call makes a fresh one. Call DeleteDownloadRequest when done; Velero also
// deletes requests ten minutes after it answered them.
func EnsureDownloadRequest(ctx context.Context, c client.Client, namespace string, kind velerov1.DownloadTargetKind, target string) (*Download, error) {
	key := client.ObjectKey{Namespace: namespace, Name: DownloadRequestName(kind, target)}
	req := &velerov1.DownloadRequest{}
	err := c.Get(ctx, key, req)
	if apierrors.IsNotFound(err) {
		req = &velerov1.DownloadRequest{
			ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: namespace},
			Spec:       velerov1.DownloadRequestSpec{Target: velerov1.DownloadTarget{Kind: kind, Name: target}},
		}
		if err := c.Create(ctx, req); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create DownloadRequest %s: %w", key, err)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get DownloadRequest %s: %w", key, err)
	}
	if exp := req.Status.Expiration; exp != nil && time.Until(exp.Time) < urlMargin {
		if err := c.Delete(ctx, req); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("delete expiring DownloadRequest %s: %w", key, err)
		}
		return nil, nil
	}
	if req.Status.DownloadURL == "" {
		return nil, nil
	}
	d := &Download{URL: req.Status.DownloadURL}
	if err := fromLocation(ctx, c, namespace, kind, target, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DeleteDownloadRequest deletes the DownloadRequest of EnsureDownloadRequest; a missing one
// is no error.
func DeleteDownloadRequest(ctx context.Context, c client.Client, namespace string, kind velerov1.DownloadTargetKind, target string) error {
	req := &velerov1.DownloadRequest{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: DownloadRequestName(kind, target)}}
	if err := c.Delete(ctx, req); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete DownloadRequest %s/%s: %w", namespace, req.Name, err)
	}
	return nil
}

// fromLocation fills the TLS settings of d from the BackupStorageLocation of the target's
// backup, as `velero describe --details` does (pkg/cmd/util/cacert), and the hosts its URL
// may point at. Missing objects leave the defaults: no hosts, so the download is refused.
func fromLocation(ctx context.Context, c client.Client, namespace string, kind velerov1.DownloadTargetKind, target string, d *Download) error {
	backupName := target
	if strings.HasPrefix(string(kind), "Restore") {
		restore := &velerov1.Restore{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: target}, restore); err != nil {
			return ignoreNotFound(err, "get Restore %s/%s", namespace, target)
		}
		backupName = restore.Spec.BackupName
	}
	backup := &velerov1.Backup{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: backupName}, backup); err != nil {
		return ignoreNotFound(err, "get Backup %s/%s", namespace, backupName)
	}
	bsl := &velerov1.BackupStorageLocation{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: backup.Spec.StorageLocation}, bsl); err != nil {
		return ignoreNotFound(err, "get BackupStorageLocation %s/%s", namespace, backup.Spec.StorageLocation)
	}
	d.InsecureSkipTLSVerify, _ = strconv.ParseBool(bsl.Spec.Config[insecureConfigKey])
	d.Hosts = LocationHosts(&bsl.Spec)
	obj := bsl.Spec.ObjectStorage
	switch {
	case obj == nil:
	case obj.CACertRef != nil:
		secret := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: obj.CACertRef.Name}, secret); err != nil {
			return ignoreNotFound(err, "get CA Secret %s/%s", namespace, obj.CACertRef.Name)
		}
		d.CABundle = secret.Data[obj.CACertRef.Key]
	default:
		d.CABundle = obj.CACert
	}
	return nil
}

func ignoreNotFound(err error, format string, args ...any) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// Summary fetches a BackupResults or RestoreResults file (gzipped JSON of Velero's
// results.Result per "errors" and "warnings") and returns it as lines, errors first:
// "velero: <msg>", "cluster: <msg>", "namespace <ns>: <msg>", then the warnings prefixed
// "warning: ". With maxLines > 0 it returns at most maxLines lines, the last one saying how
// many were left out.
func Summary(ctx context.Context, d Download, maxLines int) ([]string, error) {
	res, err := fetchResults(ctx, d)
	if err != nil {
		return nil, err
	}
	lines := resultLines("", res["errors"])
	lines = append(lines, resultLines("warning: ", res["warnings"])...)
	if maxLines > 0 && len(lines) > maxLines {
		left := len(lines) - (maxLines - 1)
		lines = append(lines[:maxLines-1], fmt.Sprintf("... and %d more", left))
	}
	return lines, nil
}

// resultLines turns one results.Result into lines, namespaces sorted.
func resultLines(prefix string, r results.Result) []string {
	var lines []string
	for _, m := range r.Velero {
		lines = append(lines, prefix+"velero: "+m)
	}
	for _, m := range r.Cluster {
		lines = append(lines, prefix+"cluster: "+m)
	}
	for _, ns := range slices.Sorted(maps.Keys(r.Namespaces)) {
		for _, m := range r.Namespaces[ns] {
			lines = append(lines, prefix+"namespace "+ns+": "+m)
		}
	}
	return lines
}

// fetchResults downloads and decodes a results file. The URL comes from a DownloadRequest's
// status, which whoever may write it on the (possibly remote) cluster controls, and the
// operator fetches it from inside the host cluster: it must point at the location's object
// store (d.Hosts), redirects are not followed, and errors show neither the answer's body nor
// the URL's query string (its signature).
func fetchResults(ctx context.Context, d Download) (map[string]results.Result, error) {
	target, err := url.Parse(d.URL)
	if err != nil {
		return nil, errors.New("download results: the signed URL does not parse")
	}
	switch {
	case len(d.Hosts) == 0:
		return nil, fmt.Errorf("download results: the backup's location names no object store endpoint to check %s against", redacted(target))
	case !allowed(target, d.Hosts):
		return nil, fmt.Errorf("download results: %s is not the object store of the backup's location (%s)",
			redacted(target), strings.Join(d.Hosts, ", "))
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: d.InsecureSkipTLSVerify} //nolint:gosec // the location's own setting, as Velero honours it.
	if len(d.CABundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(d.CABundle)
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	if d.Proxy != nil {
		transport.Proxy = d.Proxy
	}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("download results from %s: %w", redacted(target), errors.Unwrap(err))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("download results from %s: %w", redacted(target), err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrResultsNotFound
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("download results from %s: HTTP %s", redacted(target), resp.Status)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("download results: %w", err)
	}
	defer func() { _ = gz.Close() }()
	var res map[string]results.Result
	if err := json.NewDecoder(io.LimitReader(gz, maxResultsBytes)).Decode(&res); err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	return res, nil
}

// Results is EnsureDownloadRequest, Summary and DeleteDownloadRequest in one call, for
// callers that can wait: it polls until Velero has signed the URL or ctx ends, so give it a
// short deadline (a few seconds). The DownloadRequest is deleted in every case.
func Results(ctx context.Context, c client.Client, namespace string, kind velerov1.DownloadTargetKind, target string, maxLines int) ([]string, error) {
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = DeleteDownloadRequest(cctx, c, namespace, kind, target)
	}()
	var d *Download
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		var err error
		d, err = EnsureDownloadRequest(ctx, c, namespace, kind, target)
		return d != nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("wait for Velero to sign the %s URL of %s/%s: %w", kind, namespace, target, err)
	}
	return Summary(ctx, *d, maxLines)
}
