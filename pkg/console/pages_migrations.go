package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/migview"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

func (s *Server) loadMigrations(ctx context.Context, c client.Client, _ string) (any, error) {
	list := &migv1.MigMigrationList{}
	if err := c.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		return nil, fmt.Errorf("list MigMigrations: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[j].CreationTimestamp.Before(&list.Items[i].CreationTimestamp) })
	rows := make([]migrationRow, 0, len(list.Items))
	for i := range list.Items {
		m := &list.Items[i]
		rows = append(rows, migrationRow{Name: m.Name, Kind: migrationKind(m) + " of " + refName(m.Spec.MigPlanRef), Phase: migview.Phase(m),
			Outcome: migview.Outcome(m), Started: m.CreationTimestamp.Format("2006-01-02 15:04:05")})
	}
	return rows, nil
}

func (s *Server) migrationsPage(w http.ResponseWriter, r *http.Request, req *request) {
	s.listPage(w, r, req, "migrations", "Migrations", nil, "")
}

// loadMigration reads the migration with its volume and image copies, as the CLI's live view
// reads them (pkg/cli follow.go), and computes the page.
func (s *Server) loadMigration(ctx context.Context, c client.Client, name string) (any, error) {
	ns := s.namespace
	m := &migv1.MigMigration{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, m); err != nil {
		return nil, fmt.Errorf("read MigMigration %s: %w", name, err)
	}
	dvms := &migv1.DirectVolumeMigrationList{}
	if err := c.List(ctx, dvms, client.InNamespace(ns), client.MatchingLabels{migv1.DirectVolumeMigrationLabel: string(m.UID)}); err != nil {
		return nil, fmt.Errorf("list DirectVolumeMigrations: %w", err)
	}
	volumes := migview.VolumeRows(m, dvms.Items, func(dvm, pvc, pvcNamespace string) *migv1.DirectVolumeMigrationProgress {
		p := &migv1.DirectVolumeMigrationProgress{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: transfer.ProgressName(dvm, pvc, pvcNamespace)}, p); err != nil {
			return nil
		}
		return p
	})
	dims := &migv1.DirectImageMigrationList{}
	if err := c.List(ctx, dims, client.InNamespace(ns), client.MatchingLabels{migv1.DirectImageMigrationLabel: string(m.UID)}); err != nil {
		return nil, fmt.Errorf("list DirectImageMigrations: %w", err)
	}
	return migrationView(m, volumes, dims.Items, s.now()), nil
}

func (s *Server) migrationPage(w http.ResponseWriter, r *http.Request, req *request) {
	name := r.PathValue("name")
	ctx, cancel := timeout(r)
	defer cancel()
	data, err := s.loadMigration(ctx, req.client, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.viewFor(req, "Migration "+name, "migrations")
	v.D, v.Live = data, "/events?view=migration&name="+name
	s.render(w, http.StatusOK, "migration", v)
}

// migrate starts a stage, cutover or rollback of the plan as the user.
func (s *Server) migrate(w http.ResponseWriter, r *http.Request, req *request) {
	plan := r.PathValue("name")
	kind := r.PostFormValue("kind")
	spec, err := migrationSpec(kind, r.PostFormValue("quiesce") == "on")
	if err != nil {
		s.renderPlan(w, r, req, err.Error())
		return
	}
	spec.MigPlanRef = &corev1.ObjectReference{Namespace: s.namespace, Name: plan}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, GenerateName: plan + "-" + kind + "-"}, Spec: spec}
	ctx, cancel := timeout(r)
	defer cancel()
	if err := req.client.Create(ctx, m); err != nil {
		s.renderPlan(w, r, req, fmt.Sprintf("The %s was not started: %v", kind, err))
		return
	}
	see(w, r, "/migrations/"+m.Name)
}

// cancel sets spec.canceled, as `oc patch` would; the operator then winds the migration down.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, req *request) {
	name := r.PathValue("name")
	ctx, cancel := timeout(r)
	defer cancel()
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: name}}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"canceled":true}}`))
	if err := req.client.Patch(ctx, m, patch); err != nil {
		s.fail(w, r, fmt.Errorf("cancel MigMigration %s: %w", name, err))
		return
	}
	see(w, r, "/migrations/"+name)
}
