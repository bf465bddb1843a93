package quiesce

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// MTC's bookkeeping annotations and node selector; the names are MTC's so that objects
// quiesced by MTC (or restored by Velero from an MTC backup) are un-quiesced by Ferry, and the
// other way round.
const (
	// AnnotationReplicas holds the replica count (Deployment, DeploymentConfig, StatefulSet,
	// ReplicaSet, ReplicationController) or the parallelism (Job) before quiesce.
	AnnotationReplicas = "migration.openshift.io/preQuiesceReplicas"
	// AnnotationPaused holds spec.paused ("true"/"false") of a Deployment or DeploymentConfig
	// before quiesce.
	AnnotationPaused = "migration.openshift.io/preQuiescePaused"
	// AnnotationSuspend marks a CronJob that quiesce suspended (value "true"); un-quiesce
	// resumes only CronJobs carrying it.
	AnnotationSuspend = "migration.openshift.io/preQuiesceSuspend"
	// AnnotationNodeSelector holds the JSON of a DaemonSet's pod template nodeSelector before
	// quiesce.
	AnnotationNodeSelector = "migration.openshift.io/preQuiesceNodeSelector"
	// NodeSelectorKey is the nodeSelector key (value "true") that quiesce adds to a DaemonSet
	// so that no node matches and its pods go away.
	NodeSelectorKey = "migration.openshift.io/quiesceDaemonSet"
	// AnnotationQuiescedBy (Ferry's) holds Options.Owner on what Quiesce stopped, next to the
	// bookkeeping annotations and written with them: Unquiesce for another owner leaves the
	// object alone. Objects without it (quiesced by MTC, or without an owner) are restored by
	// anyone, as in MTC.
	AnnotationQuiescedBy = "ferrymtc.io/quiesced-by"
)

// bookkeeping are the annotations that say an object was quiesced.
var bookkeeping = []string{AnnotationReplicas, AnnotationPaused, AnnotationSuspend, AnnotationNodeSelector}

// Options say what to quiesce on one cluster.
type Options struct {
	// Namespaces to act on.
	Namespaces []string
	// OnlyPVCs, when non-nil, limits quiesce to workloads whose pod template mounts one of
	// these PVCs (MTC's multi-plan case: a namespace shared by several plans); nil means every
	// workload in Namespaces.
	OnlyPVCs map[types.NamespacedName]bool
	// Owner, when set, is who quiesces (a migration plan's UID): Quiesce records it in
	// AnnotationQuiescedBy on what it stops, and Unquiesce restores only objects recorded for
	// this owner or for none. So one plan never starts what another plan stopped, whatever
	// the scope of the call.
	Owner string
}

// Report says what was changed, for events/progress lines: e.g.
// []string{"Deployment ns/web: 3 → 0"}.
type Report struct{ Changed []string }

// Quiesce scales the applications to zero and records how to undo it in MTC's annotations.
// Idempotent: calling it again never overwrites the saved values (MTC's pointer-comparison
// bugs re-saved 0 / already-suspended values).
//
// Every object in scope is tried even when some fail; the error joins the failures, each
// naming its object, and the Report lists what was changed before and after them.
func Quiesce(ctx context.Context, c client.Client, opts Options) (Report, error) {
	return run(ctx, c, opts, true)
}

// Unquiesce restores what Quiesce recorded (only objects carrying the annotations), removes
// the annotations. Idempotent. Also used on a destination after a Velero restore: restored
// objects may carry the annotations.
//
// A replica count (or Job parallelism) is restored only while it is still 0: a workload the
// user scaled while it was quiesced keeps the user's count.
func Unquiesce(ctx context.Context, c client.Client, opts Options) (Report, error) {
	return run(ctx, c, opts, false)
}

// run applies the quiesce or un-quiesce steps of every kind to every object in scope.
func run(ctx context.Context, c client.Client, opts Options, quiesce bool) (Report, error) {
	s := newScope(opts)
	var rep Report
	var errs []error
	kinds, err := kindsOf(c)
	if err != nil {
		errs = append(errs, err)
	}
	verb := "quiesce"
	if !quiesce {
		verb = "unquiesce"
		kinds = unquiesceOrder(kinds)
	}
	for _, k := range kinds {
		for _, ns := range opts.Namespaces {
			if !s.namespace(ns) {
				continue
			}
			objs, err := k.list(ctx, c, ns)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: list %ss in namespace %s: %w", verb, k.name, ns, err))
				continue
			}
			for _, obj := range objs {
				if (k.skip != nil && k.skip(obj)) || !k.inScope(s, obj) {
					continue
				}
				steps := ownedSteps(k.quiesce, opts.Owner)
				if !quiesce {
					if !ownedBy(obj, opts.Owner) {
						continue
					}
					steps = releasedSteps(k.unquiesce)
				}
				desc, err := applySteps(ctx, c, k, obj, steps)
				if desc != "" {
					rep.Changed = append(rep.Changed, fmt.Sprintf("%s %s/%s: %s", k.name, ns, obj.GetName(), desc))
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s %s %s/%s: %w", verb, k.name, ns, obj.GetName(), err))
				}
			}
		}
	}
	return rep, errors.Join(errs...)
}

// ownedBy says whether Unquiesce for owner may restore obj: it was not recorded for another
// owner.
func ownedBy(obj client.Object, owner string) bool {
	recorded, ok := annotation(obj, AnnotationQuiescedBy)
	return owner == "" || !ok || recorded == owner
}

// quiesced says whether obj carries bookkeeping annotations.
func quiesced(obj client.Object) bool {
	for _, key := range bookkeeping {
		if _, ok := annotation(obj, key); ok {
			return true
		}
	}
	return false
}

// ownedSteps wraps quiesce steps so that the step that first records bookkeeping on an object
// also records owner (or, without an owner, drops a stale one), in the same write.
func ownedSteps(steps []step, owner string) []step {
	out := make([]step, len(steps))
	for i, st := range steps {
		out[i] = func(obj client.Object) (string, error) {
			had := quiesced(obj)
			desc, err := st(obj)
			if err != nil || had || !quiesced(obj) {
				return desc, err
			}
			if owner != "" {
				setAnnotation(obj, AnnotationQuiescedBy, owner)
			} else if _, ok := annotation(obj, AnnotationQuiescedBy); ok {
				removeAnnotation(obj, AnnotationQuiescedBy)
			}
			return desc, nil
		}
	}
	return out
}

// releasedSteps wraps un-quiesce steps so that the owner annotation goes with the last
// bookkeeping annotation, in the same write.
func releasedSteps(steps []step) []step {
	out := make([]step, len(steps))
	for i, st := range steps {
		out[i] = func(obj client.Object) (string, error) {
			desc, err := st(obj)
			if err == nil && desc != "" && !quiesced(obj) {
				if _, ok := annotation(obj, AnnotationQuiescedBy); ok {
					removeAnnotation(obj, AnnotationQuiescedBy)
				}
			}
			return desc, err
		}
	}
	return out
}

// maxConflicts bounds how often one step is re-read and retried after a write conflict.
const maxConflicts = 5

// applySteps runs each step against obj and writes what it changed as a JSON merge patch that
// carries obj's resourceVersion: a concurrent write makes the patch fail with a conflict
// rather than save a value read before that write, and the step is retried on a fresh read.
// Fields the step did not touch are not in the patch, so other writers' edits are kept.
func applySteps(ctx context.Context, c client.Client, k *kind, obj client.Object, steps []step) (string, error) {
	var done []string
	for _, st := range steps {
		for attempt := 0; ; attempt++ {
			orig, ok := obj.DeepCopyObject().(client.Object)
			if !ok {
				return strings.Join(done, ", "), fmt.Errorf("cannot copy %T", obj)
			}
			desc, err := st(obj)
			if err != nil {
				return strings.Join(done, ", "), err
			}
			if desc == "" {
				break
			}
			err = c.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
			if err == nil {
				done = append(done, desc)
				break
			}
			if apierrors.IsNotFound(err) {
				// Deleted meanwhile: nothing left to stop or restore.
				return strings.Join(done, ", "), nil
			}
			if !apierrors.IsConflict(err) || attempt >= maxConflicts {
				return strings.Join(done, ", "), fmt.Errorf("patch: %w", err)
			}
			fresh := k.newObject()
			if err := c.Get(ctx, client.ObjectKeyFromObject(orig), fresh); err != nil {
				if apierrors.IsNotFound(err) {
					return strings.Join(done, ", "), nil
				}
				return strings.Join(done, ", "), fmt.Errorf("re-read after conflict: %w", err)
			}
			obj = fresh
		}
	}
	return strings.Join(done, ", "), nil
}

// deploymentConfigsServed says whether the cluster serves apps.openshift.io/v1
// DeploymentConfigs (OpenShift), asking the client's RESTMapper.
func deploymentConfigsServed(c client.Client) (bool, error) {
	m := c.RESTMapper()
	if m == nil {
		return false, nil
	}
	_, err := m.RESTMapping(deploymentConfigGVK.GroupKind(), deploymentConfigGVK.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	default:
		return false, fmt.Errorf("discover %s: %w", deploymentConfigGVK.GroupVersion(), err)
	}
}
