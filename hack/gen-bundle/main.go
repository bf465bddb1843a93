// Command gen-bundle writes Ferry's OLM bundle (bundle/manifests, bundle/metadata,
// bundle/bundle.Dockerfile) and its file-based catalog (catalog/ferry) from the files that
// already describe an install: `make bundle` runs it, and bundle_test.go fails when the
// committed output is stale or when operator-framework/api's validators reject it.
//
// What it owns, and where each part comes from:
//   - The CSV's Deployment, metrics Service and RBAC come from `kustomize build config/default`,
//     the same objects `make deploy` applies, so an OLM install and a kustomize install run the
//     same pod with the same permissions (permissions.go says how bindings become CSV rules;
//     roles nobody binds ship as bundle manifests, for users to bind as README says).
//   - The CRDs are copied byte for byte from config/crd/bases (controller-gen's output).
//   - The examples come from config/samples; the description's first paragraph from README.md;
//     descriptor descriptions from the CRDs' schemas (the API's doc comments).
//   - Everything else a CSV needs and the repository does not say (display names, keywords,
//     install modes, icon...) is written down here, in package.go, descriptors.go and icon.svg.
//
// Trade-offs:
//   - The output is deterministic (no createdAt, sorted keys, fixed orders) so it can be
//     committed and checked for freshness, at the price of regenerating it whenever README's
//     first paragraph, the API's doc comments, config/ or config/samples change (including
//     `make deploy IMG=...`, which edits config/manager's image).
//   - RBAC is resolved statically: aggregated ClusterRoles are expanded into their members'
//     rules at generation time, because a CSV can only carry rules, not role references.
//   - The catalog is written with local types mirroring operator-registry's declarative config
//     instead of importing operator-registry, whose dependency tree (container tooling, sqlite)
//     is far larger than what four small documents need; bundle_test.go checks it for
//     consistency with the bundle instead of running opm.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	root := flag.String("root", ".", "The repository root, where config/ and README.md are.")
	bundleDir := flag.String("bundle-dir", "bundle", "Where to write the bundle (manifests/, metadata/, bundle.Dockerfile).")
	catalogDir := flag.String("catalog-dir", "catalog", "Where to write the file-based catalog (one directory per package).")
	flag.Parse()
	if err := generate(*root, *bundleDir, *catalogDir); err != nil {
		fmt.Fprintln(os.Stderr, "gen-bundle:", err)
		os.Exit(1)
	}
}
