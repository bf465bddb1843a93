package migplan

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/mapping"
)

// claimKey identifies a PVC on the source cluster.
type claimKey struct{ namespace, name string }

func keyOf(obj metav1.Object) claimKey { return claimKey{obj.GetNamespace(), obj.GetName()} }

// sourceNamespaces returns the source namespaces of the plan's valid namespace mappings.
func sourceNamespaces(plan *migv1.MigPlan) map[string]bool {
	out := map[string]bool{}
	if plan == nil {
		return out
	}
	for _, entry := range plan.Spec.Namespaces {
		if src, _, err := mapping.Parse(entry); err == nil {
			out[src] = true
		}
	}
	return out
}

// pvcRenames returns the destination names of the PVCs the plan renames ("src:dest"), keyed
// by source claim. Invalid names and mappings to the same name are left out.
func pvcRenames(existing []migv1.PV) map[claimKey]string {
	out := map[claimKey]string{}
	for _, pv := range existing {
		src, dest, err := mapping.Parse(pv.PVC.Name)
		if err == nil && src != dest {
			out[claimKey{pv.PVC.Namespace, src}] = dest
		}
	}
	return out
}

// mappedPVCName returns the plan's name of a claim: "src:dest" if the user renamed it,
// else the claim name.
func mappedPVCName(renames map[claimKey]string, key claimKey) string {
	if dest, ok := renames[key]; ok {
		return key.name + ":" + dest
	}
	return key.name
}

// storageConversionInfix ends the names of the PVCs a storage conversion creates,
// "<name>-mig-<suffix>".
const storageConversionInfix = "-mig-"

// ignoredClaim reports whether a claim is left out of discovery: a PVC created by this
// plan's storage conversion, or one controlled by another PVC.
func ignoredClaim(pvc *corev1.PersistentVolumeClaim, suffix string) bool {
	if suffix != "" && strings.HasSuffix(pvc.Name, storageConversionInfix+suffix) {
		return true
	}
	owner := metav1.GetControllerOf(pvc)
	return owner != nil && owner.Kind == "PersistentVolumeClaim"
}

// boundPVs indexes the Bound PVs of the source cluster by the claim they reference.
type boundPVs map[claimKey][]*corev1.PersistentVolume

func indexBoundPVs(pvs []corev1.PersistentVolume) boundPVs {
	out := boundPVs{}
	for i := range pvs {
		pv := &pvs[i]
		ref := pv.Spec.ClaimRef
		if pv.Status.Phase != corev1.VolumeBound || ref == nil || ref.Name == "" {
			continue
		}
		key := claimKey{ref.Namespace, ref.Name}
		out[key] = append(out[key], pv)
	}
	return out
}

// forClaim returns the PV bound to a claim, or nil. A PV whose claimRef has another UID, or
// that the claim does not name in spec.volumeName, is a stale binding and does not count.
func (b boundPVs) forClaim(pvc *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	for _, pv := range b[keyOf(pvc)] {
		ref := pv.Spec.ClaimRef
		if ref.UID != "" && pvc.UID != "" && ref.UID != pvc.UID {
			continue
		}
		if pvc.Spec.VolumeName != "" && pvc.Spec.VolumeName != pv.Name {
			continue
		}
		return pv
	}
	return nil
}

// claimDetails returns the pvc part of a PV entry.
func claimDetails(pvc *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume,
	renames map[claimKey]string, usage claimUsage) migv1.PVC {
	modes := pvc.Spec.AccessModes
	if len(modes) == 0 {
		modes = pv.Spec.AccessModes
	}
	return migv1.PVC{
		Name:         mappedPVCName(renames, keyOf(pvc)),
		Namespace:    pvc.Namespace,
		AccessModes:  append([]corev1.PersistentVolumeAccessMode(nil), modes...),
		VolumeMode:   claimVolumeMode(pvc, pv),
		HasReference: usage.referenced,
		OwnerType:    usage.owner,
	}
}

// claimVolumeMode returns the volume mode of the claim, else of the PV, else Filesystem.
func claimVolumeMode(pvc *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) corev1.PersistentVolumeMode {
	switch {
	case pvc.Spec.VolumeMode != nil && *pvc.Spec.VolumeMode != "":
		return *pvc.Spec.VolumeMode
	case pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode != "":
		return *pv.Spec.VolumeMode
	}
	return corev1.PersistentVolumeFilesystem
}

// Labels and annotations that tie pods to their workloads.
const (
	podTemplateHashLabel     = "pod-template-hash"                   // Set by Deployments on their ReplicaSets' pods.
	deploymentConfigPodAnnot = "openshift.io/deployment-config.name" // Set by DeploymentConfigs on their pods.
	hotplugPodPrefix         = "hp-"                                 // KubeVirt hotplug volume pods.
)

// claimUsage says whether a claim is mounted, and by which kind of workload.
type claimUsage struct {
	referenced bool
	owner      migv1.OwnerType // Empty when nothing mounts the claim.
}

// add records one more user of the claim; users of different kinds make the owner Unknown.
func (u *claimUsage) add(owner migv1.OwnerType) {
	u.referenced = true
	switch u.owner {
	case "":
		u.owner = owner
	case owner:
	default:
		u.owner = migv1.OwnerTypeUnknown
	}
}

// setClaimTemplate is a StatefulSet volumeClaimTemplate: its claims are "<prefix><ordinal>",
// the prefix being "<template>-<set>-".
type setClaimTemplate struct{ namespace, prefix, template string }

// usageIndex records, per claim, the pods and workload templates that mount it.
type usageIndex struct {
	claims       map[claimKey]*claimUsage
	setTemplates []setClaimTemplate
}

// indexUsage records the claims mounted by non-terminated pods and by workload templates,
// including StatefulSet volumeClaimTemplates.
func indexUsage(pods []corev1.Pod, templates []PodTemplateOwner) usageIndex {
	w := indexWorkloads(templates)
	u := usageIndex{claims: map[claimKey]*claimUsage{}}
	for i := range pods {
		pod := &pods[i]
		if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			u.addSpec(pod.Namespace, &pod.Spec, w.podOwner(pod))
		}
	}
	for i := range templates {
		t := &templates[i]
		u.addSpec(t.Namespace, &t.Spec, w.templateOwner(t))
		for _, ct := range t.StatefulSetClaimTemplates {
			u.setTemplates = append(u.setTemplates, setClaimTemplate{t.Namespace, ct.Name + "-" + t.Name + "-", ct.Name})
		}
	}
	return u
}

func (u usageIndex) addSpec(namespace string, spec *corev1.PodSpec, owner migv1.OwnerType) {
	for _, vol := range spec.Volumes {
		if vol.PersistentVolumeClaim == nil || vol.PersistentVolumeClaim.ClaimName == "" {
			continue
		}
		key := claimKey{namespace, vol.PersistentVolumeClaim.ClaimName}
		if u.claims[key] == nil {
			u.claims[key] = &claimUsage{}
		}
		u.claims[key].add(owner)
	}
}

// lookup returns how a claim is used.
func (u usageIndex) lookup(key claimKey) claimUsage {
	var out claimUsage
	if c := u.claims[key]; c != nil {
		out = *c
	}
	for _, t := range u.setTemplates {
		if t.namespace == key.namespace && hasOrdinalSuffix(key.name, t.prefix) {
			out.add(migv1.OwnerTypeStatefulSet)
		}
	}
	return out
}

// setTemplateOf returns the name of the StatefulSet claim template a claim comes from, or "".
func (u usageIndex) setTemplateOf(key claimKey) string {
	for _, t := range u.setTemplates {
		if t.namespace == key.namespace && hasOrdinalSuffix(key.name, t.prefix) {
			return t.template
		}
	}
	return ""
}

// hasOrdinalSuffix reports whether name is prefix followed by a decimal number.
func hasOrdinalSuffix(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && isDigits(rest)
}

func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// workloadKey names a workload of the plan's namespaces.
type workloadKey struct{ kind, namespace, name string }

// workloadIndex is the set of workloads known from the pod templates.
type workloadIndex map[workloadKey]bool

func indexWorkloads(templates []PodTemplateOwner) workloadIndex {
	w := workloadIndex{}
	for _, t := range templates {
		w[workloadKey{t.Kind, t.Namespace, t.Name}] = true
	}
	return w
}

// replicaSetOwner returns Deployment for a ReplicaSet that a Deployment owns, known by the
// name pattern "<deployment>-<pod-template-hash>" or by the Deployment's template.
func (w workloadIndex) replicaSetOwner(namespace, name, hash string) migv1.OwnerType {
	if hash != "" && strings.HasSuffix(name, "-"+hash) {
		return migv1.OwnerTypeDeployment
	}
	if i := strings.LastIndex(name, "-"); i > 0 && w[workloadKey{"Deployment", namespace, name[:i]}] {
		return migv1.OwnerTypeDeployment
	}
	return migv1.OwnerTypeReplicaSet
}

// jobOwner returns CronJob for a Job named "<cronjob>-<number>" whose CronJob is known.
func (w workloadIndex) jobOwner(namespace, name string) migv1.OwnerType {
	if i := strings.LastIndex(name, "-"); i > 0 && isDigits(name[i+1:]) && w[workloadKey{"CronJob", namespace, name[:i]}] {
		return migv1.OwnerTypeCronJob
	}
	return migv1.OwnerTypeJob
}

// templateOwnerTypes maps the kinds of workload templates that need no lookup.
var templateOwnerTypes = map[string]migv1.OwnerType{
	"Deployment":       migv1.OwnerTypeDeployment,
	"StatefulSet":      migv1.OwnerTypeStatefulSet,
	"DaemonSet":        migv1.OwnerTypeDaemonSet,
	"CronJob":          migv1.OwnerTypeCronJob,
	"DeploymentConfig": migv1.OwnerTypeDeploymentConfig,
}

func (w workloadIndex) templateOwner(t *PodTemplateOwner) migv1.OwnerType {
	switch t.Kind {
	case "ReplicaSet":
		return w.replicaSetOwner(t.Namespace, t.Name, "")
	case "Job":
		return w.jobOwner(t.Namespace, t.Name)
	}
	if owner, ok := templateOwnerTypes[t.Kind]; ok {
		return owner
	}
	return migv1.OwnerTypeUnknown
}

// podOwnerTypes maps "<group>/<kind>" of a pod's owner to an owner type, for owners that
// need no lookup.
var podOwnerTypes = map[string]migv1.OwnerType{
	"apps/StatefulSet":                   migv1.OwnerTypeStatefulSet,
	"apps/Deployment":                    migv1.OwnerTypeDeployment,
	"apps/DaemonSet":                     migv1.OwnerTypeDaemonSet,
	"batch/CronJob":                      migv1.OwnerTypeCronJob,
	"kubevirt.io/VirtualMachineInstance": migv1.OwnerTypeVirtualMachine,
	"apps.openshift.io/DeploymentConfig": migv1.OwnerTypeDeploymentConfig,
}

// podOwner returns the kind of workload that owns a pod; Unknown for bare pods, pods with
// several owners and owners of other kinds.
func (w workloadIndex) podOwner(pod *corev1.Pod) migv1.OwnerType {
	ref := metav1.GetControllerOf(pod)
	if ref == nil && len(pod.OwnerReferences) == 1 {
		ref = &pod.OwnerReferences[0]
	}
	if ref == nil {
		return migv1.OwnerTypeUnknown
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return migv1.OwnerTypeUnknown
	}
	switch kind := gv.Group + "/" + ref.Kind; {
	case kind == "apps/ReplicaSet":
		return w.replicaSetOwner(pod.Namespace, ref.Name, pod.Labels[podTemplateHashLabel])
	case kind == "batch/Job":
		return w.jobOwner(pod.Namespace, ref.Name)
	case kind == "/ReplicationController" && pod.Annotations[deploymentConfigPodAnnot] != "":
		return migv1.OwnerTypeDeploymentConfig
	case kind == "/Pod" && strings.HasPrefix(pod.Name, hotplugPodPrefix):
		return migv1.OwnerTypeVirtualMachine
	}
	if owner, ok := podOwnerTypes[gv.Group+"/"+ref.Kind]; ok {
		return owner
	}
	return migv1.OwnerTypeUnknown
}
