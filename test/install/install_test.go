package install

import "testing"

// TestOperatorImage checks what the process node is told of the shipped operator image:
// config/default's image, the Dockerfile's ENTRYPOINT mapped to the built binary, its USER.
func TestOperatorImage(t *testing.T) {
	img, err := OperatorImage("/tmp/manager")
	if err != nil {
		t.Fatal(err)
	}
	if img.Reference != "ghcr.io/ferrymtc/ferry:latest" || img.User != 65532 || len(img.Entrypoint) != 1 || img.Entrypoint[0] != "/tmp/manager" {
		t.Fatalf("got %+v", img)
	}
}

// TestRemoteOverlays checks that each remote overlay binds the migration-controller
// ServiceAccount to its side's role.
func TestRemoteOverlays(t *testing.T) {
	for side, roles := range map[Side][]string{Source: {"ferry-remote-source"}, Destination: {"ferry-remote-destination", "ferry-rollback"}} {
		objs, err := Build("config/rbac/remote/" + string(side))
		if err != nil {
			t.Fatal(err)
		}
		bound := map[string]bool{}
		for _, u := range objs {
			if u.GetKind() == "ClusterRoleBinding" {
				ref, _, _ := unstructuredString(u.Object, "roleRef", "name")
				bound[ref] = true
			}
		}
		for _, r := range roles {
			if !bound[r] {
				t.Errorf("%s: no binding to %s (bound: %v)", side, r, bound)
			}
		}
		if len(bound) != len(roles) {
			t.Errorf("%s binds %v, want exactly %v", side, bound, roles)
		}
	}
}
