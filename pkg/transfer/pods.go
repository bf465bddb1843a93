package transfer

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Container names. The client's is "rsync", as in MTC, so tools that read its log find it.
const (
	ContainerRsync   = "rsync"
	ContainerStunnel = "stunnel"
)

// PurposeRsync is the value of LabelPurpose on rsync servers and their endpoints.
const PurposeRsync = "rsync"

// Volume names inside transfer pods.
const (
	volConfig = "config"
	volSecret = "secret"
	volWork   = "work"
	volSource = "source"
)

// ServerVolume is a destination PVC served as an rsync module.
type ServerVolume struct {
	PVC    string
	Module string
	// SourceNamespace is the namespace of the source PVC copied into it: only the clients of
	// that namespace may write into the module.
	SourceNamespace string
}

// Server describes the rsync server of one destination namespace.
type Server struct {
	Namespace string
	Name      string
	// Labels are the DVM's transfer labels (Labels).
	Labels             map[string]string
	Image              string
	Volumes            []ServerVolume
	SupplementalGroups []int64
	Identity           Identity
	// Resources are each container's requests and limits (transfer_pod_*); none given means
	// DefaultResources.
	Resources corev1.ResourceRequirements
	// Env is added to each container's environment (the MigrationController's proxy settings).
	Env []corev1.EnvVar
}

// serverLabels are the labels of the server's pod, Service, ConfigMap and Secret.
func (s Server) serverLabels() map[string]string {
	l := maps.Clone(s.Labels)
	l[LabelPurpose] = PurposeRsync
	return l
}

// ConfigMap holds the rsync daemon's and stunnel's configuration.
func (s Server) ConfigMap() (*corev1.ConfigMap, error) {
	modules := make([]RsyncModule, 0, len(s.Volumes))
	for _, v := range s.Volumes {
		modules = append(modules, RsyncModule{Name: v.Module, User: PairUser(v.SourceNamespace, s.Namespace)})
	}
	slices.SortFunc(modules, func(a, b RsyncModule) int { return strings.Compare(a.Name, b.Name) })
	conf, err := RsyncdConf(modules, s.Identity.Root)
	if err != nil {
		return nil, fmt.Errorf("rsync server in %s: %w", s.Namespace, err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, Labels: s.serverLabels()},
		Data:       map[string]string{FileRsyncdConf: conf, FileStunnelConf: ServerStunnelConf()},
	}, nil
}

// Secret holds the server's certificate and key, the CA and the daemon's password file with
// the users of the namespace pairs whose volumes it serves.
func (s Server) Secret(c *Credentials) (*corev1.Secret, error) {
	auths := make([]PairAuth, 0, len(s.Volumes))
	for _, v := range s.Volumes {
		auths = append(auths, c.Pair(v.SourceNamespace, s.Namespace))
	}
	slices.SortFunc(auths, func(a, b PairAuth) int { return strings.Compare(a.User, b.User) })
	secrets, err := RsyncSecrets(auths)
	if err != nil {
		return nil, fmt.Errorf("rsync server in %s: %w", s.Namespace, err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, Labels: s.serverLabels()},
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			FileCACert: c.CACert, FileCert: c.ServerCert, FileKey: c.ServerKey,
			FileRsyncSecrets: []byte(secrets),
		},
	}, nil
}

// Service exposes the server's stunnel on StunnelPort, as NodePort or ClusterIP.
func (s Server) Service(kind corev1.ServiceType) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, Labels: s.serverLabels()},
		Spec: corev1.ServiceSpec{
			Type:     kind,
			Selector: s.serverLabels(),
			Ports: []corev1.ServicePort{{
				Name: "stunnel", Protocol: corev1.ProtocolTCP, Port: StunnelPort, TargetPort: intstr.FromInt32(StunnelPort),
			}},
		},
	}
}

// Pod runs the rsync daemon and stunnel, with every destination PVC of the namespace mounted.
func (s Server) Pod() *corev1.Pod {
	mounts := []corev1.VolumeMount{
		{Name: volConfig, MountPath: ConfigDir, ReadOnly: true},
		{Name: volSecret, MountPath: SecretDir, ReadOnly: true},
	}
	volumes := []corev1.Volume{configVolume(s.Name), secretVolume(s.Name)}
	for i, v := range s.Volumes {
		name := "data-" + strconv.Itoa(i)
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PVC},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: DataRoot + "/" + v.Module})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, Labels: s.serverLabels()},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyAlways,
			AutomountServiceAccountToken: ptr.To(false),
			SecurityContext:              s.Identity.podSecurity(s.SupplementalGroups),
			Volumes:                      volumes,
			Containers: []corev1.Container{
				{
					Name: ContainerRsync, Image: s.Image,
					Command:         []string{"rsync", "--daemon", "--no-detach", "--config=" + ConfigDir + "/" + FileRsyncdConf},
					Env:             slices.Clone(s.Env),
					VolumeMounts:    mounts,
					Resources:       orDefault(s.Resources),
					SecurityContext: s.Identity.containerSecurity(),
				},
				{
					Name: ContainerStunnel, Image: s.Image,
					Command:         []string{"stunnel", ConfigDir + "/" + FileStunnelConf},
					Ports:           []corev1.ContainerPort{{Name: "stunnel", ContainerPort: StunnelPort, Protocol: corev1.ProtocolTCP}},
					Env:             slices.Clone(s.Env),
					VolumeMounts:    mounts[:2],
					Resources:       orDefault(s.Resources),
					SecurityContext: s.Identity.containerSecurity(),
				},
			},
		},
	}
}

// Endpoint is where clients reach the server of a destination namespace.
type Endpoint struct {
	DestinationNamespace string
	Host                 string
	Port                 int
	// SNI is the TLS server name the client sends, for a router that passes connections
	// through by name (a passthrough Route); empty otherwise.
	SNI string
	// Fallbacks are further hosts serving the same port, tried in order when Host does not
	// answer (other nodes of a NodePort endpoint). A proxy's CONNECT names one host, so they
	// are not used through a proxy.
	Fallbacks []string
}

// check refuses an endpoint that cannot be written into a stunnel configuration.
func (e Endpoint) check() error {
	err := errors.Join(checkHost("the endpoint host", e.Host), checkPort("the endpoint port", e.Port))
	for _, h := range e.Fallbacks {
		err = errors.Join(err, checkHost("the endpoint fallback host", h))
	}
	if e.SNI != "" {
		err = errors.Join(err, checkHost("the endpoint SNI", e.SNI))
	}
	return err
}

// ClientConfig describes the client side of one source namespace.
type ClientConfig struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// Endpoints are the servers of the destination namespaces this namespace's PVCs go to.
	Endpoints []Endpoint
	Proxy     *Proxy
}

// StunnelKey is the ConfigMap key of the client stunnel configuration for a destination
// namespace.
func StunnelKey(destNamespace string) string { return "stunnel-" + destNamespace + ".conf" }

// configs returns the stunnel client configuration of each destination namespace, by key.
func (c ClientConfig) configs() (map[string]string, error) {
	out := map[string]string{}
	for _, e := range c.Endpoints {
		if err := checkNamespace("the destination namespace", e.DestinationNamespace); err != nil {
			return nil, err
		}
		conf, err := ClientStunnelConf(e, c.Proxy)
		if err != nil {
			return nil, fmt.Errorf("rsync client in %s, endpoint of %s: %w", c.Namespace, e.DestinationNamespace, err)
		}
		out[StunnelKey(e.DestinationNamespace)] = conf
	}
	return out, nil
}

// ConfigMap holds one stunnel client configuration per destination namespace.
func (c ClientConfig) ConfigMap() (*corev1.ConfigMap, error) {
	configs, err := c.configs()
	if err != nil {
		return nil, err
	}
	if c.Proxy.HasCredentials() {
		configs = map[string]string{}
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, Labels: maps.Clone(c.Labels)},
		Data:       configs,
	}, nil
}

// Secret holds the client certificate and key, the CA, the rsync password of each pair of
// this namespace and a destination namespace it copies to (PasswordKey; no other pair's),
// and the stunnel configurations when they carry the proxy's password.
func (c ClientConfig) Secret(cr *Credentials) (*corev1.Secret, error) {
	configs, err := c.configs()
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{
		FileCACert: cr.CACert, FileCert: cr.ClientCert, FileKey: cr.ClientKey,
	}
	for _, e := range c.Endpoints {
		data[PasswordKey(e.DestinationNamespace)] = []byte(cr.Pair(c.Namespace, e.DestinationNamespace).Password)
		if c.Proxy.HasCredentials() {
			data[StunnelKey(e.DestinationNamespace)] = []byte(configs[StunnelKey(e.DestinationNamespace)])
		}
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, Labels: maps.Clone(c.Labels)},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}, nil
}

// Client describes one attempt at copying one source PVC.
type Client struct {
	Namespace string
	Name      string
	// Config is the name of the namespace's client ConfigMap and Secret.
	Config               string
	DestinationNamespace string
	Labels               map[string]string
	Image                string
	PVC                  string
	Module               string
	Verify               bool
	Options              RsyncOptions
	// NodeName co-schedules the client with the pod that mounts a ReadWriteOnce PVC.
	NodeName           string
	SupplementalGroups []int64
	Identity           Identity
	// StunnelInSecret says the stunnel configuration is in the Secret (ClientConfig.Secret:
	// it carries a proxy password).
	StunnelInSecret bool
	// Resources are the container's requests and limits (client_pod_*); none given means
	// DefaultResources.
	Resources corev1.ResourceRequirements
	// Env is added to the container's environment (the MigrationController's proxy settings).
	Env []corev1.EnvVar
}

func (c Client) stunnelDir() string {
	if c.StunnelInSecret {
		return SecretDir
	}
	return ConfigDir
}

// Pod is the client pod: rsync through stunnel, run once (restartPolicy Never; retries are
// new pods, one per attempt). The destination namespace (which RSYNC_CONNECT_PROG, a shell
// command, names), the module and the extra options are checked first.
func (c Client) Pod() (*corev1.Pod, error) {
	err := errors.Join(checkNamespace("the destination namespace", c.DestinationNamespace), checkToken("the rsync module", c.Module))
	for _, opt := range c.Options.Extras {
		err = errors.Join(err, ValidateExtra(opt))
	}
	if err != nil {
		return nil, fmt.Errorf("rsync client pod %s/%s: %w", c.Namespace, c.Name, err)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, Labels: maps.Clone(c.Labels)},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			AutomountServiceAccountToken: ptr.To(false),
			NodeName:                     c.NodeName,
			SecurityContext:              c.Identity.podSecurity(c.SupplementalGroups),
			Volumes: []corev1.Volume{
				configVolume(c.Config), secretVolume(c.Config),
				{Name: volWork, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				// Read-only: the kubelet then leaves the source's ownership alone (fsGroup).
				{Name: volSource, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.PVC, ReadOnly: true}}},
			},
			Containers: []corev1.Container{{
				Name: ContainerRsync, Image: c.Image,
				Command: []string{"sh", "-c", ClientScript, "rsync"},
				Args:    ClientArgs(c.Options, PairUser(c.Namespace, c.DestinationNamespace), c.Module, c.Verify),
				Env: append([]corev1.EnvVar{
					{Name: "RSYNC_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: c.Config}, Key: PasswordKey(c.DestinationNamespace),
					}}},
					{Name: "RSYNC_CONNECT_PROG", Value: "stunnel " + c.stunnelDir() + "/" + StunnelKey(c.DestinationNamespace)},
				}, c.Env...),
				VolumeMounts: []corev1.VolumeMount{
					{Name: volConfig, MountPath: ConfigDir, ReadOnly: true},
					{Name: volSecret, MountPath: SecretDir, ReadOnly: true},
					{Name: volWork, MountPath: WorkDir},
					{Name: volSource, MountPath: DataRoot + "/source", ReadOnly: true},
				},
				Resources:       orDefault(c.Resources),
				SecurityContext: c.Identity.containerSecurity(),
			}},
		},
	}, nil
}

func configVolume(name string) corev1.Volume {
	return corev1.Volume{Name: volConfig, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}},
	}}
}

func secretVolume(name string) corev1.Volume {
	return corev1.Volume{Name: volSecret, VolumeSource: corev1.VolumeSource{
		// 0440: readable by a non-root pod's fsGroup, which the kubelet gives the files.
		Secret: &corev1.SecretVolumeSource{SecretName: name, DefaultMode: ptr.To[int32](0o440)},
	}}
}

// DefaultResources are MTC's controller defaults for transfer containers: requests of 400m
// CPU and 512Mi, no limits. Ferry's controllers pass the MigrationController's
// transfer_pod_* and client_pod_* settings instead (pkg/settings).
func DefaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("400m"), corev1.ResourceMemory: resource.MustParse("512Mi"),
	}}
}

// orDefault returns r, or DefaultResources when r sets nothing.
func orDefault(r corev1.ResourceRequirements) corev1.ResourceRequirements {
	if len(r.Requests) == 0 && len(r.Limits) == 0 {
		return DefaultResources()
	}
	return *r.DeepCopy()
}
