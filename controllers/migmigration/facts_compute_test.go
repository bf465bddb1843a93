package migmigration

import (
	"testing"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// TestImagesFollowThePlanType: MTC copies no images for plans identified as state migrations
// or storage conversions. The plan type is the reason of MigrationTypeIdentified, not a
// condition type of its own (conformance review: the check used to look for condition types
// that never exist, so it could never hold).
func TestImagesFollowThePlanType(t *testing.T) {
	cases := []struct {
		planType string
		images   bool
	}{
		{migv1.NamespaceMigrationPlan, true},
		{migv1.StateMigrationPlan, false},
		{migv1.StorageConversionPlan, false},
		{"", true},
	}
	for _, c := range cases {
		t.Run(c.planType, func(t *testing.T) {
			plan := readyPlan()
			if c.planType != "" {
				plan.Status.Conditions = append(plan.Status.Conditions, migv1.Condition{
					Type: migv1.MigrationTypeIdentified, Status: "True", Category: migv1.CategoryAdvisory, Reason: c.planType,
				})
			}
			m := mig("m", 0, migv1.MigMigrationSpec{})
			f := computeFacts(factsInput{migration: &m, plan: plan, settings: settings.Defaults(), hasImageStreams: true})
			if f.EnableImage != c.images {
				t.Errorf("plan type %q: EnableImage = %v, want %v", c.planType, f.EnableImage, c.images)
			}
		})
	}
}
