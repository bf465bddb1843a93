package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/migview"
)

func (s *Server) loadPlans(ctx context.Context, c client.Client, _ string) (any, error) {
	list := &migv1.MigPlanList{}
	if err := c.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		return nil, fmt.Errorf("list MigPlans: %w", err)
	}
	rows := make([]row, 0, len(list.Items))
	for _, p := range list.Items {
		detail := fmt.Sprintf("%s → %s: %v", refName(p.Spec.SrcMigClusterRef), refName(p.Spec.DestMigClusterRef), p.Spec.Namespaces)
		rows = append(rows, row{Name: p.Name, Detail: detail, Ready: readyOf(p.Status.Conditions), Conditions: p.Status.Conditions})
	}
	return rows, nil
}

func refName(ref *corev1.ObjectReference) string {
	if ref == nil {
		return "?"
	}
	return ref.Name
}

func isConflict(err error) bool { return apierrors.IsConflict(err) }

// wizard is what the plan wizard offers: the clusters and repositories, and the namespaces of
// the chosen source cluster the user may see.
type wizard struct {
	Clusters, Storages []string
	Host               string
	Source             string
	Namespaces         []string
	// NamespacesNote says why no list is shown, or that the list is filtered.
	NamespacesNote string
}

func (s *Server) loadWizard(ctx context.Context, c client.Client, source string) (wizard, error) {
	wz := wizard{Source: source}
	clusters := &migv1.MigClusterList{}
	if err := c.List(ctx, clusters, client.InNamespace(s.namespace)); err != nil {
		return wz, fmt.Errorf("list MigClusters: %w", err)
	}
	for _, m := range clusters.Items {
		wz.Clusters = append(wz.Clusters, m.Name)
		if m.Spec.IsHostCluster {
			wz.Host = m.Name
		}
	}
	storages := &migv1.MigStorageList{}
	if err := c.List(ctx, storages, client.InNamespace(s.namespace)); err != nil {
		return wz, fmt.Errorf("list MigStorages: %w", err)
	}
	for _, m := range storages.Items {
		wz.Storages = append(wz.Storages, m.Name)
	}
	if source != "" {
		wz.Namespaces, wz.NamespacesNote = s.sourceNamespaces(ctx, c, source)
	}
	return wz, nil
}

func (s *Server) plansPage(w http.ResponseWriter, r *http.Request, req *request) {
	s.renderPlans(w, r, req, nil, "")
}

func (s *Server) renderPlans(w http.ResponseWriter, r *http.Request, req *request, form map[string]string, formErr string) {
	ctx, cancel := timeout(r)
	defer cancel()
	rows, err := s.loadPlans(ctx, req.client, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	source := r.FormValue("source")
	wz, err := s.loadWizard(ctx, req.client, source)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.viewFor(req, "Migration plans", "plans")
	v.D, v.E, v.Live, v.Form, v.Error = rows, wz, "/events?view=plans", form, formErr
	status := http.StatusOK
	if formErr != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, status, "plans", v)
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request, req *request) {
	f, err := planFormOf(r.PostForm)
	var plan *migv1.MigPlan
	if err == nil {
		plan, err = f.plan(s.namespace)
	}
	if err == nil {
		ctx, cancel := timeout(r)
		defer cancel()
		if err = req.client.Create(ctx, plan); err != nil {
			err = fmt.Errorf("create MigPlan %s: %w", f.Name, err)
		}
	}
	if err != nil {
		s.renderPlans(w, r, req, map[string]string{"name": f.Name, "destination": f.Destination, "storage": f.Storage, "more": r.PostFormValue("more")},
			"The plan was not created: "+err.Error())
		return
	}
	see(w, r, "/plans/"+plan.Name)
}

// planData is the plan page's live part.
type planData struct {
	Plan       *migv1.MigPlan
	Ready      bool
	Migrations []migrationRow
	Hooks      []hookRow
}

type migrationRow struct {
	Name, Kind, Phase, Outcome string
	Started                    string
}

type hookRow struct {
	Name, Phase, Image, Cluster string
}

func (s *Server) loadPlan(ctx context.Context, c client.Client, name string) (any, error) {
	plan := &migv1.MigPlan{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: name}, plan); err != nil {
		return nil, fmt.Errorf("read MigPlan %s: %w", name, err)
	}
	d := planData{Plan: plan, Ready: readyOf(plan.Status.Conditions)}
	migrations := &migv1.MigMigrationList{}
	if err := c.List(ctx, migrations, client.InNamespace(s.namespace)); err != nil {
		return nil, fmt.Errorf("list MigMigrations: %w", err)
	}
	sort.Slice(migrations.Items, func(i, j int) bool {
		return migrations.Items[j].CreationTimestamp.Before(&migrations.Items[i].CreationTimestamp)
	})
	for i := range migrations.Items {
		m := &migrations.Items[i]
		if m.Spec.MigPlanRef == nil || m.Spec.MigPlanRef.Name != name {
			continue
		}
		d.Migrations = append(d.Migrations, migrationRow{Name: m.Name, Kind: migrationKind(m), Phase: migview.Phase(m),
			Outcome: migview.Outcome(m), Started: m.CreationTimestamp.Format("2006-01-02 15:04:05")})
	}
	for _, h := range plan.Spec.Hooks {
		hr := hookRow{Name: refName(h.Reference), Phase: h.Phase}
		hook := &migv1.MigHook{}
		if h.Reference != nil && c.Get(ctx, types.NamespacedName{Namespace: h.Reference.Namespace, Name: h.Reference.Name}, hook) == nil {
			hr.Image, hr.Cluster = hook.Spec.Image, hook.Spec.TargetCluster
		}
		d.Hooks = append(d.Hooks, hr)
	}
	return d, nil
}

// migrationKind is what the user asked for: a stage, a cutover, a state migration, a rollback.
func migrationKind(m *migv1.MigMigration) string {
	switch {
	case m.Spec.Rollback:
		return "rollback"
	case m.Spec.MigrateState:
		return "state"
	case m.Spec.Stage:
		return "stage"
	}
	return "cutover"
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request, req *request) {
	s.renderPlan(w, r, req, "")
}

func (s *Server) renderPlan(w http.ResponseWriter, r *http.Request, req *request, formErr string) {
	name := r.PathValue("name")
	ctx, cancel := timeout(r)
	defer cancel()
	data, err := s.loadPlan(ctx, req.client, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.viewFor(req, "Plan "+name, "plans")
	v.D, v.Live, v.Error = data, "/events?view=plan&name="+name, formErr
	v.E = map[string]any{"Phases": hookPhases}
	status := http.StatusOK
	if formErr != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, status, "plan", v)
}

// updatePlan reads the plan, changes it and writes it back as the user; a conflict (the
// operator wrote it meanwhile) is retried on a fresh copy.
func (s *Server) updatePlan(ctx context.Context, c client.Client, name string, change func(*migv1.MigPlan) error) error {
	for attempt := 0; ; attempt++ {
		plan := &migv1.MigPlan{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: name}, plan); err != nil {
			return fmt.Errorf("read MigPlan %s: %w", name, err)
		}
		if err := change(plan); err != nil {
			return err
		}
		err := c.Update(ctx, plan)
		if err == nil {
			return nil
		}
		if !isConflict(err) || attempt >= 3 {
			return fmt.Errorf("update MigPlan %s: %w", name, err)
		}
	}
}

func (s *Server) saveVolumes(w http.ResponseWriter, r *http.Request, req *request) {
	name := r.PathValue("name")
	ctx, cancel := timeout(r)
	defer cancel()
	err := s.updatePlan(ctx, req.client, name, func(p *migv1.MigPlan) error { return applyVolumes(p.Spec.PersistentVolumes, r.PostForm) })
	if err != nil {
		s.renderPlan(w, r, req, "The volumes were not saved: "+err.Error())
		return
	}
	see(w, r, "/plans/"+name)
}

func (s *Server) addHook(w http.ResponseWriter, r *http.Request, req *request) {
	name := r.PathValue("name")
	f, err := hookFormOf(r.PostForm)
	var hook *migv1.MigHook
	var ref migv1.MigPlanHook
	if err == nil {
		hook, ref, err = f.objects(s.namespace)
	}
	ctx, cancel := timeout(r)
	defer cancel()
	if err == nil {
		if err = req.client.Create(ctx, hook); err != nil {
			err = fmt.Errorf("create MigHook %s: %w", hook.Name, err)
		}
	}
	if err == nil {
		err = s.updatePlan(ctx, req.client, name, func(p *migv1.MigPlan) error {
			p.Spec.Hooks = append(p.Spec.Hooks, ref)
			return nil
		})
	}
	if err != nil {
		s.renderPlan(w, r, req, "The hook was not added: "+err.Error())
		return
	}
	see(w, r, "/plans/"+name)
}
