package clustercache

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestValidateURL(t *testing.T) {
	cases := map[string]error{
		"":                        ErrURLNotSet,
		"https://":                ErrURLMalformed,
		"::not a url":             ErrURLMalformed,
		"ftp://cluster:6443":      ErrURLScheme,
		"cluster.example.com":     ErrURLMalformed,
		"https://127.0.0.1:6443":  nil,
		"http://api.example:8443": nil,
	}
	for raw, want := range cases {
		if got := ValidateURL(raw); !errors.Is(got, want) {
			t.Errorf("ValidateURL(%q) = %v, want %v", raw, got, want)
		}
	}
}

func TestAccessFor(t *testing.T) {
	secret := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-config", Name: name}, Data: data}
	}
	reader := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(
		secret("good", map[string][]byte{"saToken": []byte("tok\n")}),
		secret("nokey", map[string][]byte{"token": []byte("tok")}),
		secret("empty", map[string][]byte{"saToken": []byte("  ")}),
	).Build()
	cluster := func(secretName string) *migv1.MigCluster {
		c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "src"},
			Spec: migv1.MigClusterSpec{URL: "https://127.0.0.1:6443", CABundle: []byte("ca")}}
		if secretName != "" {
			c.Spec.ServiceAccountSecretRef = &corev1.ObjectReference{Namespace: "openshift-config", Name: secretName}
		}
		return c
	}
	cases := []struct {
		secret string
		want   error
	}{
		{"", ErrSecretRefNotSet},
		{"missing", ErrSecretNotFound},
		{"nokey", ErrTokenKeyNotFound},
		{"empty", ErrTokenEmpty},
		{"good", nil},
	}
	for _, tc := range cases {
		got, err := AccessFor(context.Background(), reader, cluster(tc.secret))
		if !errors.Is(err, tc.want) {
			t.Errorf("secret %q: error %v, want %v", tc.secret, err, tc.want)
		}
		if tc.want == nil && (got.Token != "tok" || string(got.CAData) != "ca") {
			t.Errorf("secret %q: access %+v; the token must be trimmed", tc.secret, got.URL)
		}
	}
}

func TestSecretKeyDefaultsToClusterNamespace(t *testing.T) {
	c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration"},
		Spec: migv1.MigClusterSpec{ServiceAccountSecretRef: &corev1.ObjectReference{Name: "s"}}}
	key, ok := SecretKey(c)
	if !ok || key.String() != "openshift-migration/s" {
		t.Fatalf("SecretKey = %v, %v", key, ok)
	}
}

func TestFingerprintChangesWithEveryAccessField(t *testing.T) {
	base := Access{URL: "https://a", Token: "t", CAData: []byte("ca")}
	variants := []Access{
		{URL: "https://b", Token: "t", CAData: []byte("ca")},
		{URL: "https://a", Token: "rotated", CAData: []byte("ca")},
		{URL: "https://a", Token: "t", CAData: []byte("other")},
		{URL: "https://a", Token: "t", CAData: []byte("ca"), Insecure: true},
	}
	for _, v := range variants {
		if v.fingerprint() == base.fingerprint() {
			t.Errorf("fingerprint did not change for %+v", v.URL)
		}
	}
	if base.fingerprint() != (Access{URL: "https://a", Token: "t", CAData: []byte("ca")}).fingerprint() {
		t.Error("fingerprint is not stable")
	}
}

func TestRESTConfigFor(t *testing.T) {
	secure := RESTConfigFor(Access{URL: "https://a", Token: "t", CAData: []byte("ca")})
	if secure.Insecure || string(secure.CAData) != "ca" || secure.BearerToken != "t" || secure.Timeout != RequestTimeout {
		t.Errorf("secure config wrong: insecure=%v ca=%q timeout=%v", secure.Insecure, secure.CAData, secure.Timeout)
	}
	insecure := RESTConfigFor(Access{URL: "https://a", Token: "t", CAData: []byte("ca"), Insecure: true})
	if !insecure.Insecure || insecure.CAData != nil {
		t.Errorf("insecure config must not carry a CA (client-go rejects both): %+v", insecure.Insecure)
	}
}

// recordingReader remembers the keys it was asked for.
type recordingReader struct {
	client.Reader
	asked []string
}

func (r *recordingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.asked = append(r.asked, key.String())
	return r.Reader.Get(ctx, key, obj, opts...)
}

func TestAccessForReadsTokensOnlyFromAllowedNamespaces(t *testing.T) {
	token := map[string][]byte{"saToken": []byte("tok")}
	var objs []client.Object
	for _, ns := range []string{"openshift-config", "openshift-migration", "kube-system", "tenant"} {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"}, Data: token})
	}
	cases := []struct {
		namespace string
		allowed   bool
	}{
		{"openshift-config", true},    // MTC's documented place
		{"openshift-migration", true}, // the MigCluster's own namespace
		{"", true},                    // defaults to the MigCluster's namespace
		{"kube-system", false},
		{"tenant", false},
	}
	for _, tc := range cases {
		reader := &recordingReader{Reader: fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(objs...).Build()}
		c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "src"},
			Spec: migv1.MigClusterSpec{URL: "https://127.0.0.1:6443",
				ServiceAccountSecretRef: &corev1.ObjectReference{Namespace: tc.namespace, Name: "token"}}}
		got, err := AccessFor(context.Background(), reader, c)
		if tc.allowed && (err != nil || got.Token != "tok") {
			t.Errorf("namespace %q: %v, want the token", tc.namespace, err)
		}
		if !tc.allowed {
			if err == nil {
				t.Errorf("namespace %q: the token was read and used", tc.namespace)
			} else if !strings.Contains(err.Error(), tc.namespace) || !strings.Contains(err.Error(), "openshift-config") {
				t.Errorf("namespace %q: error %q does not name the namespace and the allowed ones", tc.namespace, err)
			}
			if len(reader.asked) > 0 {
				t.Errorf("namespace %q: the Secret was read: %v", tc.namespace, reader.asked)
			}
		}
	}
}
