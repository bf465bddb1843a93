package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition categories, as MTC defines them. A True condition of a blocking category
// (Critical or Error) keeps the object from being Ready.
const (
	// CategoryCritical blocks reconciliation of dependent work and readiness.
	CategoryCritical = "Critical"
	// CategoryError blocks readiness.
	CategoryError = "Error"
	// CategoryWarn is informational and does not block.
	CategoryWarn = "Warn"
	// CategoryRequired marks conditions that must hold for readiness (such as Ready itself).
	CategoryRequired = "Required"
	// CategoryAdvisory is informational (Running, Succeeded, Suspended, ...).
	CategoryAdvisory = "Advisory"
)

// Condition status values. MTC writes "True" and "False" only.
const (
	True  = "True"
	False = "False"
)

// Condition types shared by several kinds.
const (
	// Ready says the object is valid and usable.
	Ready = "Ready"
	// ReconcileFailed reports an internal error of the controller; details are in its log.
	ReconcileFailed = "ReconcileFailed"
)

// Condition reasons shared by several kinds (MTC names). Kind-specific reasons are declared
// next to their kind.
const (
	// NotSet says a required field or reference is empty.
	NotSet = "NotSet"
	// NotFound says a referenced object does not exist.
	NotFound = "NotFound"
	// NotReady says a referenced object exists but is not Ready.
	NotReady = "NotReady"
	// NotSupported says a value or combination of values is not supported.
	NotSupported = "NotSupported"
	// NotDistinct says two values that must differ are equal.
	NotDistinct = "NotDistinct"
)

// Condition is MTC's condition: a metav1.Condition-like record with a category that says
// whether it blocks, and a durable flag for conditions that survive re-evaluation.
type Condition struct {
	// Type of the condition, for example Ready or InvalidURL.
	Type string `json:"type"`
	// Status is "True" or "False".
	Status string `json:"status"`
	// Reason is a short CamelCase word for the cause.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Category is one of Critical, Error, Warn, Required, Advisory.
	Category string `json:"category"`
	// Message is a human readable explanation.
	// +optional
	Message string `json:"message,omitempty"`
	// Durable conditions are kept until explicitly removed; the others are recomputed on
	// every reconcile and dropped when no longer asserted.
	// +optional
	Durable bool `json:"durable,omitempty"`
	// LastTransitionTime is when the condition last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// Conditions is the list of conditions in a status.
type Conditions []Condition
