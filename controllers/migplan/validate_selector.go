package migplan

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// validateLabelSelector checks spec.labelSelector, which the initial backup and image
// migration use. The CRD schema accepts any operator and values; a bad selector would only
// fail later inside Velero, so it is reported here instead.
func validateLabelSelector(selector *metav1.LabelSelector) []migv1.Condition {
	if selector == nil {
		return nil
	}
	if _, err := metav1.LabelSelectorAsSelector(selector); err != nil {
		return []migv1.Condition{conditions.Critical(migv1.InvalidLabelSelector, migv1.Malformed,
			"The `spec.labelSelector` is invalid: "+err.Error())}
	}
	return nil
}
