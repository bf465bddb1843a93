package directvolumemigration

import (
	"context"
	"slices"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/settings"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// Scope is what a step function works with during one reconcile. Steps change the DVM's
// status in memory (the controller patches it once) and leave what they observed for the
// status computation (status.go).
type Scope struct {
	DVM         *migv1.DirectVolumeMigration
	Source      *Remote
	Destination *Remote
	// Host is the operator's cluster, uncached: the credentials Secret and the DVMPs live
	// there, next to the DVM.
	Host     client.Client
	Settings settings.Settings
	Names    transfer.Names
	// SourcePVCs are the spec's source PVCs by "ns/name".
	SourcePVCs map[string]*corev1.PersistentVolumeClaim
	Now        func() time.Time
	Log        logr.Logger

	// warnings are Warn conditions steps observed in this reconcile.
	warnings []migv1.Condition
	// networkError is set when every failed transfer failed to reach the endpoint.
	networkError *migv1.Condition
	// resized and unmeasured are the PVCs PV resizing grew ("ns/name old→new (n% used)") or
	// could not measure ("ns/name").
	resized, unmeasured []string
	// usageForbidden says the source token may not read the kubelets' statistics, so every
	// volume was unmeasured.
	usageForbidden bool
	// nonRootNamespaces are "cluster/namespace" where root was asked for and refused.
	nonRootNamespaces []string
	// nonRootUser is the user of transfer pods that run as non-root because root was not
	// asked for.
	nonRootUser *int64
	// description overrides the phase's description (progress of the transfer).
	description string
	// refusals are the pods the clusters refused to create in this reconcile, with the API's
	// message.
	refusals []string
	// stall is the watched phase's stall, when it has observed no progress for a while.
	stall  *itinerary.Stall
	limits itinerary.Limits
}

func (r *Reconciler) scope(ctx context.Context, o *observed) *Scope {
	return &Scope{
		DVM: o.dvm, Source: o.source, Destination: o.destination, Host: r.HostDirect,
		Settings: o.settings, Names: transfer.NamesFor(string(o.dvm.UID)), SourcePVCs: o.sourcePVCs,
		Now: r.Clock.Now, Log: ctrl.LoggerFrom(ctx),
	}
}

// pvcKey is "namespace/name" of a source PVC.
func pvcKey(p migv1.PVCToMigrate) string { return p.Namespace + "/" + p.Name }

// destNamespace is where the PVC is copied to: targetNamespace, else the same namespace.
func destNamespace(p migv1.PVCToMigrate) string {
	if p.TargetNamespace != "" {
		return p.TargetNamespace
	}
	return p.Namespace
}

// destName is the destination PVC's name: targetName, else the same name.
func destName(p migv1.PVCToMigrate) string {
	if p.TargetName != "" {
		return p.TargetName
	}
	return p.Name
}

// destKey is "namespace/name" of a destination PVC.
func destKey(p migv1.PVCToMigrate) string { return destNamespace(p) + "/" + destName(p) }

// pvcs returns the spec's PVC entries (validation refused entries without a reference).
func (s *Scope) pvcs() []migv1.PVCToMigrate {
	return slices.DeleteFunc(slices.Clone(s.DVM.Spec.PersistentVolumeClaims), func(p migv1.PVCToMigrate) bool {
		return p.ObjectReference == nil
	})
}

// sourceNamespaces returns the source namespaces, sorted.
func (s *Scope) sourceNamespaces() []string {
	var out []string
	for _, p := range s.pvcs() {
		out = append(out, p.Namespace)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// destinationNamespaces returns the destination namespaces, sorted.
func (s *Scope) destinationNamespaces() []string {
	var out []string
	for _, p := range s.pvcs() {
		out = append(out, destNamespace(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// labels are the DVM's transfer labels.
func (s *Scope) labels() map[string]string { return transfer.Labels(string(s.DVM.UID)) }

// image is the transfer image: the MigrationController's rsync_transfer_image, else Ferry's.
func (s *Scope) image() string { return s.Settings.TransferImage }

// rsyncOptions are the rsync options in force: the MigrationController's rsync_opt_*
// settings. Extra options that fail transfer.ValidateExtra are left out (they never reach
// rsync); validation reports them with the RsyncOptionsIgnored warning.
func (s *Scope) rsyncOptions() transfer.RsyncOptions {
	o := s.Settings.Rsync
	extras, _ := transfer.ParseExtras(o.Extras)
	return transfer.RsyncOptions{Archive: o.Archive, HardLinks: o.HardLinks, Delete: o.Delete, Partial: o.Partial,
		BwLimit: o.BwLimit, Extras: extras}
}

// backOffLimit is the number of attempts per PVC: rsync_backoff_limit when set, else
// spec.backOffLimit, else 20 (MTC's order).
func (s *Scope) backOffLimit() int {
	switch {
	case s.Settings.RsyncBackoffLimit > 0:
		return s.Settings.RsyncBackoffLimit
	case s.DVM.Spec.BackOffLimit > 0:
		return s.DVM.Spec.BackOffLimit
	}
	return settings.DefaultRsyncBackoffLimit
}

// parallelTransfers is how many PVCs are transferred at once (rsync_parallel_transfers).
func (s *Scope) parallelTransfers() int {
	if s.Settings.RsyncParallelTransfers > 0 {
		return s.Settings.RsyncParallelTransfers
	}
	return settings.DefaultRsyncParallelTransfers
}

// warn records a Warn condition for this reconcile.
func (s *Scope) warn(conditionType, reason, message string) {
	s.warnings = append(s.warnings, migv1.Condition{
		Type: conditionType, Status: migv1.True, Reason: reason, Category: migv1.CategoryWarn, Message: message,
	})
}
