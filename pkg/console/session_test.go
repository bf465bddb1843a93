package console

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSessionSealing(t *testing.T) {
	s, err := newSealer()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sealed, err := s.seal(session{Token: "secret-token", User: "alice", CSRF: "c", Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "secret-token") || strings.Contains(sealed, "alice") {
		t.Errorf("the sealed session shows its content: %s", sealed)
	}
	got, err := s.open(sealed, now)
	if err != nil || got.Token != "secret-token" || got.User != "alice" {
		t.Errorf("open: %+v %v", got, err)
	}
	if _, err := s.open(sealed, now.Add(2*time.Hour)); err == nil {
		t.Errorf("an expired session opens")
	}
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	if _, err := s.open(string(tampered), now); err == nil {
		t.Errorf("a tampered session opens")
	}
	other, _ := newSealer()
	if _, err := other.open(sealed, now); err == nil {
		t.Errorf("another console's (or a restarted one's) key opens the session")
	}
}

func TestCrossSite(t *testing.T) {
	for _, tc := range []struct {
		origin, fetchSite string
		want              bool
	}{
		{"", "", false},
		{"https://console.example", "same-origin", false},
		{"https://evil.example", "", true},
		{"", "cross-site", true},
		{"null", "", true},
	} {
		r := httptest.NewRequest("POST", "https://console.example/plans", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		if got := crossSite(r); got != tc.want {
			t.Errorf("Origin %q Sec-Fetch-Site %q: crossSite %v, want %v", tc.origin, tc.fetchSite, got, tc.want)
		}
	}
}
