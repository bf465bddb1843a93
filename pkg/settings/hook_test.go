package settings

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func TestHookResources(t *testing.T) {
	quantities := func(r corev1.ResourceRequirements) [4]string {
		return [4]string{r.Requests.Cpu().String(), r.Requests.Memory().String(), r.Limits.Cpu().String(), r.Limits.Memory().String()}
	}
	cases := []struct {
		name        string
		spec        migv1.MigrationControllerSpec
		want        [4]string
		wantInvalid int
	}{
		{"defaults", migv1.MigrationControllerSpec{}, [4]string{"100m", "256Mi", "1", "1Gi"}, 0},
		{"set as strings and numbers", migv1.MigrationControllerSpec{
			HookPodCPURequest: intOrString(intstr.FromString("250m")), HookPodMemoryRequest: intOrString(intstr.FromString("512Mi")),
			HookPodCPULimit: intOrString(intstr.FromInt32(2)), HookPodMemoryLimit: intOrString(intstr.FromString("2Gi")),
		}, [4]string{"250m", "512Mi", "2", "2Gi"}, 0},
		{"unparsable and negative fall back and are reported", migv1.MigrationControllerSpec{
			HookPodCPULimit: intOrString(intstr.FromString("lots")), HookPodMemoryLimit: intOrString(intstr.FromString("-1Gi")),
		}, [4]string{"100m", "256Mi", "1", "1Gi"}, 2},
		{"a request above its limit is raised to the request", migv1.MigrationControllerSpec{
			HookPodMemoryRequest: intOrString(intstr.FromString("4Gi")),
		}, [4]string{"100m", "4Gi", "1", "4Gi"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := FromSpec(&tc.spec)
			if got := quantities(s.HookResources); got != tc.want {
				t.Errorf("hook resources = %v, want %v", got, tc.want)
			}
			if len(s.Invalid) != tc.wantInvalid {
				t.Errorf("invalid = %q, want %d entries", s.Invalid, tc.wantInvalid)
			}
		})
	}
}
