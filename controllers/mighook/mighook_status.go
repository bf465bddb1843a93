package mighook

import (
	"errors"
	"fmt"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// Condition messages. The first five are MTC's.
const (
	ReadyMessage         = "The hook is ready."
	InvalidImageMessage  = "The image name specified in spec.Image is invalid."
	InvalidTargetMessage = "Only `source` and `destination` are accepted as values for spec.targetCluster."
	NotBase64Message     = "Spec.Playbook should contain a base64 encoded playbook."
	CustomHookMessage    = "An Ansible Playbook must not be specified when spec.custom is true."
	AnsibleHookMessage   = "An Ansible Playbook must be specified when spec.custom is false."
	// notYAMLFormat is Ferry's message for a playbook that decodes but is not a YAML list.
	notYAMLFormat = "Spec.Playbook should contain a base64 encoded Ansible playbook, a non-empty YAML list of plays: %s."
	// negativeDeadlineFormat is Ferry's message for a negative activeDeadlineSeconds.
	negativeDeadlineFormat = "The spec.activeDeadlineSeconds must not be negative (got %d); 0 means the default of %d seconds."
)

// conditionsFor computes every non-durable condition of a hook from its spec. All rules run,
// so that every problem is reported at once; Ready holds when none does.
func conditionsFor(spec *migv1.MigHookSpec) []migv1.Condition {
	var out []migv1.Condition
	if !validImage(spec.Image) {
		out = append(out, conditions.Critical(migv1.InvalidImage, migv1.NotSet, InvalidImageMessage))
	}
	if spec.TargetCluster != migv1.HookTargetSource && spec.TargetCluster != migv1.HookTargetDestination {
		out = append(out, conditions.Critical(migv1.InvalidTargetCluster, migv1.NotSet, InvalidTargetMessage))
	}
	if spec.Playbook != "" {
		// Only an Ansible hook runs its playbook, so only its content is parsed.
		if err := checkPlaybook(spec.Playbook, !spec.Custom); err != nil {
			msg := NotBase64Message
			if !errors.Is(err, errNotBase64) {
				msg = fmt.Sprintf(notYAMLFormat, err)
			}
			out = append(out, conditions.Critical(migv1.InvalidPlaybookData, migv1.NotSet, msg))
		}
	}
	switch {
	case spec.Custom && spec.Playbook != "":
		out = append(out, conditions.Critical(migv1.InvalidCustomHook, migv1.NotSet, CustomHookMessage))
	case !spec.Custom && spec.Playbook == "":
		out = append(out, conditions.Critical(migv1.InvalidAnsibleHook, migv1.NotSet, AnsibleHookMessage))
	}
	if spec.ActiveDeadlineSeconds < 0 {
		out = append(out, conditions.Critical(migv1.InvalidActiveDeadline, migv1.InvalidReason,
			fmt.Sprintf(negativeDeadlineFormat, spec.ActiveDeadlineSeconds, migv1.DefaultHookActiveDeadlineSeconds)))
	}
	if len(out) == 0 {
		out = append(out, conditions.Required(migv1.Ready, "", ReadyMessage))
	}
	return out
}
