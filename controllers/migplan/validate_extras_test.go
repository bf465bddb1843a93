package migplan

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func TestValidateProxySecret(t *testing.T) {
	secret := func(name string, keys ...string) corev1.Secret {
		s := corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string][]byte{}}
		for _, k := range keys {
			s.Data[k] = []byte("x")
		}
		return s
	}
	cases := []struct {
		name    string
		secrets []corev1.Secret
		want    []string
	}{
		{"none", nil, []string{}},
		{"one with HTTPS_PROXY", []corev1.Secret{secret("proxy", "HTTPS_PROXY")}, []string{}},
		{"one without proxy keys", []corev1.Secret{secret("proxy", "token")}, []string{"SourceClusterProxySecretMisconfigured/KeyNotFound"}},
		{"two", []corev1.Secret{secret("a", "NO_PROXY"), secret("b", "HTTP_PROXY")}, []string{"SourceClusterProxySecretMisconfigured/Conflict"}},
	}
	for _, tc := range cases {
		if got := typesOf(validateProxySecret(sourceRole, tc.secrets)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateRegistryPath(t *testing.T) {
	cluster := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: "src"}}
	withPath := cluster.DeepCopy()
	withPath.Status.RegistryPath = "registry.example.com"
	openshift := clusterExtras{servesImageStreams: true}
	direct := &migv1.MigPlan{}
	indirect := &migv1.MigPlan{Spec: migv1.MigPlanSpec{IndirectImageMigration: true}}
	cases := []struct {
		name     string
		plan     *migv1.MigPlan
		planType string
		cluster  *migv1.MigCluster
		extras   clusterExtras
		want     []string
	}{
		{"plain Kubernetes has no registry to migrate", direct, migv1.NamespaceMigrationPlan, cluster, clusterExtras{}, []string{}},
		{"OpenShift without a registry path", direct, migv1.NamespaceMigrationPlan, cluster, openshift, []string{"SourceClusterNoRegistryPath/NotSet"}},
		{"OpenShift with a registry path", direct, migv1.NamespaceMigrationPlan, withPath, openshift, []string{}},
		{"indirect image migration needs none", indirect, migv1.NamespaceMigrationPlan, cluster, openshift, []string{}},
		{"state migrations move no images", direct, migv1.StateMigrationPlan, cluster, openshift, []string{}},
	}
	for _, tc := range cases {
		if got := typesOf(validateRegistryPath(sourceRole, tc.plan, tc.planType, tc.cluster, tc.extras)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateNamespaceLength(t *testing.T) {
	long := strings.Repeat("n", 60)
	routes := clusterExtras{servesRoutes: true}
	plan := &migv1.MigPlan{}
	if got := typesOf(validateNamespaceLength(plan, []string{"short", long}, routes, migv1.RsyncEndpointRoute, "")); !slices.Equal(got, []string{"NamespaceLengthExceeded/LengthExceeded"}) {
		t.Errorf("a 60-character namespace behind Routes without a subdomain: got %v", got)
	}
	for name, got := range map[string][]migv1.Condition{
		"with a subdomain":  validateNamespaceLength(plan, []string{long}, routes, migv1.RsyncEndpointRoute, "apps.example.com"),
		"NodePort endpoint": validateNamespaceLength(plan, []string{long}, routes, migv1.RsyncEndpointNodePort, ""),
		"no Route API":      validateNamespaceLength(plan, []string{long}, clusterExtras{}, migv1.RsyncEndpointRoute, ""),
		"33 characters":     validateNamespaceLength(plan, []string{long[:33]}, routes, migv1.RsyncEndpointRoute, ""),
	} {
		if len(got) != 0 {
			t.Errorf("%s: no warning expected, got %+v", name, got)
		}
	}
	// The router names a Route's host <route name>-<namespace>; Ferry's rsync Route name has
	// 29 characters, so a 34-character namespace overflows the 63-character DNS label.
	if got := typesOf(validateNamespaceLength(plan, []string{long[:34]}, routes, migv1.RsyncEndpointRoute, "")); !slices.Equal(got, []string{"NamespaceLengthExceeded/LengthExceeded"}) {
		t.Errorf("a 34-character namespace behind Routes without a subdomain: got %v", got)
	}
	if host := transfer.NamesFor("any").Server() + "-" + long[:33]; len(host) > 63 {
		t.Errorf("a namespace the check lets through makes a %d-character host label", len(host))
	}
}
