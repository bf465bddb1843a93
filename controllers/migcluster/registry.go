package migcluster

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const (
	// registryProbePath is what MTC requests to validate an exposed registry.
	registryProbePath = "/v2/_catalog?n=5"
	// registryProbeTimeout bounds the registry route test.
	registryProbeTimeout = 10 * time.Second
	// registryBodyLimit caps how much of the catalog answer is read.
	registryBodyLimit = 1 << 20
)

// registryPath turns spec.exposedRegistryPath into status.registryPath: no scheme, no
// trailing slash.
func registryPath(exposed string) string {
	if i := strings.Index(exposed, "//"); i >= 0 {
		exposed = exposed[i+2:]
	}
	return strings.TrimRight(exposed, "/")
}

// defaultRegistryClient skips TLS verification, as MTC does: exposed registry routes are
// usually served with the cluster router's own certificate, which no CA the operator has
// verifies. The request carries the cluster's token, which the registry needs anyway.
var defaultRegistryClient = &http.Client{
	Timeout:   registryProbeTimeout,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // see comment above.
}

// probeRegistry checks that the registry answers its catalog over HTTPS.
func probeRegistry(ctx context.Context, httpClient *http.Client, path, token string) error {
	if httpClient == nil {
		httpClient = defaultRegistryClient
	}
	ctx, cancel := context.WithTimeout(ctx, registryProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+path+registryProbePath, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET https://%s%s: %w", path, registryProbePath, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET https://%s%s answered %s", path, registryProbePath, resp.Status)
	}
	var catalog struct {
		Repositories *[]string `json:"repositories"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, registryBodyLimit)).Decode(&catalog); err != nil || catalog.Repositories == nil {
		return fmt.Errorf("GET https://%s%s did not return a registry catalog", path, registryProbePath)
	}
	return nil
}
