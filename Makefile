# Ferry's build. Tools are pinned and built from the Go module proxy into bin/ once.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

BIN ?= $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
# The test control planes (see test/controlplane) find their binaries here.
export FERRY_CONTROLPLANE_BIN ?= $(BIN)/k8s

CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.8.2
CONTROLLER_GEN ?= $(BIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE ?= $(BIN)/kustomize-$(KUSTOMIZE_VERSION)
# kubectl of your cluster's context, as with any kubebuilder project.
KUBECTL ?= kubectl

IMG ?= ghcr.io/ferrymtc/ferry:latest
GO_TEST_FLAGS ?= -race -timeout 30m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for api/.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC (markers; config/rbac/remote from pkg/permissions) into config/, and config/velero with pkg/velerodeploy's template from Velero's pkg/install.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=ferry-manager paths=./controllers/... paths=./pkg/... output:rbac:artifacts:config=config/rbac
	go run ./hack/gen-rbac --out config/rbac/remote/roles/roles.yaml
	go run -C hack/tools/velero/manifests . -root $(CURDIR)

.PHONY: bundle
bundle: ## Generate the OLM bundle and file-based catalog into bundle/ and catalog/
	go run ./hack/gen-bundle

.PHONY: verify-gen
verify-gen: $(CONTROLLER_GEN) ## Fail when generated files (deepcopy, CRDs, RBAC, OLM bundle and catalog) are stale.
	hack/verify-gen.sh

.PHONY: verify-tree
verify-tree: ## Fail when the repository tracks a built binary or a file over 1 MiB.
	hack/verify-tree.sh

.PHONY: verify-modules
verify-modules: ## Fail when go.mod/go.sum (root or tool wrappers) are not tidy.
	go mod tidy -diff
	for d in $$(dirname $$(find hack/tools -name go.mod)); do (cd $$d && go mod tidy -diff) || exit 1; done

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (pinned).
	$(GOLANGCI_LINT) run ./...

.PHONY: envtest
envtest: ## Build the pinned kube-apiserver, kube-controller-manager, kube-scheduler and etcd into bin/k8s.
	hack/build-controlplane.sh

.PHONY: s3server
s3server: ## Build the pinned S3 test server (versitygw) into bin/s3; rebuilt only when hack/tools/versitygw changes.
	hack/build-s3.sh

.PHONY: packages
packages: ## Install the Debian packages the local clusters and the console's browser test use (rsync, stunnel, iproute2, curl, ansible-core, chromium, ...) when missing.
	hack/install-packages.sh

.PHONY: velero
velero: ## Build the pinned Velero server and AWS plugin into bin/velero; rebuilt only when hack/tools/velero changes.
	hack/build-velero.sh

.PHONY: registry
registry: ## Build the pinned CNCF distribution registry into bin/registry; rebuilt only when hack/tools/registry changes.
	hack/build-registry.sh

##@ Test

.PHONY: test
test: packages verify-tree verify-gen verify-modules vet lint envtest s3server velero registry ## Run every check and test (the README's test command).
	go test $(GO_TEST_FLAGS) ./...

.PHONY: test-e2e
test-e2e: packages envtest s3server velero registry ## Run only the end-to-end suites (local clusters with process nodes, S3, Velero, the operator); part of make test.
	go test $(GO_TEST_FLAGS) ./test/...

##@ Benchmarks

.PHONY: bench-plan
bench-plan: envtest s3server build ## Time 4 MigPlans over 5,000 namespaces and 10,000 PVCs (BENCH_NAMESPACES=n for others) to Ready; print the operator's peak memory.
	go run ./test/bench/plan --manager $(BIN)/manager --namespaces $(or $(BENCH_NAMESPACES),5000)

.PHONY: bench-clusters
bench-clusters: envtest build ## Register 50 remote MigClusters over 10 real API servers (CLUSTERS_CACHE=true for mig_controller_enable_cache); print the operator's memory per step and per cluster.
	go run ./test/bench/clusters --manager $(BIN)/manager --cache=$(or $(CLUSTERS_CACHE),false)

.PHONY: bench-migration
bench-migration: packages envtest s3server velero build ## Time Ferry's own overhead in a cutover of a 50-object namespace (total minus Velero's backup and restore).
	go run ./test/bench/migration --manager $(BIN)/manager

.PHONY: bench-transfer
bench-transfer: packages envtest s3server velero registry build ## Time DirectVolumeMigration transfers (large files, small files, 3 PVCs in parallel) against the peers' transports (rsync over ssh, stunnel with a PSK, stunnel without verification) and plain rsync -a (PEERS_ONLY=true: no clusters, no DVM).
	go run ./test/bench/transfer --manager $(BIN)/manager --peers-only=$(or $(PEERS_ONLY),false)

.PHONY: bench-concurrent
bench-concurrent: packages envtest s3server velero build ## Time cutovers of 1, 4 and 8 plans at once (VELERO_CONCURRENT_BACKUPS=8 raises Velero's --concurrent-backups); print each plan's time and the slowest of 8 against one alone.
	go run ./test/bench/concurrent --manager $(BIN)/manager --velero-concurrent-backups $(or $(VELERO_CONCURRENT_BACKUPS),0)

.PHONY: bench-cutover
bench-cutover: packages envtest s3server velero build ## Time a cutover's downtime (source scaled to 0 to destination pod ready) of an app writing to a 1 GiB volume, 10 MiB changed after a stage, with warm sync off and on.
	go run ./test/bench/cutover --manager $(BIN)/manager

.PHONY: bench-image
bench-image: packages registry ## Time copying a 10-tag image stream between two registries with Ferry's pkg/imagecopy against skopeo sync.
	go run ./test/bench/image

##@ Deployment

.PHONY: install
install: $(KUSTOMIZE) ## Install the CRDs into the cluster of the current kubectl context.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: $(KUSTOMIZE) ## Remove the CRDs (and every Ferry object with them) from the current cluster.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: $(KUSTOMIZE) ## Deploy the operator (image IMG) with its CRDs and RBAC into the current cluster.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator, its RBAC and CRDs from the current cluster.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Build the pinned kustomize into bin/.

##@ Build

.PHONY: build
build: ## Build the operator into bin/ (static, as the image holds it).
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/manager ./cmd/manager

.PHONY: images
images: velero ## Build the manager, transfer, Velero and Velero AWS plugin images as OCI layouts into bin/images, without a container engine.
	go run ./hack/images/build --out $(BIN)/images

.PHONY: demo
demo: packages envtest s3server velero registry build ## Run Ferry on two local clusters; Ctrl-C tears everything down.
	go run ./test/cmd/demo --manager $(BIN)/manager

.PHONY: run
run: ## Run the operator against the current kubeconfig.
	go run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the operator image (needs a container engine).
	docker build -t $(IMG) .

##@ Tools

$(CONTROLLER_GEN):
	GOBIN=$(BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(BIN)/controller-gen $@

$(KUSTOMIZE):
	GOBIN=$(BIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(BIN)/kustomize $@

$(GOLANGCI_LINT):
	GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/golangci-lint $@
