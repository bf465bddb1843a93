package conditions

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// Object is an API object with MTC conditions in its status.
type Object interface {
	GetConditions() migv1.Conditions
	SetConditions(migv1.Conditions)
}

// New returns a True condition of the given category.
func New(category, conditionType, reason, message string) migv1.Condition {
	return migv1.Condition{Type: conditionType, Status: migv1.True, Category: category, Reason: reason, Message: message}
}

// Critical returns a True, Critical condition: it blocks the object.
func Critical(conditionType, reason, message string) migv1.Condition {
	return New(migv1.CategoryCritical, conditionType, reason, message)
}

// Error returns a True, Error condition: it blocks readiness.
func Error(conditionType, reason, message string) migv1.Condition {
	return New(migv1.CategoryError, conditionType, reason, message)
}

// Warn returns a True, Warn condition: it is reported but does not block.
func Warn(conditionType, reason, message string) migv1.Condition {
	return New(migv1.CategoryWarn, conditionType, reason, message)
}

// Advisory returns a True, Advisory condition.
func Advisory(conditionType, reason, message string) migv1.Condition {
	return New(migv1.CategoryAdvisory, conditionType, reason, message)
}

// Required returns a True, Required condition (such as Ready).
func Required(conditionType, reason, message string) migv1.Condition {
	return New(migv1.CategoryRequired, conditionType, reason, message)
}

// Find returns the condition of the given type, or nil.
func Find(list migv1.Conditions, conditionType string) *migv1.Condition {
	for i := range list {
		if list[i].Type == conditionType {
			return &list[i]
		}
	}
	return nil
}

// IsTrue reports whether the condition of the given type exists with status True.
func IsTrue(list migv1.Conditions, conditionType string) bool {
	c := Find(list, conditionType)
	return c != nil && c.Status == migv1.True
}

// IsBlocker reports whether a condition blocks readiness: True and Critical or Error.
func IsBlocker(c migv1.Condition) bool {
	return c.Status == migv1.True && (c.Category == migv1.CategoryCritical || c.Category == migv1.CategoryError)
}

// HasBlocker reports whether any condition in the list blocks readiness.
func HasBlocker(list []migv1.Condition) bool {
	return slices.ContainsFunc(list, IsBlocker)
}

// Set adds c to obj's conditions or replaces the one of the same type, keeping its
// LastTransitionTime when the content is unchanged.
func Set(obj Object, c migv1.Condition, now metav1.Time) {
	list := slices.Clone(obj.GetConditions())
	if old := Find(list, c.Type); old != nil {
		c.LastTransitionTime = transitionTime(*old, c, now)
		*old = c
	} else {
		c.LastTransitionTime = now
		list = append(list, c)
	}
	obj.SetConditions(list)
}

// Delete removes the conditions of the given types.
func Delete(obj Object, conditionTypes ...string) {
	obj.SetConditions(slices.DeleteFunc(slices.Clone(obj.GetConditions()), func(c migv1.Condition) bool {
		return slices.Contains(conditionTypes, c.Type)
	}))
}

// Apply makes obj's conditions the durable ones it already had plus desired. Non-durable
// conditions absent from desired are dropped. Existing conditions keep their
// LastTransitionTime unless their content changed. The result is ordered: existing
// conditions first in their previous order, then new ones in the order given.
func Apply(obj Object, desired []migv1.Condition, now metav1.Time) {
	old := obj.GetConditions()
	out := make(migv1.Conditions, 0, len(old)+len(desired))
	used := make([]bool, len(desired))
	for _, o := range old {
		i := slices.IndexFunc(desired, func(d migv1.Condition) bool { return d.Type == o.Type })
		switch {
		case i >= 0 && !used[i]:
			d := desired[i]
			d.LastTransitionTime = transitionTime(o, d, now)
			out = append(out, d)
			used[i] = true
		case o.Durable:
			out = append(out, o)
		}
	}
	for i, d := range desired {
		if !used[i] && Find(out, d.Type) == nil {
			d.LastTransitionTime = now
			out = append(out, d)
		}
	}
	obj.SetConditions(out)
}

// EventType is the type of the event that reports c: Warning for Critical, Error and Warn
// conditions, Normal for the others.
func EventType(c migv1.Condition) string {
	switch c.Category {
	case migv1.CategoryCritical, migv1.CategoryError, migv1.CategoryWarn:
		return corev1.EventTypeWarning
	default:
		return corev1.EventTypeNormal
	}
}

// Changed returns the conditions of after that are new or differ in content from before.
func Changed(before, after []migv1.Condition) []migv1.Condition {
	var out []migv1.Condition
	for _, a := range after {
		b := Find(before, a.Type)
		if b == nil || !sameContent(*b, a) {
			out = append(out, a)
		}
	}
	return out
}

func transitionTime(old, updated migv1.Condition, now metav1.Time) metav1.Time {
	if sameContent(old, updated) && !old.LastTransitionTime.IsZero() {
		return old.LastTransitionTime
	}
	return now
}

func sameContent(a, b migv1.Condition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason &&
		a.Category == b.Category && a.Message == b.Message && a.Durable == b.Durable
}
