package migmigration

import (
	"context"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// Exported for the envtest suite (package migmigration_test), which has the API server.

// rollbackScope is the scope of migration m of plan on a destination cluster (c, cfg).
func rollbackScope(c client.Client, cfg *rest.Config, plan *migv1.MigPlan, m *migv1.MigMigration) *Scope {
	return &Scope{Migration: m, Plan: plan, Destination: Remote{Cluster: &migv1.MigCluster{}, Client: c, Config: cfg}, Now: time.Now}
}

// LabelRestored runs what a Restore's completion does: label what it created.
func LabelRestored(ctx context.Context, c client.Client, cfg *rest.Config, plan *migv1.MigPlan, m *migv1.MigMigration, restore *velerov1.Restore) error {
	return labelRestored(ctx, rollbackScope(c, cfg, plan, m), restore)
}

// DeleteMigrated runs a rollback's DeleteMigrated phase.
func DeleteMigrated(ctx context.Context, c client.Client, cfg *rest.Config, plan *migv1.MigPlan, m *migv1.MigMigration) error {
	_, err := deleteMigrated(ctx, rollbackScope(c, cfg, plan, m))
	return err
}

// SwapPVCReferences runs a storage conversion's SwapPVCReferences phase on cluster (c, cfg),
// the conversion's source and destination.
func SwapPVCReferences(ctx context.Context, c client.Client, cfg *rest.Config, plan *migv1.MigPlan, m *migv1.MigMigration) (itinerary.Outcome, error) {
	s := rollbackScope(c, cfg, plan, m)
	s.Source = s.Destination
	return swapPVCReferences(ctx, s)
}
