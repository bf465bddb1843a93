package migplan

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

func TestValidatePrivileges(t *testing.T) {
	cluster := func(name string, warnings ...string) *migv1.MigCluster {
		c := &migv1.MigCluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for _, w := range warnings {
			c.Status.Conditions = append(c.Status.Conditions, conditions.Warn(w, "Forbidden", "it lacks create restores.velero.io"))
		}
		return c
	}
	for _, tc := range []struct {
		name      string
		src, dest *migv1.MigCluster
		want      []string
	}{
		{"both sides allowed", cluster("a"), cluster("b"), nil},
		{"a source-only token as source", cluster("a", migv1.NotPrivilegedAsDestination), cluster("b"), nil},
		{"a source-only token as destination", cluster("a"), cluster("b", migv1.NotPrivilegedAsDestination), []string{migv1.DestinationClusterNotPrivileged}},
		{"a destination-only token as source", cluster("a", migv1.NotPrivilegedAsSource), cluster("b"), []string{migv1.SourceClusterNotPrivileged}},
		{"clusters not found", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := validatePrivileges(tc.src, tc.dest)
			var types []string
			for _, c := range got {
				types = append(types, c.Type)
				if c.Category != migv1.CategoryCritical || !strings.Contains(c.Message, "create restores.velero.io") {
					t.Errorf("condition %+v: want Critical naming the missing permission", c)
				}
			}
			if strings.Join(types, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want %v", types, tc.want)
			}
		})
	}
}
