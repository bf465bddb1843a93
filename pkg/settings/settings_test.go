package settings

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func intOrString(v intstr.IntOrString) *intstr.IntOrString { return &v }

func TestFromSpecDefaults(t *testing.T) {
	s := FromSpec(nil)
	if s.NamespaceLimit != 10 || s.PodLimit != 100 || s.PVLimit != 100 {
		t.Errorf("limits = %d/%d/%d, want MTC's 10/100/100", s.NamespaceLimit, s.PodLimit, s.PVLimit)
	}
	if s.PVResizingThreshold != 3 || s.RsyncBackoffLimit != 0 || s.RsyncEndpointType != migv1.RsyncEndpointRoute || s.RsyncParallelTransfers != 10 ||
		s.ImageCopyParallelism != 8 {
		t.Errorf("unexpected defaults: %+v", s)
	}
	if s.TransferImage != "quay.io/ferrymtc/ferry-transfer:latest" || s.HookRunnerImage != "quay.io/konveyor/hook-runner:latest" {
		t.Errorf("images = %q / %q", s.TransferImage, s.HookRunnerImage)
	}
	if !s.EnableWarmSync {
		t.Error("warm sync is off by default, want on (enable_warm_sync defaults to true)")
	}
	if !slices.Equal(s.ExcludedResources, DefaultExcludedResources) || s.EnableCachedClient || len(s.Invalid) > 0 {
		t.Errorf("unexpected defaults: %+v", s)
	}
}

func TestFromSpec(t *testing.T) {
	cases := []struct {
		name  string
		spec  migv1.MigrationControllerSpec
		check func(t *testing.T, s Settings)
	}{{
		name: "limits as numbers and as strings",
		spec: migv1.MigrationControllerSpec{
			MigNamespaceLimit:      intOrString(intstr.FromInt32(25)),
			MigPodLimit:            intOrString(intstr.FromString("250")),
			MigPVLimit:             intOrString(intstr.FromInt32(0)),
			RsyncParallelTransfers: intOrString(intstr.FromString("3")),
			ImageCopyParallelism:   intOrString(intstr.FromInt32(2)),
		},
		check: func(t *testing.T, s Settings) {
			if s.NamespaceLimit != 25 || s.PodLimit != 250 || s.PVLimit != DefaultPVLimit || s.RsyncParallelTransfers != 3 || s.ImageCopyParallelism != 2 {
				t.Errorf("limits = %d/%d/%d/%d/%d", s.NamespaceLimit, s.PodLimit, s.PVLimit, s.RsyncParallelTransfers, s.ImageCopyParallelism)
			}
		},
	}, {
		name: "unparsable and negative numbers fall back to defaults and are reported",
		spec: migv1.MigrationControllerSpec{
			MigPodLimit:         intOrString(intstr.FromString("lots")),
			MigPVLimit:          intOrString(intstr.FromInt32(-4)),
			PVResizingThreshold: intOrString(intstr.FromInt32(150)),
		},
		check: func(t *testing.T, s Settings) {
			if s.PodLimit != DefaultPodLimit || s.PVLimit != DefaultPVLimit || s.PVResizingThreshold != DefaultPVResizingThreshold {
				t.Errorf("values = %d/%d/%d, want defaults", s.PodLimit, s.PVLimit, s.PVResizingThreshold)
			}
			if len(s.Invalid) != 3 {
				t.Errorf("Invalid = %q, want three entries", s.Invalid)
			}
		},
	}, {
		name: "excluded resources: explicit list, additions, disabled images and volumes, no duplicates",
		spec: migv1.MigrationControllerSpec{
			ExcludedResources:           []string{"events", "secrets"},
			AdditionalExcludedResources: []string{"resource1", "secrets", ""},
			DisableImageMigration:       true,
			DisablePVMigration:          true,
		},
		check: func(t *testing.T, s Settings) {
			want := []string{"events", "secrets", "resource1", "imagestreams", "imagestreamtags", "persistentvolumes", "persistentvolumeclaims"}
			if !slices.Equal(s.ExcludedResources, want) {
				t.Errorf("ExcludedResources = %q, want %q", s.ExcludedResources, want)
			}
		},
	}, {
		name: "additional exclusions extend the default list",
		spec: migv1.MigrationControllerSpec{AdditionalExcludedResources: []string{"resource1"}},
		check: func(t *testing.T, s Settings) {
			if !slices.Contains(s.ExcludedResources, "subscriptions") || !slices.Contains(s.ExcludedResources, "resource1") {
				t.Errorf("ExcludedResources = %q", s.ExcludedResources)
			}
		},
	}, {
		name: "supplemental groups from the seed's comma-separated strings",
		spec: migv1.MigrationControllerSpec{
			SrcSupplementalGroups:    intOrString(intstr.FromString("1000,2000")),
			TargetSupplementalGroups: intOrString(intstr.FromString("2000, x")),
		},
		check: func(t *testing.T, s Settings) {
			if !slices.Equal(s.SourceSupplementalGroups, []int64{1000, 2000}) || s.TargetSupplementalGroups != nil || len(s.Invalid) != 1 {
				t.Errorf("groups = %v / %v, invalid %q", s.SourceSupplementalGroups, s.TargetSupplementalGroups, s.Invalid)
			}
		},
	}, {
		name: "switches",
		spec: migv1.MigrationControllerSpec{
			MigControllerEnableCache: true, EnableDVMPVResizing: true, EnableIntelligentPVResize: ptr.To(true),
			RsyncEndpointType: migv1.RsyncEndpointNodePort, StunnelTCPProxy: "http://u:p@proxy:3128", VeleroNamespace: "velero",
			RsyncTransferImage: "registry.example.com/mirror/transfer:1.2",
		},
		check: func(t *testing.T, s Settings) {
			if !s.EnableCachedClient || !s.EnableDVMPVResizing || !s.EnableIntelligentPVResize || s.RsyncEndpointType != migv1.RsyncEndpointNodePort ||
				s.StunnelTCPProxy == "" || s.VeleroNamespace != "velero" || s.TransferImage != "registry.example.com/mirror/transfer:1.2" {
				t.Errorf("switches not honoured: %+v", s)
			}
		},
	}, {
		name: "warm sync turned off",
		spec: migv1.MigrationControllerSpec{EnableWarmSync: ptr.To(false)},
		check: func(t *testing.T, s Settings) {
			if s.EnableWarmSync {
				t.Error("enable_warm_sync: false left warm sync on")
			}
			if !strings.Contains(s.Summary(), "warm sync off") {
				t.Errorf("Summary() = %q, want it to say warm sync is off", s.Summary())
			}
		},
	}, {
		name: "warm sync asked for explicitly",
		spec: migv1.MigrationControllerSpec{EnableWarmSync: ptr.To(true)},
		check: func(t *testing.T, s Settings) {
			if !s.EnableWarmSync || !strings.Contains(s.Summary(), "warm sync on") {
				t.Errorf("enable_warm_sync: true not honoured: %v, %q", s.EnableWarmSync, s.Summary())
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, FromSpec(&tc.spec)) })
	}
}
