package migcluster

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
)

func TestRegistryPath(t *testing.T) {
	cases := map[string]string{
		"":                                "",
		"registry.example.com":            "registry.example.com",
		"https://registry.example.com/":   "registry.example.com",
		"docker://registry.example.com//": "registry.example.com",
		"registry.example.com:5000/":      "registry.example.com:5000",
	}
	for in, want := range cases {
		if got := registryPath(in); got != want {
			t.Errorf("registryPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConditionsFor(t *testing.T) {
	cases := []struct {
		name       string
		failure    *migv1.Condition
		wantType   string
		wantReason string
	}{
		{"all checks passed", nil, migv1.Ready, ""},
		{"url not set", invalidURL(clustercache.ErrURLNotSet), migv1.InvalidURL, ReasonNotSet},
		{"bad scheme", invalidURL(clustercache.ErrURLScheme), migv1.InvalidURL, ReasonInvalidScheme},
		{"malformed", invalidURL(clustercache.ErrURLMalformed), migv1.InvalidURL, ReasonMalformed},
		{"no secret ref", invalidSecretRef(clustercache.ErrSecretRefNotSet, ""), migv1.InvalidSaSecretRef, ReasonNotSet},
		{"secret missing", invalidSecretRef(clustercache.ErrSecretNotFound, "ns/s"), migv1.InvalidSaSecretRef, ReasonNotFound},
		{"token key missing", invalidToken(clustercache.ErrTokenKeyNotFound, "ns/s"), migv1.InvalidSaToken, ReasonNotFound},
		{"token empty", invalidToken(clustercache.ErrTokenEmpty, "ns/s"), migv1.InvalidSaToken, ReasonNotSet},
		{"token rejected", tokenRejected("ns/s"), migv1.InvalidSaToken, ReasonUnauthorized},
		{"unreachable", connectFailed(errors.New("connection refused")), migv1.TestConnectFailed, ReasonConnectFailed},
		{"registry", invalidRegistryRoute(errors.New("404")), migv1.InvalidRegistryRoute, ReasonRouteTestFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := conditionsFor(&scope{failure: tc.failure})
			if len(got) != 1 || got[0].Type != tc.wantType || got[0].Reason != tc.wantReason || got[0].Status != migv1.True {
				t.Fatalf("conditionsFor = %+v, want one %s/%s", got, tc.wantType, tc.wantReason)
			}
			wantCategory := migv1.CategoryCritical
			if tc.failure == nil {
				wantCategory = migv1.CategoryRequired
			}
			if got[0].Category != wantCategory {
				t.Errorf("category = %s, want %s", got[0].Category, wantCategory)
			}
		})
	}
}

func TestConnectFailedExplainsUnknownAuthority(t *testing.T) {
	c := connectFailed(fmt.Errorf("%w: x509", clustercache.ErrUnknownAuthority))
	if want := "The `caBundle` is required"; !strings.Contains(c.Message, want) {
		t.Errorf("message %q lacks %q", c.Message, want)
	}
}
