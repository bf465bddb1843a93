package mighook

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const playbook = `---
- hosts: localhost
  gather_facts: false
  tasks:
    - debug: {msg: hello}
`

func validAnsible() migv1.MigHookSpec {
	return migv1.MigHookSpec{Image: "quay.io/konveyor/hook-runner:latest", Playbook: b64(playbook), TargetCluster: "source"}
}

// TestConditionsFor lists, for each spec, the conditions (type/reason) a hook ends up with.
func TestConditionsFor(t *testing.T) {
	cases := []struct {
		name    string
		spec    func(*migv1.MigHookSpec)
		want    []string
		message string // a substring of the first condition's message
	}{
		{"valid ansible hook", nil, []string{"Ready/"}, ReadyMessage},
		{"valid custom hook", func(s *migv1.MigHookSpec) {
			s.Custom, s.Playbook, s.Image, s.TargetCluster = true, "", "busybox", "destination"
		}, []string{"Ready/"}, ReadyMessage},
		{"zero deadline is the default", func(s *migv1.MigHookSpec) { s.ActiveDeadlineSeconds = 0 }, []string{"Ready/"}, ""},
		{"positive deadline", func(s *migv1.MigHookSpec) { s.ActiveDeadlineSeconds = 60 }, []string{"Ready/"}, ""},

		{"image empty", func(s *migv1.MigHookSpec) { s.Image = "" }, []string{"InvalidImage/NotSet"}, InvalidImageMessage},
		{"image malformed", func(s *migv1.MigHookSpec) { s.Image = "quay.io/konveyor/hook runner" }, []string{"InvalidImage/NotSet"}, InvalidImageMessage},
		{"image uppercase", func(s *migv1.MigHookSpec) { s.Image = "Busybox" }, []string{"InvalidImage/NotSet"}, ""},

		{"target empty", func(s *migv1.MigHookSpec) { s.TargetCluster = "" }, []string{"InvalidTarget/NotSet"}, InvalidTargetMessage},
		{"target unknown", func(s *migv1.MigHookSpec) { s.TargetCluster = "host" }, []string{"InvalidTarget/NotSet"}, InvalidTargetMessage},

		{"custom hook with playbook", func(s *migv1.MigHookSpec) { s.Custom = true }, []string{"InvalidCustomHook/NotSet"}, CustomHookMessage},
		{"ansible hook without playbook", func(s *migv1.MigHookSpec) { s.Playbook = "" }, []string{"InvalidAnsibleHook/NotSet"}, AnsibleHookMessage},

		{"playbook not base64", func(s *migv1.MigHookSpec) { s.Playbook = "not base64!" }, []string{"InvalidPlaybookData/NotSet"}, NotBase64Message},
		{"playbook not yaml", func(s *migv1.MigHookSpec) { s.Playbook = b64("- hosts: [\n") }, []string{"InvalidPlaybookData/NotSet"}, "not valid YAML"},
		{"playbook a mapping", func(s *migv1.MigHookSpec) { s.Playbook = b64("hosts: localhost\n") }, []string{"InvalidPlaybookData/NotSet"}, "a mapping, not a list of plays"},
		{"playbook a scalar", func(s *migv1.MigHookSpec) { s.Playbook = b64("echo hello") }, []string{"InvalidPlaybookData/NotSet"}, "a scalar, not a list of plays"},
		{"playbook empty document", func(s *migv1.MigHookSpec) { s.Playbook = b64("# nothing\n") }, []string{"InvalidPlaybookData/NotSet"}, "empty, not a list of plays"},
		{"playbook empty list", func(s *migv1.MigHookSpec) { s.Playbook = b64("[]") }, []string{"InvalidPlaybookData/NotSet"}, "list of plays is empty"},
		{"custom hook playbook is only base64-checked", func(s *migv1.MigHookSpec) { s.Custom, s.Playbook = true, b64("not: [yaml") },
			[]string{"InvalidCustomHook/NotSet"}, CustomHookMessage},
		{"custom hook playbook not base64", func(s *migv1.MigHookSpec) { s.Custom, s.Playbook = true, "%%%" },
			[]string{"InvalidPlaybookData/NotSet", "InvalidCustomHook/NotSet"}, NotBase64Message},

		{"negative deadline", func(s *migv1.MigHookSpec) { s.ActiveDeadlineSeconds = -1 }, []string{"InvalidActiveDeadline/Invalid"},
			"must not be negative (got -1); 0 means the default of 1800 seconds"},

		{"every rule at once", func(s *migv1.MigHookSpec) {
			*s = migv1.MigHookSpec{Image: "UPPER", TargetCluster: "x", ActiveDeadlineSeconds: -5}
		}, []string{"InvalidImage/NotSet", "InvalidTarget/NotSet", "InvalidAnsibleHook/NotSet", "InvalidActiveDeadline/Invalid"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := validAnsible()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			got := conditionsFor(&spec)
			var types []string
			for _, c := range got {
				types = append(types, c.Type+"/"+c.Reason)
				wantCategory := migv1.CategoryCritical
				if c.Type == migv1.Ready {
					wantCategory = migv1.CategoryRequired
				}
				if c.Status != migv1.True || c.Category != wantCategory {
					t.Errorf("condition %s is %s/%s, want True/%s", c.Type, c.Status, c.Category, wantCategory)
				}
			}
			if !slices.Equal(types, tc.want) {
				t.Fatalf("conditions = %v, want %v", types, tc.want)
			}
			if !strings.Contains(got[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", got[0].Message, tc.message)
			}
		})
	}
}

func TestValidImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("a", 64)
	valid := []string{
		"busybox", "busybox:1.36", "library/busybox", "docker.io/library/busybox:latest",
		"quay.io/konveyor/hook-runner:latest", "registry.example.com:5000/team/app_1.x__y-z:v1.2.3-rc.1",
		"localhost:5000/app", "[::1]:5000/app", "busybox@" + digest, "quay.io/a/b:tag@" + digest,
		"Registry.Example.COM/app", // the domain may have capitals, the path may not
		strings.Repeat("a", 255),
	}
	invalid := []string{
		"", " ", "Busybox", "busybox:", ":tag", "busybox:-tag", "busybox@sha256:abc", "a//b", "/busybox",
		"busybox/", "bad image", "quay.io/konveyor/hook-runner:latest ", "app:" + strings.Repeat("t", 129),
		strings.Repeat("a", 256), "a__-b", "http://quay.io/app",
	}
	for _, image := range valid {
		if !validImage(image) {
			t.Errorf("validImage(%q) = false, want true", image)
		}
	}
	for _, image := range invalid {
		if validImage(image) {
			t.Errorf("validImage(%q) = true, want false", image)
		}
	}
}

// TestConditionsForIsStable makes sure a persisting problem yields the same message every time,
// so that it is one condition transition and one event.
func TestConditionsForIsStable(t *testing.T) {
	spec := validAnsible()
	spec.Playbook = b64("- hosts: [\n")
	first := fmt.Sprint(conditionsFor(&spec))
	for range 3 {
		if got := fmt.Sprint(conditionsFor(&spec)); got != first {
			t.Fatalf("conditions changed between runs: %s vs %s", first, got)
		}
	}
}
