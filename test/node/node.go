package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultName is the node name when Options.Name is empty: the node test fixtures pin local
// volumes to.
const DefaultName = "node-1"

// Options configures Start.
type Options struct {
	// Name of the Node object; DefaultName when empty. Names need only be unique per cluster.
	Name string
	// RootDir holds the node's pod directories (volumes, logs). When empty a temporary
	// directory is created and removed on Stop.
	RootDir string
	// Logf receives the node's diagnostics (for example t.Logf); nil discards them.
	Logf func(format string, args ...any)
	// LoopbackPorts are ports of servers on the host's 127.0.0.1 (an S3 server, say) that
	// pods reach at the same address: each pod's loopback forwards them to the host's. The
	// API server's port always is.
	LoopbackPorts []int
	// Entrypoints are the entrypoints of images, by image reference: a container without a
	// command runs its image's entrypoint (with the container's args), as a runtime runs an
	// image's ENTRYPOINT. A container with neither fails to start.
	Entrypoints map[string][]string
	// ImageUsers are the users (the image's USER) of images, by image reference: a container
	// of such an image without runAsUser runs as that user, as a runtime runs an image's
	// USER. Other images count as root (see identity.go).
	ImageUsers map[string]int64
	// Images, when set, pulls the images of the registries it knows before their containers
	// start (see ImageResolver): a failed pull leaves the container waiting in ErrImagePull
	// and ImagePullBackOff and is retried with backoff; a resolved image gives the
	// container's imageID (its digest) and, for a container without a command, the
	// entrypoint and command of the image's config, and its user. Images of other registries
	// keep Entrypoints and ImageUsers.
	Images ImageResolver
	// Commands maps absolute commands of containers that run host commands (images the node
	// does not pull) to host binaries: {"/velero": "bin/velero/velero"} runs an image's
	// /velero, which the host does not have at that path, from the build the tests use.
	Commands map[string]string
	// SharedHostDirs are host directories that privileged containers of host commands see as
	// themselves rather than as copy-on-write overlays, so that what they write there lands
	// on the host; nil means DefaultSharedHostDirs. They hold the volumes of pods (RootDir)
	// and of local PVs, which a privileged agent such as Velero's node-agent reads and
	// writes through the pods directory (see RootDir).
	SharedHostDirs []string
}

// DefaultSharedHostDirs are the shared host directories when Options.SharedHostDirs is nil:
// the temporary directory (the node's own directory, so its pods' volumes) and /srv, where
// test/fixtures puts local PVs.
func DefaultSharedHostDirs() []string { return []string{os.TempDir(), "/srv"} }

// Node is a running process node: a registered, Ready Node object whose pods run as host
// processes in their own network and mount namespaces.
type Node struct {
	name    string
	cs      kubernetes.Interface
	restCfg *rest.Config
	apiPort int
	apiAddr string // the API server's host:port, dialled from the host
	logf    func(string, ...any)
	// hostPorts maps ports of every pod's loopback to the host addresses they forward to.
	hostPorts map[int]string
	// entrypoints are the images' entrypoints (Options.Entrypoints).
	entrypoints map[string][]string
	// imageUsers are the images' users (Options.ImageUsers).
	imageUsers map[string]int64
	// images resolves images (Options.Images); pulled keeps what it resolved.
	images ImageResolver
	pulled imageCache
	// commands and sharedDirs are Options.Commands and Options.SharedHostDirs.
	commands   map[string]string
	sharedDirs []string
	// rootfs holds the unpacked images (under rootDir/images).
	rootfs rootfsCache

	slot    int
	netns   string
	ip      string
	rootDir string
	ownRoot bool

	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup // heartbeat, informers, proxy
	pods   sync.WaitGroup // pod workers

	ipam    *ipam
	server  *kubeletServer
	proxy   *proxy
	netpol  *netpol
	started time.Time

	hosts    extraHosts
	firewall firewall
	mu       sync.Mutex
	workers  map[types.UID]*podWorker
	byName   map[string]*podWorker
	stopping bool
}

// Start registers a Ready node named opts.Name in the cluster cfg points at and runs the pods
// scheduled to it until Stop. It needs root (network namespaces, mounts) and iproute2.
func Start(ctx context.Context, cfg *rest.Config, opts Options) (_ *Node, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the process node needs root (network namespaces and mounts)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("the process node needs iproute2's ip: %w", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil || u.Port() == "" {
		return nil, fmt.Errorf("API server address %q: want https://host:port", cfg.Host)
	}
	apiPort, _ := strconv.Atoi(u.Port())
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	n := &Node{
		name: opts.Name, cs: cs, restCfg: cfg, apiAddr: u.Host, apiPort: apiPort, logf: opts.Logf,
		rootDir: opts.RootDir, workers: map[types.UID]*podWorker{}, byName: map[string]*podWorker{},
		started: time.Now(), entrypoints: opts.Entrypoints, imageUsers: opts.ImageUsers, images: opts.Images,
		commands: opts.Commands, sharedDirs: opts.SharedHostDirs,
	}
	if n.sharedDirs == nil {
		n.sharedDirs = DefaultSharedHostDirs()
	}
	n.hostPorts = map[int]string{apiPort: u.Host}
	for _, port := range opts.LoopbackPorts {
		n.hostPorts[port] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	if n.name == "" {
		n.name = DefaultName
	}
	if n.logf == nil {
		n.logf = func(string, ...any) {}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			_ = n.Stop()
		}
	}()
	if n.rootDir == "" {
		if n.rootDir, err = os.MkdirTemp("", runPrefix()+n.name+"-"); err != nil {
			return nil, err
		}
		n.ownRoot = true
	}
	n.rootfs.dir = filepath.Join(n.rootDir, "images")
	if n.slot, n.netns, err = joinFabric(ctx); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	n.ip = nodeIP(n.slot)
	n.ipam = newIPAM(n.slot)
	if n.server, err = startKubeletServer(n); err != nil {
		return nil, err
	}
	if err := n.register(ctx); err != nil {
		return nil, err
	}
	n.bg.Add(1)
	go n.heartbeat()
	if n.proxy, err = startProxy(ctx, n); err != nil {
		return nil, err
	}
	if n.netpol, err = startNetpol(ctx, n); err != nil {
		return nil, err
	}
	if err := n.watchPods(ctx); err != nil {
		return nil, err
	}
	n.logf("process node %s ready in %s: IP %s, pods %s, kubelet port %d", n.name,
		time.Since(n.started).Round(time.Millisecond), n.ip, podCIDR(n.slot), n.server.port)
	return n, nil
}

// Stop kills every pod process at once (no grace period), removes the node's network
// namespaces and, if it created it, its root directory. The Node and Pod objects stay.
func (n *Node) Stop() error {
	n.mu.Lock()
	n.stopping = true
	n.mu.Unlock()
	n.cancel()
	n.pods.Wait()
	n.bg.Wait()
	if n.proxy != nil {
		n.proxy.close()
	}
	if n.server != nil {
		n.server.close()
	}
	var errs []error
	if n.netns != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, leaveFabric(ctx, n.slot, n.netns))
		cancel()
	}
	if n.ownRoot {
		errs = append(errs, os.RemoveAll(n.rootDir))
	}
	return errors.Join(errs...)
}

// Name is the Node object's name.
func (n *Node) Name() string { return n.name }

// IP is the node's InternalIP, where its NodePorts listen, reachable from every pod of every
// process node of this process.
func (n *Node) IP() string { return n.ip }

// PodCIDR is the subnet the node's pod IPs come from.
func (n *Node) PodCIDR() string { return podCIDR(n.slot) }

// ContainerPID returns the host PID of a running container's first process.
func (n *Node) ContainerPID(namespace, pod, container string) (int, bool) {
	n.mu.Lock()
	w := n.byName[namespace+"/"+pod]
	n.mu.Unlock()
	if w == nil {
		return 0, false
	}
	return w.pid(container)
}

// DialContext connects from the node's network namespace (as a process on the node would), so
// a test can reach pod IPs, ClusterIPs and NodePorts.
func (n *Node) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" {
		return nil, fmt.Errorf("network %s: only tcp is supported", network)
	}
	return dialIn(ctx, n.netns, addr)
}

// RootDir is the node's directory, laid out as a kubelet's root directory
// (--root-dir, /var/lib/kubelet on most clusters) for what agents read from it: the volumes
// of pod UID are under pods/<UID>/volumes/kubernetes.io~<plugin>/<name>. A DaemonSet that
// reads pod volumes mounts its pods directory (`velero install --kubelet-root-dir`).
func (n *Node) RootDir() string { return n.rootDir }

// podDir is where a pod's volumes, logs and container roots live.
func (n *Node) podDir(uid types.UID) string { return filepath.Join(n.rootDir, "pods", string(uid)) }

// podIP returns the IP of a pod whose sandbox exists, else "".
func (n *Node) podIP(uid types.UID) string { return n.ipam.lookup(uid) }
