package stagepod

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/ferrymtc/ferry/pkg/veleroadapter"
)

// MTC's labels and annotations of stage pods.
const (
	// StagePodLabel marks stage pods (value "true"); cleanup finds them by it.
	StagePodLabel = "migration.openshift.io/is-stage-pod"
	// MigrationLabel holds the UID of the migration that created the pod (MTC's correlation
	// label of a MigMigration).
	MigrationLabel = veleroadapter.MigMigrationCorrelationLabel
	// IncludedInStageBackupLabel selects objects into the stage Backup (value: migration UID).
	IncludedInStageBackupLabel = veleroadapter.IncludedInStageBackupLabel
	// BackupVolumesAnnotation lists the volumes Velero's node-agent backs up from a pod.
	BackupVolumesAnnotation = "backup.velero.io/backup-volumes"
	// ClaimAnnotation records the claim a stage pod holds (Ferry's).
	ClaimAnnotation = "migration.openshift.io/stage-pod-claim"
	// VolumeName is the stage pod's volume and MountPath where it is mounted (MTC's).
	VolumeName = "stage"
	MountPath  = "/var/data"
)

// Source is what a stage pod copies from the pod or template that mounts its claim.
type Source struct {
	// NodeName pins the stage pod next to a running pod of the claim; "" lets the scheduler
	// place it.
	NodeName        string
	SecurityContext *corev1.PodSecurityContext
	ServiceAccount  string
}

// Spec is one stage pod to create.
type Spec struct {
	MigrationUID string
	Namespace    string
	Claim        string
	Image        string
	Source       Source
}

// Name is the deterministic name of the stage pod of a claim in one migration:
// "stage-<claim, truncated>-<10 hex digits of SHA-256(migration UID/namespace/claim)>".
func Name(migrationUID, namespace, claim string) string {
	sum := sha256.Sum256([]byte(migrationUID + "/" + namespace + "/" + claim))
	suffix := "-" + hex.EncodeToString(sum[:])[:10]
	prefix := "stage-" + claim
	if limit := validation.DNS1123LabelMaxLength - len(suffix); len(prefix) > limit {
		prefix = strings.TrimRight(prefix[:limit], "-.")
	}
	return prefix + suffix
}

// New returns the stage pod of spec.
func New(spec Spec) *corev1.Pod {
	size := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      Name(spec.MigrationUID, spec.Namespace, spec.Claim),
			Namespace: spec.Namespace,
			Labels: map[string]string{
				StagePodLabel:              "true",
				MigrationLabel:             spec.MigrationUID,
				IncludedInStageBackupLabel: spec.MigrationUID,
			},
			Annotations: map[string]string{
				BackupVolumesAnnotation: VolumeName,
				ClaimAnnotation:         spec.Claim,
			},
		},
		Spec: corev1.PodSpec{
			NodeName:           spec.Source.NodeName,
			ServiceAccountName: spec.Source.ServiceAccount,
			SecurityContext:    spec.Source.SecurityContext.DeepCopy(),
			RestartPolicy:      corev1.RestartPolicyAlways,
			// A sleeper ends at once when deleted.
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{
				Name:         "sleep-0",
				Image:        spec.Image,
				Command:      []string{"sleep", "infinity"},
				Resources:    corev1.ResourceRequirements{Requests: size, Limits: size},
				VolumeMounts: []corev1.VolumeMount{{Name: VolumeName, MountPath: MountPath}},
			}},
			Volumes: []corev1.Volume{{Name: VolumeName, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: spec.Claim}}}},
		},
	}
	return pod
}

// Claims returns the claims pod mounts, by name.
func Claims(spec *corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return out
}

// FromPod is the Source a running pod gives its claims.
func FromPod(pod *corev1.Pod) Source {
	return Source{NodeName: pod.Spec.NodeName, SecurityContext: pod.Spec.SecurityContext, ServiceAccount: pod.Spec.ServiceAccountName}
}

// FromTemplate is the Source a workload's pod template gives its claims.
func FromTemplate(spec *corev1.PodSpec) Source {
	return Source{SecurityContext: spec.SecurityContext, ServiceAccount: spec.ServiceAccountName}
}

// Running reports whether pod runs and is not being deleted: only such a pod's node is
// where its claim's volume is.
func Running(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning
}
