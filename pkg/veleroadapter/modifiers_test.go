package veleroadapter

import (
	"encoding/json"
	"testing"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func TestNewRestoreModifiers(t *testing.T) {
	restore := &velerov1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "m-stage-restore", Labels: map[string]string{"a": "b"}}}
	cm, err := NewRestoreModifiers(restore, []ClaimTarget{
		{Namespace: "shop", Name: "data.v1", StorageClass: "fast"},
		{Namespace: "shop", Name: "keep"},
		{Namespace: "app", Name: "logs", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "m-stage-restore-modifiers" || cm.Namespace != "velero" || cm.Labels["a"] != "b" || len(cm.Data) != 1 {
		t.Fatalf("ConfigMap %+v: Velero reads the only key of a ConfigMap in the Restore's namespace", cm.ObjectMeta)
	}
	// Velero parses the rules with sigs.k8s.io/yaml.
	var doc struct {
		Version string `json:"version"`
		Rules   []struct {
			Conditions struct {
				GroupResource, ResourceNameRegex string
				Namespaces                       []string
			} `json:"conditions"`
			MergePatches []struct {
				PatchData string `json:"patchData"`
			} `json:"mergePatches"`
		} `json:"resourceModifierRules"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data[modifiersKey]), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "v1" || len(doc.Rules) != 2 {
		t.Fatalf("rules %+v: one per claim that changes, a claim without a target has none", doc)
	}
	first, second := doc.Rules[0], doc.Rules[1]
	if first.Conditions.Namespaces[0] != "app" || first.Conditions.ResourceNameRegex != "^logs$" ||
		first.MergePatches[0].PatchData != `{"spec":{"accessModes":["ReadWriteMany"]}}` {
		t.Errorf("first rule %+v", first)
	}
	if second.Conditions.GroupResource != "persistentvolumeclaims" || second.Conditions.ResourceNameRegex != `^data\.v1$` {
		t.Errorf("second rule's conditions %+v", second.Conditions)
	}
	var patch map[string]map[string]any
	if err := json.Unmarshal([]byte(second.MergePatches[0].PatchData), &patch); err != nil || patch["spec"]["storageClassName"] != "fast" {
		t.Errorf("second rule's patch %q (%v)", second.MergePatches[0].PatchData, err)
	}
	UseModifiers(restore, cm)
	if ref := restore.Spec.ResourceModifier; ref == nil || ref.Kind != "ConfigMap" || ref.Name != cm.Name {
		t.Errorf("restore's modifier reference %+v", ref)
	}
	if none, err := NewRestoreModifiers(restore, []ClaimTarget{{Namespace: "shop", Name: "keep"}}); none != nil || err != nil {
		t.Errorf("no change gave %v, %v; want no ConfigMap", none, err)
	}
}
