package install

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ferrymtc/ferry/hack/images"
	"github.com/ferrymtc/ferry/hack/repo"
	"github.com/ferrymtc/ferry/test/registry"
)

// OperatorRepository is where the suites push the operator image in each cluster's internal
// registry: a namespace no cluster has, so that no ImageStream follows the push into the
// migrations' view.
const OperatorRepository = "ferrymtc/ferry"

// Image is the operator image as the suites run it: built from the tree by hack/images (the
// static manager at /manager, nonroot, as `make images` builds it).
type Image struct {
	v1.Image
	// Manager is the image's manager binary on this machine, for Options.HostProcess runs.
	Manager string
}

// builtImages keeps the operator image per manager binary for the life of the test binary:
// every environment a suite starts runs the same image, built once.
var builtImages sync.Map // manager path ("" for the tree's) -> *buildOnce

type buildOnce struct {
	once sync.Once
	img  Image
	err  error
}

// OperatorImage builds the operator's image once per test binary (binaries cached under
// bin/images/cache, as `make images` caches them). With managerPath set, the image holds
// that binary, which must be static (CGO_ENABLED=0, as `make build` builds it); otherwise
// hack/images builds ./cmd/manager.
func OperatorImage(ctx context.Context, managerPath string) (Image, error) {
	v, _ := builtImages.LoadOrStore(managerPath, &buildOnce{})
	b := v.(*buildOnce)
	b.once.Do(func() {
		root, err := repo.Root()
		if err != nil {
			b.err = err
			return
		}
		builder, err := images.New(ctx, images.Options{Root: root, ManagerBinary: managerPath})
		if err != nil {
			b.err = err
			return
		}
		if b.img.Image, b.err = builder.Manager(ctx); b.err != nil {
			return
		}
		b.img.Manager, b.err = builder.ManagerBinary(ctx)
	})
	return b.img, b.err
}

// PushOperatorImage pushes img to each registry at OperatorRepository and returns the
// reference pods use, registry.InternalHost/ferrymtc/ferry@<digest>: the same on every
// cluster, where each process node pulls it from its own cluster's registry (the operator
// runs on the destination, the tunnel agents of `ferry tunnel-api` on both sides).
func PushOperatorImage(ctx context.Context, img v1.Image, regs ...*registry.Registry) (string, error) {
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	for _, r := range regs {
		ref, err := name.NewDigest(r.Repository(OperatorRepository) + "@" + digest.String())
		if err != nil {
			return "", err
		}
		if _, err := images.Push(ctx, ref, img, r.RemoteOptions(ctx)...); err != nil {
			return "", err
		}
	}
	return registry.InternalHost + "/" + OperatorRepository + "@" + digest.String(), nil
}

// BuildWithImage returns the objects of config/default with the operator's image set to
// image, the way `make deploy IMG=...` sets it: a kustomization over config/default whose
// images field renames the shipped image (kustomize's own image transformer, as `kustomize
// edit set image` writes it), in a temporary directory.
func BuildWithImage(image string) ([]*unstructured.Unstructured, error) {
	return buildDirWithImage("config/default", DeploymentName, managerContainer, image)
}

// buildDirWithImage builds the kustomization dir with the image of the container of
// Deployment deployment renamed to image (a digest reference).
func buildDirWithImage(dir, deployment, container, image string) ([]*unstructured.Unstructured, error) {
	objs, err := Build(dir)
	if err != nil {
		return nil, err
	}
	d, err := findDeployment(objs, dir, deployment)
	if err != nil {
		return nil, err
	}
	shipped, err := containerImage(d, container)
	if err != nil {
		return nil, err
	}
	from, err := name.ParseReference(shipped)
	if err != nil {
		return nil, fmt.Errorf("%s's image %q: %w", dir, shipped, err)
	}
	to, err := name.NewDigest(image)
	if err != nil {
		return nil, fmt.Errorf("operator image %q: want a digest reference: %w", image, err)
	}
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "ferry-install-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	base, err := filepath.Rel(tmp, filepath.Join(root, dir))
	if err != nil {
		return nil, err
	}
	kustomization := fmt.Sprintf("resources:\n- %s\nimages:\n- name: %s\n  newName: %s\n  digest: %s\n",
		strconv.Quote(base), strconv.Quote(from.Context().Name()), strconv.Quote(to.Context().Name()), strconv.Quote(to.DigestStr()))
	if err := os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil { //nolint:gosec // not a secret.
		return nil, err
	}
	return buildDir(tmp)
}

// operatorDeployment finds the operator's Deployment among the built objects.
func operatorDeployment(objs []*unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return findDeployment(objs, "config/default", DeploymentName)
}

func findDeployment(objs []*unstructured.Unstructured, dir, deployment string) (*unstructured.Unstructured, error) {
	for _, u := range objs {
		if u.GetKind() == "Deployment" && u.GetName() == deployment {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%s has no Deployment %s", dir, deployment)
}

// containerImage returns the image of the named container of a Deployment.
func containerImage(d *unstructured.Unstructured, name string) (string, error) {
	containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return "", fmt.Errorf("deployment %s: %w", d.GetName(), err)
	}
	for _, c := range containers {
		m, _ := c.(map[string]any)
		if m["name"] == name {
			image, _ := m["image"].(string)
			return image, nil
		}
	}
	return "", fmt.Errorf("deployment %s has no container %s", d.GetName(), name)
}

// Ports returns the ports of URLs (for node.Options.LoopbackPorts: the servers on this
// machine's loopback that pods must reach at the same address).
func Ports(urls ...string) ([]int, error) {
	var out []int
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", raw, err)
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			return nil, fmt.Errorf("no port in %q", raw)
		}
		out = append(out, port)
	}
	return out, nil
}
