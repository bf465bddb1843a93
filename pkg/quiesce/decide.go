package quiesce

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

// The functions here decide, for one object, what quiesce and un-quiesce change. They only
// touch the object in memory and return a description of the change ("" for none), so they
// are tested without a cluster; the caller writes the difference as a patch.

func annotation(o metav1.Object, key string) (string, bool) {
	v, ok := o.GetAnnotations()[key]
	return v, ok
}

func setAnnotation(o metav1.Object, key, value string) {
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	o.SetAnnotations(a)
}

func removeAnnotation(o metav1.Object, key string) {
	a := o.GetAnnotations()
	delete(a, key)
	o.SetAnnotations(a)
}

// count reads a replica count or parallelism; nil is the API default, 1.
func count(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func joinNonEmpty(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// scaleDown records *replicas in AnnotationReplicas unless a value is recorded already, and
// sets it to 0. An object that is at 0 and has nothing recorded is left alone: there is
// nothing to stop and nothing to restore.
func scaleDown(o metav1.Object, replicas **int32) string {
	cur := count(*replicas)
	if _, saved := annotation(o, AnnotationReplicas); !saved && cur != 0 {
		setAnnotation(o, AnnotationReplicas, strconv.Itoa(int(cur)))
	}
	if cur == 0 {
		return ""
	}
	*replicas = ptr.To[int32](0)
	return fmt.Sprintf("%d → 0", cur)
}

// restoreCount removes AnnotationReplicas and says what the count becomes: the recorded one
// while the current count is 0, else the current one (the user scaled the workload since).
// found is false when nothing was recorded.
func restoreCount(o metav1.Object, cur int32) (to int32, desc string, found bool, err error) {
	v, saved := annotation(o, AnnotationReplicas)
	if !saved {
		return cur, "", false, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return cur, "", true, fmt.Errorf("annotation %s=%q is not a count", AnnotationReplicas, v)
	}
	removeAnnotation(o, AnnotationReplicas)
	if cur != 0 {
		return cur, fmt.Sprintf("keeps %d (changed since quiesce; %d was recorded)", cur, n), true, nil
	}
	return int32(n), fmt.Sprintf("0 → %d", n), true, nil
}

// restore is restoreCount for a *int32 field.
func restore(o metav1.Object, replicas **int32) (string, error) {
	cur := count(*replicas)
	to, desc, found, err := restoreCount(o, cur)
	if err != nil || !found {
		return "", err
	}
	if to != cur {
		*replicas = ptr.To(to)
	}
	return desc, nil
}

// scaleDownPausable is the Deployment and DeploymentConfig decision: record replicas and
// paused (unless recorded), then 0 replicas, not paused. It returns the description and
// whether the spec must change.
func scaleDownPausable(o metav1.Object, replicas int32, paused bool) (string, bool) {
	if _, saved := annotation(o, AnnotationReplicas); !saved {
		if replicas == 0 && !paused {
			return "", false
		}
		setAnnotation(o, AnnotationReplicas, strconv.Itoa(int(replicas)))
		setAnnotation(o, AnnotationPaused, strconv.FormatBool(paused))
	} else if _, saved := annotation(o, AnnotationPaused); !saved && paused {
		// Recorded by a version that did not save paused: save it before unpausing.
		setAnnotation(o, AnnotationPaused, "true")
	}
	var scaled, unpaused string
	if replicas != 0 {
		scaled = fmt.Sprintf("%d → 0", replicas)
	}
	if paused {
		unpaused = "unpaused"
	}
	desc := joinNonEmpty(scaled, unpaused)
	return desc, desc != ""
}

// restorePaused removes AnnotationPaused and returns the recorded value; found is false when
// nothing was recorded.
func restorePaused(o metav1.Object) (paused, found bool, err error) {
	v, saved := annotation(o, AnnotationPaused)
	if !saved {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, true, fmt.Errorf("annotation %s=%q is not a boolean", AnnotationPaused, v)
	}
	removeAnnotation(o, AnnotationPaused)
	return b, true, nil
}

func pausedDesc(was, now bool) string {
	switch {
	case now && !was:
		return "paused again"
	case !now && was:
		return "unpaused"
	default:
		return ""
	}
}

func quiesceDeployment(d *appsv1.Deployment) (string, error) {
	desc, change := scaleDownPausable(d, count(d.Spec.Replicas), d.Spec.Paused)
	if change {
		d.Spec.Replicas = ptr.To[int32](0)
		d.Spec.Paused = false
	}
	return desc, nil
}

// unquiesceDeployment restores replicas (only while at 0) and paused in one write: a paused
// Deployment still scales.
func unquiesceDeployment(d *appsv1.Deployment) (string, error) {
	replicas, err := restore(d, &d.Spec.Replicas)
	if err != nil {
		return "", err
	}
	paused, found, err := restorePaused(d)
	if err != nil {
		return "", err
	}
	var pd string
	if found {
		pd = pausedDesc(d.Spec.Paused, paused)
		d.Spec.Paused = paused
	}
	return cleaned(joinNonEmpty(replicas, pd), found), nil
}

// cleaned names an annotation-only change, so that every write is reported.
func cleaned(desc string, changed bool) string {
	if desc == "" && changed {
		return "annotations removed"
	}
	return desc
}

func dcReplicas(u *unstructured.Unstructured) (int32, error) {
	v, _, err := unstructured.NestedFieldNoCopy(u.Object, "spec", "replicas")
	if err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return int32(n), nil
	case float64:
		return int32(n), nil
	default:
		return 0, fmt.Errorf("spec.replicas is a %T", v)
	}
}

func dcPaused(u *unstructured.Unstructured) (bool, error) {
	b, _, err := unstructured.NestedBool(u.Object, "spec", "paused")
	return b, err
}

func quiesceDeploymentConfig(u *unstructured.Unstructured) (string, error) {
	replicas, err := dcReplicas(u)
	if err != nil {
		return "", err
	}
	paused, err := dcPaused(u)
	if err != nil {
		return "", err
	}
	desc, change := scaleDownPausable(u, replicas, paused)
	if change {
		if err := unstructured.SetNestedField(u.Object, int64(0), "spec", "replicas"); err != nil {
			return "", err
		}
		if err := unstructured.SetNestedField(u.Object, false, "spec", "paused"); err != nil {
			return "", err
		}
	}
	return desc, nil
}

func unquiesceDeploymentConfigReplicas(u *unstructured.Unstructured) (string, error) {
	cur, err := dcReplicas(u)
	if err != nil {
		return "", err
	}
	to, desc, found, err := restoreCount(u, cur)
	if err != nil || !found {
		return "", err
	}
	if to != cur {
		if err := unstructured.SetNestedField(u.Object, int64(to), "spec", "replicas"); err != nil {
			return "", err
		}
	}
	return desc, nil
}

func unquiesceDeploymentConfigPaused(u *unstructured.Unstructured) (string, error) {
	cur, err := dcPaused(u)
	if err != nil {
		return "", err
	}
	paused, found, err := restorePaused(u)
	if err != nil || !found {
		return "", err
	}
	if paused != cur {
		if err := unstructured.SetNestedField(u.Object, paused, "spec", "paused"); err != nil {
			return "", err
		}
	}
	return cleaned(pausedDesc(cur, paused), true), nil
}

// quiesceDaemonSet records the pod template's nodeSelector (unless recorded) and adds
// NodeSelectorKey=true, which no node carries, so the DaemonSet's pods are removed.
func quiesceDaemonSet(ds *appsv1.DaemonSet) (string, error) {
	sel := ds.Spec.Template.Spec.NodeSelector
	var recorded string
	if _, saved := annotation(ds, AnnotationNodeSelector); !saved {
		orig := maps.Clone(sel)
		if orig == nil {
			orig = map[string]string{}
		}
		// Never record our own key: restoring it would keep the DaemonSet unscheduled.
		delete(orig, NodeSelectorKey)
		b, err := json.Marshal(orig)
		if err != nil {
			return "", err
		}
		setAnnotation(ds, AnnotationNodeSelector, string(b))
		recorded = "nodeSelector recorded"
	}
	if sel[NodeSelectorKey] == "true" {
		return recorded, nil
	}
	if sel == nil {
		sel = map[string]string{}
	}
	sel[NodeSelectorKey] = "true"
	ds.Spec.Template.Spec.NodeSelector = sel
	return "unscheduled (nodeSelector " + NodeSelectorKey + "=true)", nil
}

func unquiesceDaemonSet(ds *appsv1.DaemonSet) (string, error) {
	v, saved := annotation(ds, AnnotationNodeSelector)
	if !saved {
		return "", nil
	}
	var orig map[string]string
	if err := json.Unmarshal([]byte(v), &orig); err != nil {
		return "", fmt.Errorf("annotation %s=%q is not a JSON string map: %w", AnnotationNodeSelector, v, err)
	}
	removeAnnotation(ds, AnnotationNodeSelector)
	if len(orig) == 0 {
		orig = nil
	}
	ds.Spec.Template.Spec.NodeSelector = orig
	return "nodeSelector restored", nil
}

// quiesceCronJob suspends a running CronJob and marks it with AnnotationSuspend. A CronJob
// the user suspended is left alone and never marked, so un-quiesce never resumes it.
func quiesceCronJob(cj *batchv1.CronJob) (string, error) {
	suspended := ptr.Deref(cj.Spec.Suspend, false)
	if _, ours := annotation(cj, AnnotationSuspend); !ours {
		if suspended {
			return "", nil
		}
		setAnnotation(cj, AnnotationSuspend, "true")
	}
	if suspended {
		return "", nil
	}
	cj.Spec.Suspend = ptr.To(true)
	return "suspended", nil
}

// unquiesceCronJob resumes a CronJob that quiesce suspended (it carries AnnotationSuspend).
func unquiesceCronJob(cj *batchv1.CronJob) (string, error) {
	if _, ours := annotation(cj, AnnotationSuspend); !ours {
		return "", nil
	}
	removeAnnotation(cj, AnnotationSuspend)
	if !ptr.Deref(cj.Spec.Suspend, false) {
		return "annotations removed", nil
	}
	cj.Spec.Suspend = ptr.To(false)
	return "resumed", nil
}
