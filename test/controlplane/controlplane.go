package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	velerocrds "github.com/vmware-tanzu/velero/config/crd/v1/crds"
	velerov2crds "github.com/vmware-tanzu/velero/config/crd/v2alpha1/crds"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/hack/repo"
)

// startTimeout bounds how long etcd and kube-apiserver may take to become ready. A control
// plane normally starts in about 3 seconds; the margin covers a loaded CI machine.
const startTimeout = 90 * time.Second

// ControlPlane is a running etcd and kube-apiserver with Ferry's and Velero's CRDs.
type ControlPlane struct {
	// Name identifies the control plane in logs and kubeconfig contexts ("source", ...).
	Name string
	// Config is the admin (system:masters) REST config.
	Config *rest.Config
	// Client is an admin controller-runtime client whose scheme knows core, Ferry and Velero.
	Client client.Client
	// Clientset is an admin client-go clientset.
	Clientset kubernetes.Interface

	env        *envtest.Environment
	components []*component
	// stopped and restarted are the API server of StopAPIServer and StartAPIServer.
	stopped   *stoppedAPIServer
	restarted *apiServerProcess
	// namedCA and namedDir are the CA and the files of WithNamedCertificate.
	namedCA  []byte
	namedDir string
}

// Scheme returns a scheme with the core Kubernetes, Ferry and Velero types.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, migv1.AddToScheme, velerov1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return s, nil
}

// Start starts a named control plane and installs the CRDs. Call Stop when done.
func Start(name string, opts ...Option) (*ControlPlane, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    bin,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		CRDs:                     veleroCRDs(),
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
		Scheme:                   scheme,
	}
	if o.etcdMaxRequestBytes > 0 {
		env.ControlPlane.Etcd = &envtest.Etcd{}
		env.ControlPlane.Etcd.Configure().Set("max-request-bytes", strconv.Itoa(o.etcdMaxRequestBytes))
	}
	cp := &ControlPlane{Name: name, env: env}
	if len(o.namedCertificate) > 0 {
		if cp.namedCA, cp.namedDir, err = addNamedCertificate(env, o.namedCertificate); err != nil {
			_ = cp.removeNamedCertificate()
			return nil, err
		}
	}
	cfg, err := env.Start()
	if err != nil {
		_ = cp.removeNamedCertificate()
		return nil, fmt.Errorf("start control plane %q: %w", name, err)
	}
	cp.Config = cfg
	if cp.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		_ = env.Stop()
		_ = cp.removeNamedCertificate()
		return nil, fmt.Errorf("client for control plane %q: %w", name, err)
	}
	if cp.Clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		_ = env.Stop()
		_ = cp.removeNamedCertificate()
		return nil, fmt.Errorf("clientset for control plane %q: %w", name, err)
	}
	components := []struct {
		want bool
		name string
		args func(componentEnv) []string
	}{
		{o.controllerManager, "kube-controller-manager", controllerManagerArgs},
		{o.scheduler, "kube-scheduler", schedulerArgs},
	}
	for _, c := range components {
		if !c.want {
			continue
		}
		if err := cp.startComponent(bin, c.name, c.args); err != nil {
			_ = cp.stopComponents()
			_ = env.Stop()
			_ = cp.removeNamedCertificate()
			return nil, err
		}
	}
	return cp, nil
}

// Stop stops kube-scheduler and kube-controller-manager (if running), kube-apiserver and
// etcd, and removes their data.
func (cp *ControlPlane) Stop() error {
	if err := cp.stopComponents(); err != nil {
		return fmt.Errorf("stop components of %q: %w", cp.Name, err)
	}
	if err := cp.stopRestarted(); err != nil {
		return fmt.Errorf("stop the restarted API server of %q: %w", cp.Name, err)
	}
	if err := cp.env.Stop(); err != nil {
		return fmt.Errorf("stop control plane %q: %w", cp.Name, err)
	}
	return cp.removeNamedCertificate()
}

// removeNamedCertificate removes the files of WithNamedCertificate.
func (cp *ControlPlane) removeNamedCertificate() error {
	if cp.namedDir == "" {
		return nil
	}
	if err := os.RemoveAll(cp.namedDir); err != nil {
		return fmt.Errorf("remove the named certificate of %q: %w", cp.Name, err)
	}
	return nil
}

// URL is the HTTPS address of the API server, as a MigCluster's spec.url would hold it.
func (cp *ControlPlane) URL() string { return cp.Config.Host }

// CABundle is the PEM CA that signed the API server's serving certificate.
func (cp *ControlPlane) CABundle() []byte { return cp.Config.CAData }

// WriteKubeconfig writes an admin kubeconfig for this control plane to path.
func (cp *ControlPlane) WriteKubeconfig(path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[cp.Name] = &clientcmdapi.Cluster{Server: cp.Config.Host, CertificateAuthorityData: cp.Config.CAData}
	kc.AuthInfos[cp.Name] = &clientcmdapi.AuthInfo{ClientCertificateData: cp.Config.CertData, ClientKeyData: cp.Config.KeyData}
	kc.Contexts[cp.Name] = &clientcmdapi.Context{Cluster: cp.Name, AuthInfo: cp.Name}
	kc.CurrentContext = cp.Name
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory for kubeconfig: %w", err)
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

// veleroCRDs returns fresh copies of Velero's CRDs (envtest mutates what it installs): the
// velero.io/v1 ones and the v2alpha1 ones (DataUpload, DataDownload) that a Velero server
// refuses to start without.
func veleroCRDs() []*apiextv1.CustomResourceDefinition {
	all := append(append([]*apiextv1.CustomResourceDefinition{}, velerocrds.CRDs...), velerov2crds.CRDs...)
	out := make([]*apiextv1.CustomResourceDefinition, 0, len(all))
	for _, crd := range all {
		out = append(out, crd.DeepCopy())
	}
	return out
}

// ctxTimeout bounds each API call the harness makes.
func ctxTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 30*time.Second)
}
