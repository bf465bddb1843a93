package images

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// veleroPlugin is the AWS object-store plugin's file name, in bin/velero/plugins and in the
// plugin image's /plugins.
const veleroPlugin = "velero-plugin-for-aws"

// veleroDirEnv is test/velero's variable for the directory of the Velero binaries.
const veleroDirEnv = "FERRY_VELERO_BIN"

// Velero builds the Velero server's image from the pinned build of `make velero`
// (hack/build-velero.sh, static): /velero as entrypoint, as upstream's image has it (Velero's
// own install runs `/velero server`), run as nonroot, labelled with Velero's version. Upstream's image also holds restic
// and the restore helper of file-system backups, which Ferry does not use.
func (b *Builder) Velero(_ context.Context) (v1.Image, error) {
	data, err := readBinary(filepath.Join(b.veleroDir(), "velero"))
	if err != nil {
		return nil, fmt.Errorf("%w (make velero builds it)", err)
	}
	version, err := b.moduleVersion("hack/tools/velero/server/go.mod", "github.com/vmware-tanzu/velero")
	if err != nil {
		return nil, err
	}
	return assemble(imageSpec{
		layers: []layerSpec{
			{entries: baseEntries(), createdBy: "ferry hack/images: nonroot user"},
			{entries: []entry{file("velero", 0o755, data)}, createdBy: "ferry hack/images: hack/build-velero.sh velero " + version},
		},
		entrypoint: []string{"/velero"},
		labels:     b.labels("velero", "Apache-2.0", map[string]string{LabelVersion: version}),
	}, b.created)
}

// VeleroPlugin builds the image of Velero's AWS plugin as upstream ships it: the plugin at
// /plugins/velero-plugin-for-aws and an entrypoint that copies it into /target, which is
// what Velero's install runs as an init container (an emptyDir at /target, mounted at
// /plugins in the server's container). The copier is this tree's hack/images/copier at
// /bin/cp.
func (b *Builder) VeleroPlugin(ctx context.Context) (v1.Image, error) {
	plugin, err := readBinary(filepath.Join(b.veleroDir(), "plugins", veleroPlugin))
	if err != nil {
		return nil, fmt.Errorf("%w (make velero builds it)", err)
	}
	cpPath, err := b.goBinary(ctx, "cp", "./hack/images/copier")
	if err != nil {
		return nil, err
	}
	cp, err := readBinary(cpPath)
	if err != nil {
		return nil, err
	}
	version, err := b.moduleVersion("hack/tools/velero/plugin-for-aws/go.mod", "github.com/vmware-tanzu/velero-plugin-for-aws")
	if err != nil {
		return nil, err
	}
	return assemble(imageSpec{
		layers: []layerSpec{
			{entries: baseEntries(), createdBy: "ferry hack/images: nonroot user"},
			{entries: []entry{file("bin/cp", 0o755, cp)}, createdBy: "ferry hack/images: CGO_ENABLED=0 go build -trimpath ./hack/images/copier"},
			{entries: []entry{file("plugins/"+veleroPlugin, 0o755, plugin)}, createdBy: "ferry hack/images: hack/build-velero.sh " + veleroPlugin + " " + version},
		},
		entrypoint: []string{"/bin/cp", "/plugins/" + veleroPlugin, "/target/."},
		labels:     b.labels(veleroPlugin, "Apache-2.0", map[string]string{LabelVersion: version}),
	}, b.created)
}

// veleroDir is where `make velero` puts the binaries (FERRY_VELERO_BIN overrides it, as
// for test/velero).
func (b *Builder) veleroDir() string {
	if dir := os.Getenv(veleroDirEnv); dir != "" {
		return dir
	}
	return filepath.Join(b.root, "bin", "velero")
}

// moduleVersion reads the version of module from a go.mod of the tree (a tool wrapper's).
func (b *Builder) moduleVersion(goMod, module string) (string, error) {
	f, err := os.Open(filepath.Join(b.root, goMod))
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == module {
			return fields[1], nil
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s does not require %s", goMod, module)
}
