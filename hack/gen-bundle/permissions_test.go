package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestGrantsCoverConfigRBAC: the CSV's permissions hold every rule of the manager's
// ClusterRole (config/rbac/role.yaml, from the kubebuilder markers) cluster-wide and every
// rule of the leader election Role in the operator's namespace.
func TestGrantsCoverConfigRBAC(t *testing.T) {
	install, err := kustomizeBuild(repoRoot, installDir)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := operatorDeployment(install)
	if err != nil {
		t.Fatal(err)
	}
	g, err := operatorGrants(install, dep.Namespace, dep.Spec.Template.Spec.ServiceAccountName)
	if err != nil {
		t.Fatal(err)
	}
	var manager rbacv1.ClusterRole
	readYAML(t, "config/rbac/role.yaml", &manager)
	var election rbacv1.Role
	readYAML(t, "config/rbac/leader_election_role.yaml", &election)
	if len(manager.Rules) == 0 || len(election.Rules) == 0 {
		t.Fatal("config/rbac has no rules to compare with")
	}
	for _, r := range manager.Rules {
		if !slices.ContainsFunc(g.cluster, func(c rbacv1.PolicyRule) bool { return reflect.DeepEqual(c, r) }) {
			t.Errorf("clusterPermissions lack %s's rule %v", manager.Name, r)
		}
	}
	for _, r := range election.Rules {
		if !slices.ContainsFunc(g.namespaced, func(c rbacv1.PolicyRule) bool { return reflect.DeepEqual(c, r) }) {
			t.Errorf("permissions lack %s's rule %v", election.Name, r)
		}
	}
}

func TestOperatorGrants(t *testing.T) {
	rule := func(resource string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{resource}, Verbs: []string{"get"}}
	}
	objs := []any{
		&rbacv1.ClusterRole{ObjectMeta: meta("direct", nil), Rules: []rbacv1.PolicyRule{rule("pods")}},
		&rbacv1.ClusterRole{ObjectMeta: meta("aggregated", nil), AggregationRule: &rbacv1.AggregationRule{
			ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": "true"}}},
		}},
		&rbacv1.ClusterRole{ObjectMeta: meta("member", map[string]string{"agg": "true"}), Rules: []rbacv1.PolicyRule{rule("secrets"), rule("pods")}},
		&rbacv1.ClusterRole{ObjectMeta: meta("unbound", nil), Rules: []rbacv1.PolicyRule{rule("nodes")}},
		&rbacv1.Role{ObjectMeta: metaNS("local", "ns"), Rules: []rbacv1.PolicyRule{rule("configmaps")}},
		clusterBinding("b1", "direct", "sa"),
		clusterBinding("b2", "aggregated", "sa"),
		clusterBinding("b3", "unbound", "someone-else"),
		&rbacv1.RoleBinding{ObjectMeta: metaNS("b4", "ns"), RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "local"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "sa"}}},
	}
	g, err := operatorGrants(toUnstructured(t, objs...), "ns", "sa")
	if err != nil {
		t.Fatal(err)
	}
	// pods once although two roles grant it; nodes not, its binding names another account.
	if want := []rbacv1.PolicyRule{rule("pods"), rule("secrets")}; !reflect.DeepEqual(g.cluster, want) {
		t.Errorf("cluster rules %v, want %v", g.cluster, want)
	}
	if want := []rbacv1.PolicyRule{rule("configmaps")}; !reflect.DeepEqual(g.namespaced, want) {
		t.Errorf("namespaced rules %v, want %v", g.namespaced, want)
	}
	for _, used := range []string{"ClusterRole/direct", "ClusterRole/aggregated", "ClusterRole/member", "Role/local"} {
		kind, name, _ := strings.Cut(used, "/")
		if !g.uses(kind, name) {
			t.Errorf("%s not recorded as used", used)
		}
	}
	if g.uses("ClusterRole", "unbound") {
		t.Error("an unbound role is recorded as used")
	}

	missing := append(slices.Clone(objs), clusterBinding("b5", "absent", "sa"))
	if _, err := operatorGrants(toUnstructured(t, missing...), "ns", "sa"); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("a binding to a missing role: err %v", err)
	}
	if _, err := operatorGrants(toUnstructured(t, objs...), "ns", "nobody"); err == nil {
		t.Error("an unbound ServiceAccount got no error")
	}
}

func readYAML(t *testing.T, rel string, out any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func toUnstructured(t *testing.T, objs ...any) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, o := range objs {
		raw, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &u.Object); err != nil {
			t.Fatal(err)
		}
		kind := strings.TrimPrefix(reflect.TypeOf(o).String(), "*v1.")
		u.SetAPIVersion(rbacv1.SchemeGroupVersion.String())
		u.SetKind(kind)
		out = append(out, u)
	}
	return out
}

func meta(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: labels}
}

func metaNS(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

// clusterBinding binds ClusterRole role to ServiceAccount ns/sa, in namespace "ns".
func clusterBinding(name, role, sa string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: meta(name, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: "ns"}},
	}
}
