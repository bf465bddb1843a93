package veleroadapter

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestName(t *testing.T) {
	const uid = "6f1f2c1e-4a7b-4c55-9b3e-0a1b2c3d4e5f"
	long := strings.Repeat("a", 120) + ".b." + strings.Repeat("c", 120)
	tests := []struct {
		name       string
		migration  string
		role       Role
		wantPrefix string
	}{
		{"short name", "mig-1", InitialBackup, "mig-1-initial-"},
		{"stage restore", "mig-1", StageRestore, "mig-1-stage-restore-"},
		{"dots become dashes", "app.v2", FinalRestore, "app-v2-final-"},
		{"long name truncated", long, StageRestore, strings.Repeat("a", 38) + "-stage-restore-"},
		{"truncation drops trailing dashes", strings.Repeat("a", 44) + "-----x", StageBackup, strings.Repeat("a", 44) + "-stage-"},
		{"empty name", "", InitialBackup, "initial-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Migration{Name: tt.migration, UID: uid}
			got := Name(m, tt.role)
			if len(got) > validation.DNS1123LabelMaxLength {
				t.Errorf("Name = %q: %d characters, more than 63", got, len(got))
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("Name = %q is no DNS-1123 label: %v", got, errs)
			}
			if !strings.HasPrefix(got, tt.wantPrefix) || len(got) != len(tt.wantPrefix)+hashLen {
				t.Errorf("Name = %q, want %q followed by %d hex digits", got, tt.wantPrefix, hashLen)
			}
			if again := Name(m, tt.role); again != got {
				t.Errorf("Name is not deterministic: %q then %q", got, again)
			}
		})
	}
}

func TestNameDistinguishesMigrationsAndRoles(t *testing.T) {
	a := Migration{Name: "mig", UID: "uid-a"}
	b := Migration{Name: "mig", UID: "uid-b"}
	seen := map[string]string{}
	for _, m := range []Migration{a, b} {
		for _, r := range []Role{InitialBackup, StageBackup, StageRestore, FinalRestore} {
			n := Name(m, r)
			if prev, ok := seen[n]; ok {
				t.Errorf("Name(%s, %s) = %q, same as %s", m.UID, r, n, prev)
			}
			seen[n] = m.UID + "/" + string(r)
		}
	}
}

func TestMigrationLabelsAreValidForLongNames(t *testing.T) {
	m := Migration{Name: strings.Repeat("m", 200), UID: "uid", PlanName: strings.Repeat("p.", 100) + "p", PlanUID: "puid"}
	for k, v := range migrationLabels(m, FinalRestore) {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("label %s=%q: %v", k, v, errs)
		}
	}
}

func TestSelectors(t *testing.T) {
	if got, want := PlanSelector("p1"), (client.MatchingLabels{
		"app.kubernetes.io/part-of": "openshift-migration", "migration.openshift.io/migrated-by-migplan": "p1",
	}); !equalMaps(got, want) {
		t.Errorf("PlanSelector = %v, want %v", got, want)
	}
	if got, want := MigrationSelector("m1"), (client.MatchingLabels{
		"app.kubernetes.io/part-of": "openshift-migration", "migmigration": "m1",
	}); !equalMaps(got, want) {
		t.Errorf("MigrationSelector = %v, want %v", got, want)
	}
	// Every object built for a migration matches both selectors.
	m := Migration{Name: "mig", UID: "m1", PlanName: "plan", PlanUID: "p1"}
	for _, obj := range []client.Object{
		NewInitialBackup(m, BackupOptions{}), NewStageBackup(m, BackupOptions{}),
		NewStageRestore(m, RestoreOptions{}), NewFinalRestore(m, RestoreOptions{}),
	} {
		for _, sel := range []client.MatchingLabels{PlanSelector("p1"), MigrationSelector("m1")} {
			for k, v := range sel {
				if obj.GetLabels()[k] != v {
					t.Errorf("%T %s lacks selector label %s=%s", obj, obj.GetName(), k, v)
				}
			}
		}
	}
}

func equalMaps[M ~map[string]string](a, b M) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
