package install

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ferrymtc/ferry/test/controlplane"
)

// Image is what the process node needs to know of the operator's image: its reference as the
// Deployment names it, the host command standing for its entrypoint, and its user.
type Image struct {
	Reference  string
	Entrypoint []string
	User       int64
}

// OperatorImage describes the operator image of config/default for a process node: the image
// the Deployment runs, whose entrypoint (the Dockerfile's ENTRYPOINT, /manager) is the manager
// binary built at managerPath and whose user is the Dockerfile's USER.
func OperatorImage(managerPath string) (Image, error) {
	objs, err := Build("config/default")
	if err != nil {
		return Image{}, err
	}
	d, err := operatorDeployment(objs)
	if err != nil {
		return Image{}, err
	}
	ref, err := containerImage(d, managerContainer)
	if err != nil {
		return Image{}, err
	}
	root, err := controlplane.RepoRoot()
	if err != nil {
		return Image{}, err
	}
	entrypoint, user, err := dockerfileEntrypoint(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return Image{}, err
	}
	if len(entrypoint) != 1 || entrypoint[0] != "/manager" {
		return Image{}, fmt.Errorf("the Dockerfile's ENTRYPOINT is %q; the tests map only /manager to the built binary", entrypoint)
	}
	return Image{Reference: ref, Entrypoint: []string{managerPath}, User: user}, nil
}

// dockerfileEntrypoint reads the ENTRYPOINT (exec form) and the numeric USER of the last stage
// of a Dockerfile.
func dockerfileEntrypoint(path string) ([]string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read the operator's Dockerfile: %w", err)
	}
	defer func() { _ = f.Close() }()
	var entrypoint []string
	user := int64(0)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		instruction, rest, _ := strings.Cut(strings.TrimSpace(scanner.Text()), " ")
		switch strings.ToUpper(instruction) {
		case "FROM":
			entrypoint, user = nil, 0
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &entrypoint); err != nil {
				return nil, 0, fmt.Errorf("%s: ENTRYPOINT %s: only the exec form is understood: %w", path, rest, err)
			}
		case "USER":
			uid, _, _ := strings.Cut(strings.TrimSpace(rest), ":")
			if user, err = strconv.ParseInt(uid, 10, 64); err != nil {
				return nil, 0, fmt.Errorf("%s: USER %s: only numeric users are understood: %w", path, rest, err)
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return entrypoint, user, nil
}

// operatorDeployment finds the operator's Deployment among the built objects.
func operatorDeployment(objs []*unstructured.Unstructured) (*unstructured.Unstructured, error) {
	for _, u := range objs {
		if u.GetKind() == "Deployment" && u.GetName() == DeploymentName {
			return u, nil
		}
	}
	return nil, fmt.Errorf("config/default has no Deployment %s", DeploymentName)
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

// Unpack copies the manager binary at managerPath into a new directory that every user may
// enter, as an image's filesystem would be, and returns the copy's path and a function that
// removes it. The operator runs as the image's unprivileged user, who cannot reach a binary
// under a private directory (a clone under /root, a test's temporary directory).
func Unpack(managerPath string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "ferry-operator-image-")
	if err != nil {
		return "", nil, fmt.Errorf("create the operator image's directory: %w", err)
	}
	remove := func() { _ = os.RemoveAll(dir) }
	data, err := os.ReadFile(managerPath) //nolint:gosec // the harness's own build output.
	if err == nil {
		err = os.Chmod(dir, 0o755) //nolint:gosec // the image's user must enter it.
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "manager"), data, 0o755) //nolint:gosec // an executable every user may run.
	}
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("unpack the operator binary %s: %w", managerPath, err)
	}
	return filepath.Join(dir, "manager"), remove, nil
}
