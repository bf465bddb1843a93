// Package node is the process node of the local test clusters: it plays the kubelet for one
// cluster (test/controlplane), so that pods run without a container runtime. Each pod runs as
// host processes, in its own network namespace (a veth to the node's bridge, the pod IP in
// status) and, per container, its own mount, PID and UTS namespaces. A container's image
// either comes from a registry Options.Images knows (test/registry: the cluster's internal
// registry), which the node pulls as a kubelet would, taking the digest, the config's
// entrypoint and command and its user, and, when its layers hold files, its root file
// system, which becomes the container's root; or the image is not pulled and the container
// runs host commands: its command, or the one Options.Entrypoints names for its image's
// entrypoint (and Options.ImageUsers its USER). Images whose layers hold no files, or are
// labelled HostCommandLabel (test images whose layers are random data), run host commands
// too.
//
//	n, err := node.Start(ctx, cp.Config, node.Options{Name: "node-1", Logf: t.Logf})
//	defer n.Stop()
//
// Start returns once the Node is registered, Ready and untainted (a few hundred
// milliseconds). It needs root, iproute2's ip and iptables-legacy (for Services and
// NetworkPolicies).
// Several nodes (of one or more clusters) run in one process; several processes (test
// packages run in parallel) run side by side.
//
// # Design
//
//   - Pod loop (pods.go, worker.go): a client-go informer on the pods with spec.nodeName equal
//     to the node hands each pod to its own worker goroutine, which builds the sandbox and the
//     volumes, runs init containers in order, then the containers, restarts them per
//     restartPolicy (backoff 1 s doubling to 30 s, started over after a run of 10 s, where the
//     kubelet waits 10 minutes), writes the pod status, and carries out
//     deletion: SIGTERM, SIGKILL after the grace period, then the pod object is deleted with
//     grace period 0 (and its UID as precondition), as the kubelet does. virtual-kubelet's node
//     package was considered: it would bring its own dependency set into go.mod and still
//     leave all of the above to a provider, so a small loop of our own is simpler.
//
//   - Containers (process.go, podinit.go): the node re-executes its own binary (whatever binary
//     imports this package: a test binary, the demo) with FERRY_NODE_PODINIT set, in new mount,
//     PID and UTS namespaces, with Pdeathsig. The package's init function sees the variable and
//     becomes the container: it joins the pod's network namespace, sets the hostname to the pod
//     name, assembles a private root (for an image with files, a copy-on-write overlay of its
//     unpacked root file system; otherwise a tmpfs whose top-level directories are
//     copy-on-write overlays of the host's; /dev and /sys bound, /proc fresh; /etc/hosts,
//     /etc/hostname and, in an image's root, /etc/resolv.conf the node's), binds the volumes at their mount
//     paths (resolved inside the new root, so /var/run/... never lands on the host), pivots into
//     it and execs the command, which is then PID 1 of its PID namespace. Killing it ends every
//     process the container started; a killed test kills it through Pdeathsig. A failure before
//     exec comes back through a close-on-exec pipe and shows as StartError (exit code 128), as
//     with a real runtime. Writes outside volumes (to /etc, /tmp...) stay in the container's
//     memory and vanish with it; nothing is mounted in the host's mount namespace.
//
//   - Network (fabric.go, sandbox.go): one "fabric" network namespace per process holds a bridge
//     that routes between nodes; each node has a namespace with its node IP 10.100.0.k on the
//     fabric and a bridge cbr0 (10.244.k.1) for its pods, which get 10.244.k.x. So every pod
//     reaches every pod and every node IP of every cluster of the process, as on one data-centre
//     network, while nothing is added to the host's network namespace. Namespaces are named
//     ferrynode-<pid>-...; the first node of a process deletes those whose process is gone, and
//     the temporary directories named the same way.
//
//   - Services (proxy.go, dnat.go, forward.go): each node's namespace does kube-proxy's work.
//     A Service port whose endpoints are pods or nodes is served by the kernel, as kube-proxy's
//     iptables mode serves it: the namespace's nat table (iptables-legacy) DNATs its ClusterIPs
//     (PREROUTING for pods, which route through their gateway, and other nodes; OUTPUT for the
//     namespace itself) and its NodePort on the node's addresses to a random ready endpoint of
//     the EndpointSlices (kube-controller-manager writes them), marks the packet and
//     masquerades it, so that replies return through the node's conntrack even from a server
//     on the client's own bridge (ICMP redirects are off for the same reason). The table is
//     rewritten in one iptables-restore when Services or EndpointSlices change. Both clusters
//     use the same service range (10.0.0.0/24); that works because each node's namespace holds
//     only its own cluster's rules and pods reach ClusterIPs through their own node. A
//     userspace listener serves what the kernel cannot reach: the `kubernetes` Service, whose
//     API server listens on the host's loopback, and Services with loopback endpoints (the
//     ClusterIP an address on the namespace's loopback, the NodePort a listener on the node's
//     addresses, each connection dialled from the host). Until this, every Service was
//     proxied in userspace, which copied every byte of a volume migration once more than a
//     real cluster does. Servers see the node's bridge address (or node IP) as the client.
//
//   - NetworkPolicies (netpol.go, netpol_rules.go) are enforced as a CNI would, with
//     iptables-legacy inside each pod's namespace (never the host's): INPUT jumps to
//     FERRY-INGRESS, OUTPUT to FERRY-EGRESS. A direction isolated by a policy selecting the pod
//     (policyTypes; without them Ingress, plus Egress if it has egress rules) accepts loopback,
//     replies (conntrack) and the union of its rules, and DROPs the rest: a blocked client
//     times out. Peers: podSelector and namespaceSelector are the selected pods' IPs (of the
//     node's own cluster), ipBlock the CIDR minus its excepts; empty from/to is any address.
//     Ports: TCP, UDP, SCTP, port, endPort, named ports (the pod's own container ports for
//     ingress, each destination pod's for egress). Informers on pods, namespaces and policies
//     trigger recomputation; a pod's chains are written before its containers start and
//     rewritten in one iptables-restore when they change. What the rules see: Service traffic
//     (ClusterIP, NodePort) reaches the server from the serving node (bridge address
//     10.244.k.1, or node IP 10.100.0.k for an endpoint on another node), not from the client
//     pod, as when kube-proxy masquerades: a restricted ingress admits it only by an empty `from` or an ipBlock. A
//     client's egress rules see the address it dials (pod IP, node IP:NodePort, or ClusterIP,
//     not the endpoint behind it): egress to a ClusterIP needs an ipBlock. Pods of the other
//     cluster match ipBlocks only; traffic from the node itself is not exempt.
//     Node.DialFromPod connects from inside a pod's namespace, so tests can probe policies.
//
//   - API server access from pods: the API server listens on the host's loopback. Each pod's
//     loopback gets a forwarder on the API server's own port, and KUBERNETES_SERVICE_HOST/PORT
//     point there (127.0.0.1:<port>), where the API server's certificate is valid, so in-cluster
//     clients (client-go's rest.InClusterConfig) work and kubeconfigs written for the host work
//     unchanged inside pods. Options.LoopbackPorts forwards other host servers (an S3 server)
//     the same way. The `kubernetes` Service's ClusterIP also reaches the API server, but its
//     certificate does not name 10.0.0.1.
//
//   - Service accounts: the test API servers run without the ServiceAccount admission plugin, so
//     no pod gets a kube-api-access volume; the node adds one itself at
//     /var/run/secrets/kubernetes.io/serviceaccount (token from the TokenRequest API when the
//     service account exists, the API server's CA, the namespace) unless the pod opts out
//     (automountServiceAccountToken: false) or mounts something there.
//
//   - Kubelet API (logs.go, stats.go, kubeletaddr.go): HTTPS on the host's first global address
//     (eth0's; 127.0.0.1 when there is none) with a self-signed certificate, accepting
//     connections from this machine only, at the node's Hostname address, which kube-apiserver
//     prefers by default; it does not verify kubelet certificates without
//     --kubelet-certificate-authority. A global address because the API server's node proxy
//     refuses loopback ones. So `kubectl logs`, client-go's GetLogs and
//     /api/v1/nodes/<node>/proxy/stats/summary (per-pod persistent volume usage: allocated
//     bytes and inodes under the volume's directory, capacity from its PV) work through the
//     API server.
//
//   - Image pulls (images.go): with Options.Images, a container's image of a registry the
//     resolver knows is resolved before each start (pull policy Always) or once per node
//     (IfNotPresent and Never: the node keeps what it pulled, by reference): manifest and
//     config from the registry, through go-containerregistry in test/registry. A failed pull
//     leaves the container waiting in ErrImagePull (message: the registry's error), then,
//     halfway to the retry, ImagePullBackOff ("Back-off pulling image ...: ErrImagePull:
//     <error>"), retried with the restart backoff (1 s doubling to 30 s; the kubelet's image
//     backoff is 10 s to 5 min), as the kubelet does; a pod none of whose runs started stays
//     Pending. A pulled image's digest reference is the container's imageID; a container
//     without a command runs the config's Entrypoint then its args, or the config's Cmd
//     without args (the runtime's rule). Its layers are fetched and unpacked (rootfs.go:
//     go-containerregistry's mutate.Extract, whiteouts applied, owners and modes kept, written
//     through an os.Root so that no entry lands outside) once per digest under the node's
//     directory, during the pull (a failure is an ErrImagePull); containers of the image share
//     that tree as the read-only lower layer of their overlays, so what a container writes
//     outside its volumes stays in its memory and vanishes with it. An image with no files,
//     or labelled HostCommandLabel, runs its command as a host command. Images of other
//     registries keep Entrypoints.
//
//   - Users (identity.go): containers run as the runAsUser, runAsGroup, supplementalGroups and
//     fsGroup of their security contexts (set before exec), else their image's user when the
//     pulled config names a numeric one or Options.ImageUsers knows it; runAsNonRoot without
//     a user is refused. fsGroup is applied to writable persistent volumes and
//     to Secret, ConfigMap, projected and downward API volumes as the kubelet does (group,
//     group read/write, setgid directories), also to hostPath-backed PVs, which a real kubelet
//     leaves alone.
//
//   - Firewall (firewall.go): Node.BlockLoopbackPort cuts the node's pods off a forwarded host
//     port (new connections closed, open ones cut) until opened again: a source cluster behind
//     a firewall, which the destination reaches only through a tunnel.
//
//   - Names (hosts.go): Node.SetHost adds a name to the /etc/hosts of containers started
//     afterwards, standing in for a DNS record (test/router's Route hosts).
//
//   - Node object (register.go): Ready, addresses (InternalIP 10.100.0.k, Hostname: the kubelet
//     API's address),
//     generous capacity (32 CPU, 64 GiB, 500 pods), the kubelet port, the not-ready taint
//     removed; a Lease in kube-node-lease and the Ready condition renewed every 10 s.
//
//   - Kubelet layout (volumes.go): the node's directory (Node.RootDir) is laid out as a
//     kubelet's root directory: pod UID's volumes are under
//     pods/<UID>/volumes/kubernetes.io~<plugin>/<name> (empty-dir, configmap, secret,
//     downward-api, projected), and a claim appears as kubernetes.io~local-volume/<PV name>
//     (or ~host-path for a hostPath PV), a symlink to the PV's directory where the kubelet
//     bind-mounts it. A kubelet uses hostPath PVs in place; here they stand in for the volumes
//     a storage driver provisions (kube-controller-manager's hostPath provisioner makes them),
//     which a kubelet does mount under the pod. So agents that read pod volumes from the node, such as Velero's
//     node-agent (its DaemonSet mounting RootDir/pods, as `velero install --kubelet-root-dir`
//     does), find them.
//
//   - Privileged containers of host commands (Options.SharedHostDirs): they see the shared
//     host directories (by default the temporary directory, which holds the node's own, and
//     /srv, where test/fixtures puts local PVs) as themselves instead of copy-on-write, so
//     that the symlinks above lead a node-agent to the volumes and what it restores lands in
//     them. Other containers, and the rest of a privileged one's root, stay copy-on-write.
//
//   - Commands (Options.Commands): the absolute command of a container of host commands can
//     be mapped to a host binary ("/velero" to the build of make velero), for images the node
//     does not pull whose commands sit at paths the host does not have.
//
//   - Termination messages (termination.go): each run's terminationMessagePath (by default
//     /dev/termination-log) is a world-writable file of the node bound into the container;
//     after the run it becomes the terminated state's message (4096 bytes at most), or with
//     FallbackToLogsOnError and a failure the log's last 80 lines (2048 bytes), as the kubelet
//     does. Velero's data-path pods report their results that way. The bind needs a mount
//     point, so the first such container leaves an empty /dev/termination-log in the host's
//     /dev (a devtmpfs, emptied at boot); nothing is written through it.
//
//   - HOME: a container whose environment has none gets its user's home from the passwd file
//     of its root, else /, as container runtimes set it.
//
// # Supported
//
//   - Volumes: persistentVolumeClaim (bound PVs of type local or hostPath; a missing directory
//     is created), hostPath (with its type checks), emptyDir, configMap, secret, downwardAPI,
//     projected (serviceAccountToken, configMap such as kube-root-ca.crt, secret, downwardAPI);
//     subPath and subPathExpr; readOnly mounts.
//   - Env: value with $(VAR) expansion (also in command and args), configMapKeyRef,
//     secretKeyRef, fieldRef (metadata.name/namespace/uid/labels/annotations, spec.nodeName,
//     spec.serviceAccountName, status.podIP(s), status.hostIP(s)), resourceFieldRef, envFrom
//     with prefix; PATH defaults to the usual system path, HOSTNAME is the pod name.
//   - Init containers in order; restartPolicy Always, OnFailure and Never; container states
//     (waiting ContainerCreating/PodInitializing/CrashLoopBackOff/CreateContainerConfigError,
//     running, terminated with exit code, 128+signal when killed, StartError), restart counts,
//     last termination state, ready flags, phase and conditions (PodReadyToStartContainers,
//     Initialized, ContainersReady, Ready).
//   - Logs: stdout and stderr together per run in a file; follow, previous, tailLines and
//     limitBytes.
//   - Services: TCP ClusterIP and NodePort, across clusters by node IP; pod-to-pod by IP.
//   - NetworkPolicies (networking.k8s.io/v1), ingress and egress, as described above.
//
// # Not supported
//
// Probes (a running container is ready), lifecycle hooks, sidecar init containers
// (restartPolicy on an init container), exec/attach/port-forward, UDP and SCTP services,
// session affinity, cluster DNS (service names do not resolve; use ClusterIPs or the
// environment), hostNetwork (such pods get their own namespace anyway), capabilities,
// seccomp and privilege escalation (users and groups are honoured, the rest of security
// contexts is not), resource limits (no cgroups),
// updates of ConfigMap/Secret volumes after start, token refresh, log
// timestamps and sinceSeconds. Images: the config's Env, WorkingDir and named users are
// ignored (PATH is the usual system path; the group of a "uid:gid" USER is root's unless
// runAsGroup says otherwise), unpacked images stay until the node stops (no garbage
// collection), readOnlyRootFilesystem is not enforced, pull secrets are not used (the
// resolver holds its own credentials), ErrImageNeverPull does not exist (Never behaves as
// IfNotPresent), and images of registries the resolver does not know are not pulled at all.
// Mount paths under /proc, /sys and /dev are refused (but for the termination message file). A
// container of host commands sees the
// host file system as a copy-on-write overlay of the top level of the host's root only: file
// systems mounted below a top-level directory (other than /dev and /sys) are not visible
// inside containers.
//
// NetworkPolicies do not filter IPv6; pods reach the API server and LoopbackPorts over their
// loopback, which no egress policy blocks (a real egress deny blocks the API server);
// connections established before a policy change survive it (conntrack), as with most CNIs;
// a new pod's IP joins its peers' rules once the node sees it (a moment after it starts).
package node
