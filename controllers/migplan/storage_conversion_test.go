package migplan

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

func TestConversionName(t *testing.T) {
	long := strings.Repeat("x", 250)
	tests := []struct{ name, template, want string }{
		{"data", "", "data-mig-abcd"},
		{"data-new", "", "data-mig-abcd"},
		{"data-mig-wxyz", "", "data-mig-abcd"},
		{"data-mig-toolong", "", "data-mig-toolong-mig-abcd"},
		{"data-web-0", "data", "data-mig-abcd-web-0"},
		{"data-mig-wxyz-web-12", "data-mig-wxyz", "data-mig-abcd-web-12"},
		{long, "", long[:244] + "-mig-abcd"},
	}
	for _, tt := range tests {
		if got := conversionName(tt.name, tt.template, "abcd"); got != tt.want {
			t.Errorf("conversionName(%q, %q) = %q, want %q", tt.name, tt.template, got, tt.want)
		}
		if got := conversionName(tt.name, tt.template, "abcd"); len(got) > maxClaimName {
			t.Errorf("conversionName(%q) is %d characters long", tt.name, len(got))
		}
	}
}

func TestDiscoverStorageConversion(t *testing.T) {
	pvs := []corev1.PersistentVolume{
		newPV("pv-a", "app", "a"), newPV("pv-b", "app", "b"), newPV("pv-set", "app", "data-db-0"),
		newPV("pv-copy", "app", "c-copy"), newPV("pv-other", "app", "d"),
	}
	copied := newPVC("app", "c-copy", "pv-copy")
	copied.Labels = map[string]string{migratedByPlanLabel: "plan-uid"}
	other := newPVC("app", "d", "pv-other")
	other.Labels = map[string]string{migv1.SourceForDirectVolumeMigrationLabel: "another-plan"}
	pvcs := []corev1.PersistentVolumeClaim{newPVC("app", "a", "pv-a"), newPVC("app", "b", "pv-b"), newPVC("app", "data-db-0", "pv-set"), copied, other}
	plan := discoveryPlan([]string{"app"}, migv1.PV{Name: "pv-b", PVC: migv1.PVC{Namespace: "app", Name: "b:b-fast"}})
	plan.UID = "plan-uid"
	plan.Status.Suffix = pointerTo("abcd")
	in := newInput(plan, pvs, pvcs)
	in.StorageConversion = true
	in.Templates = []PodTemplateOwner{{Kind: "StatefulSet", Namespace: "app", Name: "db",
		StatefulSetClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}}}
	got := map[string]string{}
	for _, pv := range DiscoverPVs(in).PersistentVolumes {
		got[pv.Name] = pv.PVC.Name
	}
	want := map[string]string{"pv-a": "a:a-mig-abcd", "pv-b": "b:b-fast", "pv-set": "data-db-0:data-mig-abcd-db-0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("claims %v, want %v (the plan's copies and another conversion's sources left out)", got, want)
	}
}

func TestValidateStorageConversion(t *testing.T) {
	pv := func(claim, action string) migv1.PV {
		return migv1.PV{Name: "pv-" + claim, PVC: migv1.PVC{Namespace: "app", Name: claim}, Selection: migv1.Selection{Action: action}}
	}
	two := []migv1.StorageClass{{Name: "standard"}, {Name: "fast"}}
	tests := []struct {
		name    string
		pvs     []migv1.PV
		classes []migv1.StorageClass
		want    []string
	}{
		{"renamed and two classes", []migv1.PV{pv("a:a-mig-abcd", migv1.PvCopyAction)}, two, nil},
		{"a claim kept its name", []migv1.PV{pv("a", migv1.PvCopyAction), pv("b", migv1.PvSkipAction)}, two, []string{migv1.PvNameConflict}},
		{"nothing selected", []migv1.PV{pv("a", migv1.PvSkipAction)}, two, []string{migv1.StorageClassConversionUnavailable}},
		{"one class", []migv1.PV{pv("a:b", migv1.PvCopyAction)}, two[:1], []string{migv1.StorageClassConversionUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range validateStorageConversion(tt.pvs, tt.classes) {
				got = append(got, c.Type)
				if c.Type == migv1.StorageClassConversionUnavailable && !conditions.IsBlocker(c) {
					t.Errorf("%s does not block the plan", c.Type)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("conditions %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateClaimSwaps(t *testing.T) {
	set := func(name string, templates ...string) PodTemplateOwner {
		t := PodTemplateOwner{Kind: "StatefulSet", Namespace: "app", Name: name}
		for _, n := range templates {
			t.StatefulSetClaimTemplates = append(t.StatefulSetClaimTemplates, corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: n}})
		}
		return t
	}
	pv := func(claim, action string) migv1.PV {
		return migv1.PV{Name: "pv-" + claim, PVC: migv1.PVC{Namespace: "app", Name: claim}, Selection: migv1.Selection{Action: action}}
	}
	claims := func(names ...string) []corev1.PersistentVolumeClaim {
		var out []corev1.PersistentVolumeClaim
		for _, n := range names {
			out = append(out, newPVC("app", n, "pv-"+n))
		}
		return out
	}
	long := strings.Repeat("s", 53)
	tests := []struct {
		name      string
		pvs       []migv1.PV
		pvcs      []corev1.PersistentVolumeClaim
		templates []PodTemplateOwner
		want      string // in the message; "" for no condition
	}{
		{"every claim of the template selected",
			[]migv1.PV{pv("data-db-0:data-mig-abcd-db-0", migv1.PvCopyAction), pv("data-db-1:data-mig-abcd-db-1", migv1.PvCopyAction)},
			claims("data-db-0", "data-db-1"), []PodTemplateOwner{set("db", "data")}, ""},
		{"no claim of the template selected",
			[]migv1.PV{pv("data-db-0:data-mig-abcd-db-0", migv1.PvSkipAction), pv("logs:logs-mig-abcd", migv1.PvCopyAction)},
			claims("data-db-0", "logs"), []PodTemplateOwner{set("db", "data")}, ""},
		{"one replica's claim left out",
			[]migv1.PV{pv("data-db-0:data-mig-abcd-db-0", migv1.PvCopyAction), pv("data-db-1:data-mig-abcd-db-1", migv1.PvSkipAction)},
			claims("data-db-0", "data-db-1"), []PodTemplateOwner{set("db", "data")}, "claims data-db-1 of template data are not converted with the others"},
		{"a copy that names no template of the set",
			[]migv1.PV{pv("data-db-0:fast-data", migv1.PvCopyAction)},
			claims("data-db-0"), []PodTemplateOwner{set("db", "data")}, "claim data-db-0 is renamed fast-data, which does not name a claim template"},
		{"a set whose name is too long to recreate",
			[]migv1.PV{pv("data-"+long+"-0:data-mig-abcd-"+long+"-0", migv1.PvCopyAction)},
			claims("data-" + long + "-0"), []PodTemplateOwner{set(long, "data")}, "its name is longer than 52 characters"},
		{"after the conversion: the set mounts the copies, which the plan leaves out",
			[]migv1.PV{pv("data-db-0:data-mig-abcd-db-0", migv1.PvCopyAction)},
			claims("data-db-0", "data-mig-abcd-db-0"), []PodTemplateOwner{set("db", "data-mig-abcd")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validateClaimSwaps(tt.pvs, tt.pvcs, tt.templates)
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("conditions %v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Type != migv1.WorkloadsCannotSwapPVCs || !conditions.IsBlocker(got[0]) {
				t.Fatalf("conditions %v, want one blocking %s", got, migv1.WorkloadsCannotSwapPVCs)
			}
			if !strings.Contains(got[0].Message, tt.want) {
				t.Errorf("message %q lacks %q", got[0].Message, tt.want)
			}
		})
	}
}
