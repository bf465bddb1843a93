package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// serviceAccountDir is where in-cluster clients look for their token, CA and namespace.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// autoTokenVolume names the service-account volume the node adds itself (see
// needsAutoToken).
const autoTokenVolume = "ferry-kube-api-access"

// volume is a pod volume resolved to a host path.
type volume struct {
	path     string
	readOnly bool
	// claim and capacity are set for persistent volumes: the PVC and its PV's capacity in
	// bytes (the kubelet's volume statistics report them).
	claim    string
	capacity int64
	// pv and plugin are set for a claim: its PV's name, under which the volume appears in
	// the pod's directory, and the plugin directory it appears in (see linkVolume).
	pv, plugin string
}

// errNotReady is a volume whose source is not there yet (an unbound claim, a missing
// ConfigMap): the pod waits and retries, as the kubelet does.
type errNotReady struct{ msg string }

func (e *errNotReady) Error() string { return e.msg }

// Volume plugin directories of a pod's volumes directory, named as the kubelet names them
// (pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>), so that tools that find pod volumes on
// the node by that layout, such as Velero's node-agent, find them here.
const (
	emptyDirPlugin    = "kubernetes.io~empty-dir"
	configMapPlugin   = "kubernetes.io~configmap"
	secretPlugin      = "kubernetes.io~secret"
	downwardAPIPlugin = "kubernetes.io~downward-api"
	projectedPlugin   = "kubernetes.io~projected"
	localVolumePlugin = "kubernetes.io~local-volume"
	hostPathPlugin    = "kubernetes.io~host-path"
)

// prepareVolumes resolves every volume of pod to a host directory or file: persistent volumes
// and hostPath to their own paths, the rest written under dir, in the kubelet's layout. A
// claim also appears there, as a symlink named after its PV (where the kubelet bind-mounts
// it); for a hostPath PV too, which a kubelet uses in place: the node's hostPath PVs are
// what kube-controller-manager's hostPath provisioner makes, standing in for the
// provisioned volumes of a storage driver, which a kubelet does mount there.
func (n *Node) prepareVolumes(ctx context.Context, pod *corev1.Pod, dir string) (map[string]volume, error) {
	vols := map[string]volume{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		path := filepath.Join(dir, volumePlugin(v), v.Name)
		var (
			res volume
			err error
		)
		switch {
		case v.EmptyDir != nil:
			res, err = volume{path: path}, os.MkdirAll(path, 0o777)
			if err == nil {
				err = os.Chmod(path, 0o777)
			}
		case v.HostPath != nil:
			res, err = hostPathVolume(v.HostPath)
		case v.PersistentVolumeClaim != nil:
			res, err = n.claimVolume(ctx, pod.Namespace, v.PersistentVolumeClaim)
			if err == nil {
				err = linkVolume(filepath.Join(dir, res.plugin, res.pv), res.path)
			}
			if sc := pod.Spec.SecurityContext; err == nil && !res.readOnly && sc != nil && sc.FSGroup != nil {
				err = setVolumeGroup(res.path, *sc.FSGroup, true)
			}
		case v.ConfigMap != nil:
			res, err = volume{path: path, readOnly: true}, n.writeConfigMap(ctx, pod.Namespace, path, v.ConfigMap.Name,
				v.ConfigMap.Items, v.ConfigMap.DefaultMode, v.ConfigMap.Optional)
		case v.Secret != nil:
			res, err = volume{path: path, readOnly: true}, n.writeSecret(ctx, pod.Namespace, path, v.Secret.SecretName,
				v.Secret.Items, v.Secret.DefaultMode, v.Secret.Optional)
		case v.DownwardAPI != nil:
			res, err = volume{path: path, readOnly: true}, n.writeDownwardAPI(pod, path, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
		case v.Projected != nil:
			res, err = volume{path: path, readOnly: true}, n.writeProjected(ctx, pod, path, v.Projected)
		default:
			err = fmt.Errorf("volume %s: this kind of volume is not supported by the process node", v.Name)
		}
		if sc := pod.Spec.SecurityContext; err == nil && sc != nil && sc.FSGroup != nil &&
			(v.Secret != nil || v.ConfigMap != nil || v.Projected != nil || v.DownwardAPI != nil) {
			err = setVolumeGroup(res.path, *sc.FSGroup, false)
		}
		if err != nil {
			return nil, err
		}
		vols[v.Name] = res
	}
	if needsAutoToken(pod) {
		path := filepath.Join(dir, projectedPlugin, autoTokenVolume)
		if err := n.writeAutoToken(ctx, pod, path); err != nil {
			return nil, err
		}
		vols[autoTokenVolume] = volume{path: path, readOnly: true}
	}
	return vols, nil
}

// volumePlugin is the plugin directory a volume the node writes itself lives in.
func volumePlugin(v *corev1.Volume) string {
	switch {
	case v.ConfigMap != nil:
		return configMapPlugin
	case v.Secret != nil:
		return secretPlugin
	case v.DownwardAPI != nil:
		return downwardAPIPlugin
	case v.Projected != nil:
		return projectedPlugin
	}
	return emptyDirPlugin
}

// linkVolume makes link a symlink to a PV's directory. A symlink, where the kubelet
// bind-mounts, because the node mounts nothing in the host's mount namespace; readers that
// resolve it (Velero's node-agent does) reach the volume itself.
func linkVolume(link, target string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	_ = os.Remove(link)
	return os.Symlink(target, link)
}

// needsAutoToken reports whether the node should add a service-account volume itself. The
// ServiceAccount admission plugin that adds one on real clusters is off in the test API
// servers, so in-cluster clients would find no token; the node stands in for it.
func needsAutoToken(pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil && !*pod.Spec.AutomountServiceAccountToken {
		return false
	}
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			return false
		}
	}
	for _, c := range allContainers(pod) {
		for _, m := range c.VolumeMounts {
			if filepath.Clean(m.MountPath) == serviceAccountDir {
				return false
			}
		}
	}
	return true
}

func hostPathVolume(hp *corev1.HostPathVolumeSource) (volume, error) {
	kind := corev1.HostPathUnset
	if hp.Type != nil {
		kind = *hp.Type
	}
	_, statErr := os.Stat(hp.Path)
	switch kind {
	case corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate:
		if os.IsNotExist(statErr) {
			if err := os.MkdirAll(hp.Path, 0o755); err != nil {
				return volume{}, fmt.Errorf("create hostPath %s: %w", hp.Path, err)
			}
		}
	case corev1.HostPathFileOrCreate:
		if os.IsNotExist(statErr) {
			if err := createFile(hp.Path); err != nil {
				return volume{}, fmt.Errorf("create hostPath %s: %w", hp.Path, err)
			}
		}
	default:
		if statErr != nil {
			return volume{}, fmt.Errorf("hostPath %s: %w", hp.Path, statErr)
		}
	}
	return resolved(hp.Path, false)
}

// resolved returns path with its symlinks resolved on the host, as the container helper
// reaches it.
func resolved(path string, readOnly bool) (volume, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return volume{}, err
	}
	return volume{path: real, readOnly: readOnly}, nil
}

// claimVolume resolves a PVC to its bound PV's local or hostPath directory, creating the
// directory if the PV's creator did not (as an administrator preparing local volumes would).
func (n *Node) claimVolume(ctx context.Context, namespace string, src *corev1.PersistentVolumeClaimVolumeSource) (volume, error) {
	pvc, err := n.cs.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, src.ClaimName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return volume{}, &errNotReady{fmt.Sprintf("persistentvolumeclaim %q not found", src.ClaimName)}
	}
	if err != nil {
		return volume{}, err
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return volume{}, &errNotReady{fmt.Sprintf("persistentvolumeclaim %q is not bound", src.ClaimName)}
	}
	pv, err := n.cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return volume{}, err
	}
	var path string
	switch {
	case pv.Spec.Local != nil:
		path = pv.Spec.Local.Path
	case pv.Spec.HostPath != nil:
		path = pv.Spec.HostPath.Path
	default:
		return volume{}, fmt.Errorf("persistentvolume %s: only local and hostPath volumes are supported by the process node", pv.Name)
	}
	if err := os.MkdirAll(path, 0o777); err != nil {
		return volume{}, fmt.Errorf("persistentvolume %s: %w", pv.Name, err)
	}
	v, err := resolved(path, src.ReadOnly)
	v.claim = src.ClaimName
	v.pv, v.plugin = pv.Name, localVolumePlugin
	if pv.Spec.HostPath != nil {
		v.plugin = hostPathPlugin
	}
	if c, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok {
		v.capacity = c.Value()
	}
	return v, err
}

// file is one file of a ConfigMap, Secret, downward API or projected volume.
type file struct {
	path string
	data []byte
	mode *int32
}

// writeFiles writes files under dir (created if missing) with defaultMode unless a file has
// its own, refusing paths that leave dir.
func writeFiles(dir string, files []file, defaultMode *int32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode)
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if !strings.HasPrefix(p, filepath.Clean(dir)+"/") {
			return fmt.Errorf("volume file path %q leaves the volume", f.path)
		}
		m := mode
		if f.mode != nil {
			m = os.FileMode(*f.mode)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, m); err != nil {
			return err
		}
		if err := os.Chmod(p, m); err != nil {
			return err
		}
	}
	return nil
}

// keyFiles picks the files of a ConfigMap or Secret: every key, or the listed items.
func keyFiles(data map[string][]byte, items []corev1.KeyToPath, what string) ([]file, error) {
	var files []file
	if len(items) == 0 {
		for k, v := range data {
			files = append(files, file{path: k, data: v})
		}
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return nil, &errNotReady{fmt.Sprintf("%s has no key %q", what, it.Key)}
		}
		files = append(files, file{path: it.Path, data: v, mode: it.Mode})
	}
	return files, nil
}

func (n *Node) configMapFiles(ctx context.Context, namespace, name string, items []corev1.KeyToPath, optional *bool) ([]file, error) {
	cm, err := n.cs.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if ptr.Deref(optional, false) {
			return nil, nil
		}
		return nil, &errNotReady{fmt.Sprintf("configmap %q not found", name)}
	}
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items, "configmap "+name)
}

func (n *Node) secretFiles(ctx context.Context, namespace, name string, items []corev1.KeyToPath, optional *bool) ([]file, error) {
	s, err := n.cs.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if ptr.Deref(optional, false) {
			return nil, nil
		}
		return nil, &errNotReady{fmt.Sprintf("secret %q not found", name)}
	}
	if err != nil {
		return nil, err
	}
	return keyFiles(s.Data, items, "secret "+name)
}

func (n *Node) writeConfigMap(ctx context.Context, namespace, dir, name string, items []corev1.KeyToPath, mode *int32, optional *bool) error {
	files, err := n.configMapFiles(ctx, namespace, name, items, optional)
	if err != nil {
		return err
	}
	return writeFiles(dir, files, mode)
}

func (n *Node) writeSecret(ctx context.Context, namespace, dir, name string, items []corev1.KeyToPath, mode *int32, optional *bool) error {
	files, err := n.secretFiles(ctx, namespace, name, items, optional)
	if err != nil {
		return err
	}
	return writeFiles(dir, files, mode)
}

func (n *Node) downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile) ([]file, error) {
	var files []file
	for _, it := range items {
		var (
			value string
			err   error
		)
		switch {
		case it.FieldRef != nil:
			value, err = n.fieldValue(pod, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			value, err = n.resourceValue(pod, it.ResourceFieldRef)
		}
		if err != nil {
			return nil, err
		}
		files = append(files, file{path: it.Path, data: []byte(value), mode: it.Mode})
	}
	return files, nil
}

func (n *Node) writeDownwardAPI(pod *corev1.Pod, dir string, items []corev1.DownwardAPIVolumeFile, mode *int32) error {
	files, err := n.downwardFiles(pod, items)
	if err != nil {
		return err
	}
	return writeFiles(dir, files, mode)
}

// writeProjected writes every source of a projected volume into one directory.
func (n *Node) writeProjected(ctx context.Context, pod *corev1.Pod, dir string, p *corev1.ProjectedVolumeSource) error {
	var all []file
	for _, src := range p.Sources {
		var (
			files []file
			err   error
		)
		switch {
		case src.ConfigMap != nil:
			files, err = n.configMapFiles(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional)
		case src.Secret != nil:
			files, err = n.secretFiles(ctx, pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional)
		case src.DownwardAPI != nil:
			files, err = n.downwardFiles(pod, src.DownwardAPI.Items)
		case src.ServiceAccountToken != nil:
			var token string
			token, err = n.token(ctx, pod, src.ServiceAccountToken.Audience, src.ServiceAccountToken.ExpirationSeconds)
			files = []file{{path: src.ServiceAccountToken.Path, data: []byte(token)}}
		default:
			err = errors.New("projected volume: only configMap, secret, downwardAPI and serviceAccountToken sources are supported by the process node")
		}
		if err != nil {
			return err
		}
		all = append(all, files...)
	}
	return writeFiles(dir, all, p.DefaultMode)
}

// token requests a token for the pod's service account, bound to the pod.
func (n *Node) token(ctx context.Context, pod *corev1.Pod, audience string, expiration *int64) (string, error) {
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: expiration}}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		// The ServiceAccount admission plugin that defaults the name is off in the test API
		// servers; the API server binds tokens only to pods that name their account.
		sa = "default"
	} else {
		req.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}
	}
	if audience != "" {
		req.Spec.Audiences = []string{audience}
	}
	resp, err := n.cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) {
		return "", &errNotReady{fmt.Sprintf("serviceaccount %q not found", sa)}
	}
	if err != nil {
		return "", fmt.Errorf("request a token for serviceaccount %s: %w", sa, err)
	}
	return resp.Status.Token, nil
}

// writeAutoToken writes what the ServiceAccount admission plugin's kube-api-access volume
// holds: a token (when the service account exists), the API server's CA and the namespace.
func (n *Node) writeAutoToken(ctx context.Context, pod *corev1.Pod, dir string) error {
	files := []file{{path: "ca.crt", data: n.restCfg.CAData}, {path: "namespace", data: []byte(pod.Namespace)}}
	token, err := n.token(ctx, pod, "", ptr.To[int64](3607))
	var notReady *errNotReady
	switch {
	case err == nil:
		files = append(files, file{path: "token", data: []byte(token)})
	case errors.As(err, &notReady):
		// No service account (no kube-controller-manager to create "default"): no token.
	default:
		return err
	}
	return writeFiles(dir, files, nil)
}

func allContainers(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
}
