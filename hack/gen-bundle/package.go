package main

import (
	_ "embed"

	"github.com/operator-framework/api/pkg/operators/v1alpha1"
)

// The package's identity. The repository defines no release version yet, so the first
// bundle is 0.1.0; a release bumps bundleVersion (and sets the channel's replaces) here.
const (
	packageName   = "ferry"
	bundleVersion = "0.1.0"
	csvName       = packageName + ".v" + bundleVersion
	channel       = "stable"
	// bundleImage follows operator-sdk's convention, <operator image base>-bundle:v<version>;
	// bundle/bundle.Dockerfile builds it from bundle/.
	bundleImage = "quay.io/ferrymtc/ferry-operator-bundle:v" + bundleVersion
)

// minKubeVersion is the oldest Kubernetes OLM may install Ferry on: 1.30, because README's
// "Install on a cluster" asks for Kubernetes 1.30 or later on the host cluster. Every API the
// operator calls there (apps/v1, batch/v1, events.k8s.io/v1, coordination.k8s.io/v1 leases,
// apiextensions.k8s.io/v1, the access and token reviews) was GA long before 1.30, and
// client-go 0.37 (controller-runtime 0.25) works against older API servers for APIs they
// serve. Only 1.37 is tested, though: the local clusters of the test suites run it.
const minKubeVersion = "1.30.0"

// suggestedNamespace is where OLM's console proposes to install: MTC's namespace, which
// config/default, the samples' references and Velero's usual home all use.
const suggestedNamespace = "openshift-migration"

const (
	displayName = "Ferry"
	// shortDescription is the CSV's one-line "description" annotation (catalog tiles).
	shortDescription = "Migrate applications, their volumes and images between Kubernetes clusters with the MTC API."
	repositoryURL    = "https://github.com/ferrymtc/ferry"
	providerName     = "The Ferry Authors" // as hack/boilerplate.go.txt names the copyright holder
	// capabilities is the operator maturity model's level: Ferry installs itself and has no
	// operand whose upgrades or metrics it manages (the MigrationController holds settings).
	capabilities = "Basic Install"
	// categories must be one of OperatorHub's standard categories (StandardCategoriesValidator).
	categories = "Modernization & Migration"
	maturity   = "alpha"
)

// maintainerEmail is needed by OperatorHub's validator for every maintainer. The repository
// publishes no contact address; ferrymtc.io is the domain of the project's own annotations
// (ferrymtc.io/reuse-existing-destination-pvcs), so the address is on that domain. Replace it
// with a monitored address before publishing to a public catalog.
const maintainerEmail = "maintainers@ferrymtc.io"

var keywords = []string{
	"migration", "mtc", "migration toolkit for containers", "cluster migration", "velero",
	"rsync", "persistent volumes", "image migration",
}

var links = []v1alpha1.AppLink{
	{Name: "Source Code", URL: repositoryURL},
	{Name: "Documentation", URL: repositoryURL + "/blob/main/README.md"},
}

// installModes: Ferry honours its own objects only in the namespace it runs in (POD_NAMESPACE,
// cmd/manager; pkg/operator ownObjectsIn limits every informer of Ferry's kinds to it) and
// ignores OLM's olm.targetNamespaces. So only OwnNamespace is true. SingleNamespace (one
// target namespace other than the install namespace) would be accepted by OLM and then
// silently ignored by the operator; MultiNamespace and AllNamespaces likewise.
var installModes = []v1alpha1.InstallMode{
	{Type: v1alpha1.InstallModeTypeOwnNamespace, Supported: true},
	{Type: v1alpha1.InstallModeTypeSingleNamespace, Supported: false},
	{Type: v1alpha1.InstallModeTypeMultiNamespace, Supported: false},
	{Type: v1alpha1.InstallModeTypeAllNamespaces, Supported: false},
}

// icon is a ferry on water, drawn for this bundle (OperatorHub shows it on the tile).
//
//go:embed icon.svg
var icon []byte
