// Command gen-rbac writes config/rbac/remote/roles/roles.yaml, the ClusterRoles of a migration's
// clusters, from pkg/permissions (make manifests).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ferrymtc/ferry/pkg/permissions"
)

func main() {
	out := flag.String("out", "config/rbac/remote/roles/roles.yaml", "Where to write the ClusterRoles.")
	flag.Parse()
	if err := os.WriteFile(*out, []byte(permissions.YAML(permissions.Roles())), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen-rbac:", err)
		os.Exit(1)
	}
}
