package veleroadapter

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClaimTarget is what a claim copied through the replication repository becomes on the
// destination: the plan's storage class and access mode selection. MTC's Velero plugin read
// them from annotations on the backed-up claim; with stock Velero the Restore applies them as
// resource modifiers (Velero's own mechanism, applied after every restore item action).
type ClaimTarget struct {
	// Namespace and Name are the claim's in the backup: Velero matches modifiers before it
	// maps namespaces.
	Namespace, Name string
	// StorageClass is the class of the restored claim; empty keeps the source's.
	StorageClass string
	// AccessModes replace the claim's when set.
	AccessModes []corev1.PersistentVolumeAccessMode
}

// modifiersKey holds the rules in the ConfigMap: Velero reads the ConfigMap's only key.
const modifiersKey = "resource-modifiers.yaml"

// The resource modifiers document, in Velero's format (internal/resourcemodifiers, which
// cannot be imported; Velero parses it with sigs.k8s.io/yaml, so JSON is read as is).
type modifierRules struct {
	Version string         `json:"version"`
	Rules   []modifierRule `json:"resourceModifierRules"`
}

type modifierRule struct {
	Conditions   modifierConditions `json:"conditions"`
	MergePatches []mergePatch       `json:"mergePatches"`
}

type modifierConditions struct {
	GroupResource     string   `json:"groupResource"`
	ResourceNameRegex string   `json:"resourceNameRegex"`
	Namespaces        []string `json:"namespaces"`
}

type mergePatch struct {
	PatchData string `json:"patchData"`
}

// ModifiersName is the name of the resource modifiers ConfigMap of a Restore.
func ModifiersName(restoreName string) string { return restoreName + "-modifiers" }

// NewRestoreModifiers returns the ConfigMap of resource modifiers that gives the restored
// claims their targets, in the Restore's namespace with its labels; nil when no claim
// changes.
func NewRestoreModifiers(restore *velerov1.Restore, claims []ClaimTarget) (*corev1.ConfigMap, error) {
	doc := modifierRules{Version: "v1"}
	for _, c := range claims {
		spec := map[string]any{}
		if c.StorageClass != "" {
			spec["storageClassName"] = c.StorageClass
		}
		if len(c.AccessModes) > 0 {
			spec["accessModes"] = c.AccessModes
		}
		if len(spec) == 0 {
			continue
		}
		patch, err := json.Marshal(map[string]any{"spec": spec})
		if err != nil {
			return nil, fmt.Errorf("resource modifier of claim %s/%s: %w", c.Namespace, c.Name, err)
		}
		doc.Rules = append(doc.Rules, modifierRule{
			Conditions: modifierConditions{
				GroupResource:     "persistentvolumeclaims",
				ResourceNameRegex: "^" + regexp.QuoteMeta(c.Name) + "$",
				Namespaces:        []string{c.Namespace},
			},
			MergePatches: []mergePatch{{PatchData: string(patch)}},
		})
	}
	if len(doc.Rules) == 0 {
		return nil, nil
	}
	slices.SortFunc(doc.Rules, func(a, b modifierRule) int {
		return strings.Compare(a.Conditions.Namespaces[0]+"/"+a.Conditions.ResourceNameRegex, b.Conditions.Namespaces[0]+"/"+b.Conditions.ResourceNameRegex)
	})
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("resource modifiers of Restore %s: %w", restore.Name, err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: restore.Namespace, Name: ModifiersName(restore.Name), Labels: restore.Labels},
		Data:       map[string]string{modifiersKey: string(data)},
	}, nil
}

// UseModifiers makes the Restore apply the resource modifiers of NewRestoreModifiers.
func UseModifiers(restore *velerov1.Restore, cm *corev1.ConfigMap) {
	restore.Spec.ResourceModifier = &corev1.TypedLocalObjectReference{Kind: "ConfigMap", Name: cm.Name}
}
