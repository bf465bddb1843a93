package migplan

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestExistingDestinationPVCs(t *testing.T) {
	plan := func(mutate func(*migv1.MigPlan)) *migv1.MigPlan {
		p := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "plan-1"},
			Spec: migv1.MigPlanSpec{Namespaces: []string{"shop:shop-new", "db"}}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	pv := func(ns, name, action, method string) migv1.PV {
		return migv1.PV{PVC: migv1.PVC{Namespace: ns, Name: name}, Selection: migv1.Selection{Action: action, CopyMethod: method}}
	}
	pvc := func(ns, name string, labels map[string]string) corev1.PersistentVolumeClaim {
		return corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
	}
	copied := []migv1.PV{
		pv("shop", "data", migv1.PvCopyAction, migv1.PvFilesystemCopyMethod),
		pv("db", "pg:pg-renamed", migv1.PvCopyAction, migv1.PvBlockCopyMethod),
	}
	for _, tc := range []struct {
		name     string
		plan     *migv1.MigPlan
		pvs      []migv1.PV
		existing []corev1.PersistentVolumeClaim
		want     string // "" for no warning, else substrings joined by |
	}{
		{"nothing exists", plan(nil), copied, nil, ""},
		{"a PVC in the source namespace name, not the mapped one", plan(nil), copied, []corev1.PersistentVolumeClaim{pvc("shop", "data", nil)}, ""},
		{"an unrelated PVC of the mapped name", plan(nil), copied, []corev1.PersistentVolumeClaim{pvc("shop-new", "data", map[string]string{"app": "x"})},
			"shop-new/data|" + migv1.ReuseExistingDestinationPVCsAnnotation + "|refuses"},
		{"a renamed PVC's target", plan(nil), copied, []corev1.PersistentVolumeClaim{pvc("db", "pg-renamed", nil)}, "db/pg-renamed"},
		{"created by an earlier migration of the plan", plan(nil), copied,
			[]corev1.PersistentVolumeClaim{pvc("shop-new", "data", map[string]string{migratedByPlanLabel: "plan-1"})}, ""},
		{"created by another plan", plan(nil), copied,
			[]corev1.PersistentVolumeClaim{pvc("shop-new", "data", map[string]string{migratedByPlanLabel: "plan-2"})}, "shop-new/data"},
		{"moved or skipped PVs are not copied by rsync", plan(nil),
			[]migv1.PV{pv("shop", "data", migv1.PvMoveAction, ""), pv("db", "pg", migv1.PvSkipAction, "")},
			[]corev1.PersistentVolumeClaim{pvc("shop-new", "data", nil), pvc("db", "pg", nil)}, ""},
		{"indirect volume migration", plan(func(p *migv1.MigPlan) { p.Spec.IndirectVolumeMigration = true }), copied,
			[]corev1.PersistentVolumeClaim{pvc("shop-new", "data", nil)}, ""},
		{"opted in: still a warning, saying what will happen", plan(func(p *migv1.MigPlan) {
			p.Annotations = map[string]string{migv1.ReuseExistingDestinationPVCsAnnotation: "true"}
		}), copied, []corev1.PersistentVolumeClaim{pvc("shop-new", "data", nil)}, "shop-new/data|overwritten"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := existingDestinationPVCs(tc.plan, tc.pvs, tc.existing)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("got %v, want no condition", got)
				}
				return
			}
			if len(got) != 1 || got[0].Type != migv1.DestinationPVCsExist || got[0].Category != migv1.CategoryWarn {
				t.Fatalf("got %v, want one Warn %s", got, migv1.DestinationPVCsExist)
			}
			for _, part := range strings.Split(tc.want, "|") {
				if !strings.Contains(got[0].Message, part) {
					t.Errorf("message %q lacks %q", got[0].Message, part)
				}
			}
		})
	}
}
