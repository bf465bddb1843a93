package objectstore

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// withProxyNote adds to a failed live test which proxy its requests went through, when they
// did. A proxy that refuses a request answers it itself (tinyproxy's 403 "Filtered", say),
// and the test would otherwise blame the store or its keys; the user's remedy is on the
// proxy or in noProxy. The proxy is named by host and port only: its URL may carry a password.
func withProxyNote(err error, e s3Endpoint, proxy func(*http.Request) (*url.URL, error)) error {
	var te *TestError
	if !errors.As(err, &te) || te.Kind == FailureInvalidSettings {
		return err
	}
	if host := proxyHost(e, proxy); host != "" {
		te.Message += fmt.Sprintf(" (the requests went through the proxy %s, the MigrationController's httpProxy or httpsProxy: "+
			"the answer may be the proxy's; to reach the store directly, list its host in noProxy)", host)
	}
	return err
}

// proxyHost is the host:port of the proxy of the endpoint's requests, "" when they go direct.
func proxyHost(e s3Endpoint, proxy func(*http.Request) (*url.URL, error)) string {
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	target, err := url.Parse(e.url)
	if e.url == "" || err != nil {
		target = &url.URL{Scheme: "https", Host: e.display()}
	}
	u, err := proxy(&http.Request{URL: target})
	if err != nil || u == nil {
		return ""
	}
	return u.Host
}
