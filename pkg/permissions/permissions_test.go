package permissions

import (
	"os"
	"slices"
	"testing"
)

// TestShippedRolesAreGenerated checks that config/rbac/remote/roles/roles.yaml is what the table
// says, so the roles users bind and the check the MigCluster runs cannot drift apart.
func TestShippedRolesAreGenerated(t *testing.T) {
	shipped, err := os.ReadFile("../../config/rbac/remote/roles/roles.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != YAML(Roles()) {
		t.Fatal("config/rbac/remote/roles/roles.yaml is stale: run make manifests")
	}
}

func TestExpand(t *testing.T) {
	got := Expand([]Rule{
		{Groups: []string{"", "apps"}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		{Groups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	})
	want := []Permission{{Resource: "pods", Subresource: "log", Verb: "get"}, {Group: "apps", Resource: "pods", Subresource: "log", Verb: "get"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s := want[1].String(); s != "get pods.apps/log" {
		t.Fatalf("String() = %q", s)
	}
}

// TestNoWildcardOutsideRollback pins the least-privilege rule: only the rollback's default
// member grants every kind, and nodes/proxy is only in the opt-in PV resizing role.
func TestNoWildcardOutsideRollback(t *testing.T) {
	for _, r := range Roles() {
		for _, rule := range r.Rules {
			wild := slices.Contains(rule.Groups, "*") || slices.Contains(rule.Resources, "*") || slices.Contains(rule.Verbs, "*")
			if wild && r.Name != RollbackAllRole {
				t.Errorf("role %s grants a wildcard: %+v", r.Name, rule)
			}
			if slices.Contains(rule.Resources, "nodes/proxy") && r.Name != PVResizingRole {
				t.Errorf("role %s grants nodes/proxy", r.Name)
			}
		}
	}
}
