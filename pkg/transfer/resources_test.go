package transfer

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestPodResources(t *testing.T) {
	set := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
	summary := func(r corev1.ResourceRequirements) string {
		return r.Requests.Cpu().String() + "/" + r.Requests.Memory().String() + " limits " + r.Limits.Cpu().String() + "/" + r.Limits.Memory().String()
	}
	client := Client{Namespace: "app", Name: "c", Config: "cfg", DestinationNamespace: "app", PVC: "data", Module: Module("data")}
	server := Server{Namespace: "app", Name: "s", Labels: map[string]string{}}
	cases := []struct {
		name      string
		resources corev1.ResourceRequirements
		want      string
	}{
		{"MTC's controller defaults when none are given", corev1.ResourceRequirements{}, "400m/512Mi limits 0/0"},
		{"the settings given", set, "100m/1Gi limits 1/1Gi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client.Resources, server.Resources = tc.resources, tc.resources
			pod, err := client.Pod()
			if err != nil {
				t.Fatal(err)
			}
			var containers []corev1.Container
			containers = append(containers, pod.Spec.Containers...)
			containers = append(containers, server.Pod().Spec.Containers...)
			for _, c := range containers {
				if got := summary(c.Resources); got != tc.want {
					t.Errorf("container %s: resources %s, want %s", c.Name, got, tc.want)
				}
			}
		})
	}
}

// TestPodEnv: the environment given (the MigrationController's proxy settings) reaches every
// container of both transfer pods, next to the client's own variables.
func TestPodEnv(t *testing.T) {
	env := []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://proxy:3128"}}
	client := Client{Namespace: "app", Name: "c", Config: "cfg", DestinationNamespace: "app", PVC: "data", Module: Module("data"), Env: env}
	server := Server{Namespace: "app", Name: "s", Labels: map[string]string{}, Env: env}
	pod, err := client.Pod()
	if err != nil {
		t.Fatal(err)
	}
	containers := slices.Concat(pod.Spec.Containers, server.Pod().Spec.Containers)
	for _, c := range containers {
		names := map[string]string{}
		for _, e := range c.Env {
			names[e.Name] = e.Value
		}
		if names["HTTPS_PROXY"] != "http://proxy:3128" {
			t.Errorf("container %s: env %v", c.Name, names)
		}
	}
	if len(pod.Spec.Containers[0].Env) != 3 {
		t.Errorf("client env %v: want RSYNC_PASSWORD, RSYNC_CONNECT_PROG and the proxy", pod.Spec.Containers[0].Env)
	}
}
