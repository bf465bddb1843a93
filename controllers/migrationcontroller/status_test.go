package migrationcontroller

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

func TestConditionsFor(t *testing.T) {
	mc := func(name string, spec migv1.MigrationControllerSpec) *migv1.MigrationController {
		return &migv1.MigrationController{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	}
	type want struct {
		running              migv1.Condition
		invalid, unsupported []string // substrings of the messages; nil: no condition
		velero               *migv1.Condition
	}
	cases := map[string]struct {
		mc, inForce *migv1.MigrationController
		velero      veleroState
		want        want
	}{
		"defaults": {
			mc:   mc("migration-controller", migv1.MigrationControllerSpec{}),
			want: want{running: migv1.Condition{Status: migv1.True, Reason: migv1.Successful}},
		},
		"invalid values are named, with the default that applies": {
			mc: mc("migration-controller", migv1.MigrationControllerSpec{
				RsyncOptBwlimit: ptr.To(intstr.FromString("fast")), PVResizingThreshold: ptr.To(intstr.FromInt32(150)),
				SrcSupplementalGroups: ptr.To(intstr.FromString("1000,abc"))}),
			want: want{running: migv1.Condition{Status: migv1.True, Reason: migv1.Successful},
				invalid: []string{`rsync_opt_bwlimit: "fast" is not a number`, "pv_resizing_threshold", `"abc" is not a group ID`}},
		},
		"settings Ferry does not act on are named, with why": {
			mc: mc("migration-controller", migv1.MigrationControllerSpec{
				StunnelVerifyCA: ptr.To(false), MigrationRsyncPrivileged: ptr.To(true), JaegerEnabled: true,
				MigControllerLimitsMemory: ptr.To(intstr.FromString("10Gi")),
				MigrationController:       ptr.To(false), RsyncOptInfo: "progress2"}),
			want: want{running: migv1.Condition{Status: migv1.True, Reason: migv1.Successful},
				unsupported: []string{"stunnel_verify_ca: ", "migration_rsync_privileged: ", "jaeger_enabled: ",
					"mig_controller_limits_memory: ", "rsync_opt_info: "}},
		},
		"what Ferry does anyway is not listed": {
			mc: mc("migration-controller", migv1.MigrationControllerSpec{
				StunnelVerifyCA: ptr.To(true), StunnelVerifyCALevel: ptr.To(intstr.FromString("2")),
				MigrationRsyncPrivileged: ptr.To(false), MigrationController: ptr.To(true), MigrationVelero: ptr.To(false),
				HTTPProxy: "http://proxy:3128", HTTPSProxy: "http://proxy:3128", NoProxy: ".cluster.local"}),
			want: want{running: migv1.Condition{Status: migv1.True, Reason: migv1.Successful}},
		},
		"migration_velero: Velero deployed": {
			mc:     mc("migration-controller", migv1.MigrationControllerSpec{MigrationVelero: ptr.To(true)}),
			velero: veleroState{wanted: true, reason: migv1.Deployed, message: "Velero runs"},
			want: want{running: migv1.Condition{Status: migv1.True, Reason: migv1.Successful},
				velero: &migv1.Condition{Type: migv1.VeleroReady, Category: migv1.CategoryAdvisory, Reason: migv1.Deployed, Message: "Velero runs"}},
		},
		"migration_velero: Velero not installable": {
			mc:     mc("migration-controller", migv1.MigrationControllerSpec{MigrationVelero: ptr.To(true)}),
			velero: veleroState{wanted: true, reason: migv1.NotInstallable, message: "apply config/velero"},
			want: want{running: migv1.Condition{Status: migv1.True, Reason: migv1.Successful},
				velero: &migv1.Condition{Type: migv1.VeleroNotReady, Category: migv1.CategoryWarn, Reason: migv1.NotInstallable, Message: "apply config/velero"}},
		},
		"another MigrationController is in force": {
			mc:      mc("another", migv1.MigrationControllerSpec{JaegerEnabled: true}),
			inForce: mc("migration-controller", migv1.MigrationControllerSpec{}),
			want:    want{running: migv1.Condition{Status: migv1.False, Reason: migv1.NotInForce, Message: "MigrationController migration-controller apply"}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			inForce := c.inForce
			if inForce == nil {
				inForce = c.mc
			}
			got := conditionsFor(c.mc, inForce, c.velero)
			running := conditions.Find(got, migv1.Running)
			if running == nil || running.Status != c.want.running.Status || running.Reason != c.want.running.Reason ||
				!strings.Contains(running.Message, c.want.running.Message) {
				t.Errorf("Running: %+v, want %+v", running, c.want.running)
			}
			check := func(conditionType string, wanted []string) {
				found := conditions.Find(got, conditionType)
				switch {
				case wanted == nil && found != nil:
					t.Errorf("unexpected %s: %s", conditionType, found.Message)
				case wanted != nil && found == nil:
					t.Errorf("no %s condition", conditionType)
				case found != nil:
					if found.Category != migv1.CategoryWarn {
						t.Errorf("%s category %s", conditionType, found.Category)
					}
					for _, w := range wanted {
						if !strings.Contains(found.Message, w) {
							t.Errorf("%s does not name %q: %s", conditionType, w, found.Message)
						}
					}
				}
			}
			check(migv1.InvalidSettings, c.want.invalid)
			check(migv1.UnsupportedSettings, c.want.unsupported)
			for _, t2 := range []string{migv1.VeleroReady, migv1.VeleroNotReady} {
				found := conditions.Find(got, t2)
				switch w := c.want.velero; {
				case w == nil || w.Type != t2:
					if found != nil {
						t.Errorf("unexpected %s: %+v", t2, found)
					}
				case found == nil || found.Category != w.Category || found.Reason != w.Reason || found.Message != w.Message:
					t.Errorf("%s: %+v, want %+v", t2, found, w)
				}
			}
		})
	}
}
