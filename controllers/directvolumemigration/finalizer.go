package directvolumemigration

import (
	"context"
	"fmt"
	"slices"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// finalize deletes what the DVM created on both clusters (found by its labels) and its
// credentials, then lets the DVM go. A cluster that is gone or not Ready cannot be cleaned
// up; it is skipped rather than holding the DVM forever, and the log says so.
func (r *Reconciler) finalize(ctx context.Context, dvm *migv1.DirectVolumeMigration) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(dvm, migv1.DirectVolumeMigrationFinalizer) {
		return ctrl.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx)
	o, err := r.observe(ctx, dvm)
	if err != nil {
		return ctrl.Result{}, err
	}
	if o.source == nil || o.destination == nil {
		log.Info("A cluster of the DirectVolumeMigration is not usable; its transfer resources there are left behind",
			"sourceReady", o.source != nil, "destinationReady", o.destination != nil)
	}
	var srcNS, destNS []string
	for _, p := range dvm.Spec.PersistentVolumeClaims {
		if p.ObjectReference != nil {
			srcNS = append(srcNS, p.Namespace)
			destNS = append(destNS, destNamespace(p))
		}
	}
	slices.Sort(srcNS)
	slices.Sort(destNS)
	left, err := deleteLabelled(ctx, string(dvm.UID), places(o.source, o.destination, slices.Compact(srcNS), slices.Compact(destNS)))
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := deleteCredentials(ctx, r.HostDirect, dvm, transfer.NamesFor(string(dvm.UID))); err != nil {
		return ctrl.Result{}, err
	}
	if left > 0 {
		return ctrl.Result{RequeueAfter: pollPods}, nil
	}
	before := dvm.DeepCopy()
	controllerutil.RemoveFinalizer(dvm, migv1.DirectVolumeMigrationFinalizer)
	if err := r.HostDirect.Patch(ctx, dvm, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	return ctrl.Result{}, nil
}
