package settings

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestNoProgressLimits(t *testing.T) {
	cases := []struct {
		name          string
		warn, timeout *intstr.IntOrString
		want          [2]time.Duration
		wantInvalid   int
	}{
		{"defaults", nil, nil, [2]time.Duration{10 * time.Minute, time.Hour}, 0},
		{"minutes as numbers and strings", intOrString(intstr.FromInt32(5)), intOrString(intstr.FromString("30")),
			[2]time.Duration{5 * time.Minute, 30 * time.Minute}, 0},
		{"durations with units", intOrString(intstr.FromString("90s")), intOrString(intstr.FromString(" 2h ")),
			[2]time.Duration{90 * time.Second, 2 * time.Hour}, 0},
		{"zero means the default", intOrString(intstr.FromInt32(0)), intOrString(intstr.FromString("0s")),
			[2]time.Duration{10 * time.Minute, time.Hour}, 0},
		{"garbage and negatives fall back and are reported", intOrString(intstr.FromString("soon")), intOrString(intstr.FromString("-5m")),
			[2]time.Duration{10 * time.Minute, time.Hour}, 2},
		{"negative minutes", intOrString(intstr.FromInt32(-3)), nil, [2]time.Duration{10 * time.Minute, time.Hour}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := FromSpec(&migv1.MigrationControllerSpec{MigrationNoProgressWarningMinutes: tc.warn, MigrationNoProgressTimeoutMinutes: tc.timeout})
			if got := [2]time.Duration{s.NoProgressWarning, s.NoProgressTimeout}; got != tc.want {
				t.Errorf("limits = %v, want %v", got, tc.want)
			}
			if len(s.Invalid) != tc.wantInvalid {
				t.Errorf("invalid = %q, want %d entries", s.Invalid, tc.wantInvalid)
			}
		})
	}
}

func TestTransferPodResources(t *testing.T) {
	quantities := func(r corev1.ResourceRequirements) [4]string {
		return [4]string{r.Requests.Cpu().String(), r.Requests.Memory().String(), r.Limits.Cpu().String(), r.Limits.Memory().String()}
	}
	defaults := FromSpec(nil)
	for name, r := range map[string]corev1.ResourceRequirements{"transfer": defaults.TransferPodResources, "client": defaults.ClientPodResources} {
		if got, want := quantities(r), [4]string{"100m", "1Gi", "1", "1Gi"}; got != want {
			t.Errorf("default %s pod resources = %v, want the MTC operator's %v", name, got, want)
		}
	}
	s := FromSpec(&migv1.MigrationControllerSpec{
		TransferPodCPULimit: intOrString(intstr.FromInt32(2)), TransferPodMemoryRequest: intOrString(intstr.FromString("2Gi")),
		ClientPodCPURequest: intOrString(intstr.FromString("250m")), ClientPodMemoryLimit: intOrString(intstr.FromString("512Mi")),
	})
	if got, want := quantities(s.TransferPodResources), [4]string{"100m", "2Gi", "2", "2Gi"}; got != want {
		t.Errorf("transfer pod resources = %v, want %v", got, want)
	}
	// A limit below the default request brings the request down: the administrator's limit wins.
	if got, want := quantities(s.ClientPodResources), [4]string{"250m", "512Mi", "1", "512Mi"}; got != want {
		t.Errorf("client pod resources = %v, want %v", got, want)
	}
}
