package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// Where a migration's objects live, as status.references names the cluster.
const (
	descOnHost        = "host"
	descOnSource      = "source"
	descOnDestination = "destination"
)

// descLogBytes bounds a hook pod's log tail: 20 lines of a runaway script can be megabytes.
const descLogBytes = 16 << 10

// newDescribeCommand is `ferry describe`: everything known about one migration, plan or
// cluster on one screen, so that a failure can be understood without knowing which of a
// dozen objects on three clusters holds its cause.
func newDescribeCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe (migration|plan|cluster) NAME",
		Short: "Show a migration, plan or cluster in detail: where it stands and why it failed",
		Long: `Show a migration, plan or cluster in detail, as plain text.

"describe migration" shows what the migration does (stage, cutover, rollback, state), where it
stands, its conditions and errors, its pipeline of steps, and the step that failed with its
cause. It then reads what the migration created: its Velero Backups (on the source cluster)
and Restores (on the destination cluster) with their item counts, errors and failure
reasons; its DirectVolumeMigrations with the state of each PVC and the rsync progress, exit
code and log tail of each; its DirectImageMigrations; and its hook Jobs with the end of their
pods' logs. A cluster that cannot be reached is reported and skipped.

"describe plan" shows the plan's clusters, replication repository, namespaces, persistent
volumes and hooks, its conditions (why it is not Ready) and its migrations, newest first.

"describe cluster" shows a MigCluster's URL, registry path and TLS settings, and its
conditions (why it is not Ready). It never shows the service account token.`,
		Example: `  # Why did a migration fail?
  ferry describe migration myapp-cutover-1

  # A plan, its volumes and its migrations
  ferry describe plan myapp

  # Why is a cluster not Ready?
  ferry describe cluster source`,
		// Without this, cobra shows the help and succeeds for "ferry describe migrtion x".
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("cannot describe %q: say migration, plan or cluster, then the name", args[0])
		},
	}
	cmd.AddCommand(
		newDescribeMigrationCommand(o),
		newDescribePlanCommand(o),
		newDescribeClusterCommand(o),
	)
	return cmd
}

// newDescribeMigrationCommand is `ferry describe migration NAME`; the aliases are the
// MTC kind names kubectl users know.
func newDescribeMigrationCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "migration NAME",
		Aliases: []string{"mig", "migrations", "migmigration", "migmigrations"},
		Short:   "Show a MigMigration, its pipeline, the step that failed and why",
		Args:    describeNameArg("MigMigration"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return describeMigration(cmd.Context(), o, args[0], o.Out)
		},
	}
}

// newDescribePlanCommand is `ferry describe plan NAME`.
func newDescribePlanCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "plan NAME",
		Aliases: []string{"plans", "migplan", "migplans"},
		Short:   "Show a MigPlan: clusters, namespaces, volumes, hooks, conditions and migrations",
		Args:    describeNameArg("MigPlan"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return describePlan(cmd.Context(), o, args[0], o.Out)
		},
	}
}

// newDescribeClusterCommand is `ferry describe cluster NAME`.
func newDescribeClusterCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "cluster NAME",
		Aliases: []string{"clusters", "migcluster", "migclusters"},
		Short:   "Show a MigCluster and the conditions that say why it is not Ready",
		Args:    describeNameArg("MigCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return describeCluster(cmd.Context(), o, args[0], o.Out)
		},
	}
}

// describeNameArg accepts exactly one argument, the name of the kind to describe, and says
// so in the error (cobra's own reads "accepts 1 arg(s), received 0").
func describeNameArg(kind string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return fmt.Errorf("give the name of the %s to describe", kind)
		case len(args) > 1:
			return fmt.Errorf("describe one %s at a time (got %d names)", kind, len(args))
		}
		return nil
	}
}

// describeGet reads a migration object of the host within remoteTimeout; a missing one is an
// error that says what was looked for and where.
func describeGet(ctx context.Context, c client.Client, kind, namespace, name string, obj client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %q not found in namespace %s", kind, name, namespace)
		}
		return fmt.Errorf("get %s %s/%s: %w", kind, namespace, name, err)
	}
	return nil
}

// describeCluster prints a MigCluster as stored: its conditions already say why it is not
// Ready, and describe does not read the token Secret, so it cannot print the token.
func describeCluster(ctx context.Context, o *Options, name string, out io.Writer) error {
	host, err := o.Client()
	if err != nil {
		return err
	}
	c := &migv1.MigCluster{}
	if err := describeGet(ctx, host, "MigCluster", o.Namespace(), name, c); err != nil {
		return err
	}
	_, err = io.WriteString(out, describeClusterText(c, time.Now()))
	return err
}

// describePlan prints a MigPlan and its migrations; a failure to list the migrations is shown
// in place of the list, the plan being what was asked for.
func describePlan(ctx context.Context, o *Options, name string, out io.Writer) error {
	host, err := o.Client()
	if err != nil {
		return err
	}
	d := &describedPlan{Plan: &migv1.MigPlan{}}
	if err := describeGet(ctx, host, "MigPlan", o.Namespace(), name, d.Plan); err != nil {
		return err
	}
	d.Migrations, err = describePlanMigrations(ctx, host, d.Plan)
	if err != nil {
		d.MigrationsError = err.Error()
	}
	_, err = io.WriteString(out, describePlanText(d, time.Now()))
	return err
}

// describePlanMigrations lists the MigMigrations whose spec.migPlanRef names the plan (a
// reference without a namespace means the migration's own, as the operator reads it).
func describePlanMigrations(ctx context.Context, c client.Client, plan *migv1.MigPlan) ([]migv1.MigMigration, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	list := &migv1.MigMigrationList{}
	if err := c.List(ctx, list, client.InNamespace(plan.Namespace)); err != nil {
		return nil, fmt.Errorf("list MigMigrations: %w", err)
	}
	var out []migv1.MigMigration
	for _, m := range list.Items {
		ref := m.Spec.MigPlanRef
		if ref != nil && ref.Name == plan.Name && (ref.Namespace == "" || ref.Namespace == plan.Namespace) {
			out = append(out, m)
		}
	}
	return out, nil
}

// describeMigration prints a MigMigration with everything it created, read first and
// rendered at once, so that the output is one consistent report.
func describeMigration(ctx context.Context, o *Options, name string, out io.Writer) error {
	host, err := o.Client()
	if err != nil {
		return err
	}
	m := &migv1.MigMigration{}
	if err := describeGet(ctx, host, "MigMigration", o.Namespace(), name, m); err != nil {
		return err
	}
	s := &describeSession{o: o, host: host, remotes: map[string]*describeRemote{}}
	d := s.gather(ctx, m)
	_, err = io.WriteString(out, describeMigrationText(d, time.Now()))
	return err
}

// describeSession reads what a migration created on the clusters of its plan. It connects
// to each cluster once and stops asking a cluster that did not answer, so that a cluster that
// is down costs one timeout rather than one per object.
type describeSession struct {
	o       *Options
	host    client.Client
	plan    *migv1.MigPlan
	remotes map[string]*describeRemote
}

// describeRemote is the connection to one cluster, or why there is none.
type describeRemote struct {
	clients *ClusterClients
	err     error
}

// gather reads the migration's plan and every object the migration created. A failure to
// read one object is recorded with it; gather itself never fails.
func (s *describeSession) gather(ctx context.Context, m *migv1.MigMigration) *describedMigration {
	d := &describedMigration{Migration: m}
	if ref := m.Spec.MigPlanRef; ref != nil && ref.Name != "" {
		ns := ref.Namespace
		if ns == "" {
			ns = m.Namespace
		}
		plan := &migv1.MigPlan{}
		if err := describeGet(ctx, s.host, "MigPlan", ns, ref.Name, plan); err != nil {
			d.PlanError = err.Error()
		} else {
			s.plan = plan
			d.Plan = plan
		}
	}
	var dvms, dims []types.NamespacedName
	for _, ref := range m.Status.References {
		key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
		switch ref.Kind {
		case "Backup", "Restore":
			d.Velero = append(d.Velero, s.velero(ctx, ref))
		case "Job":
			d.Hooks = append(d.Hooks, s.hook(ctx, ref))
		case "DirectVolumeMigration":
			dvms = append(dvms, key)
		case "DirectImageMigration":
			dims = append(dims, key)
		}
	}
	d.DVMs = s.dvms(ctx, m, dvms, d)
	d.DIMs = s.dims(ctx, m, dims, d)
	return d
}

// cluster returns the clients of the cluster a reference names: the host through the CLI's
// own kubeconfig, the source or destination through the plan's MigCluster.
func (s *describeSession) cluster(ctx context.Context, role string) (*ClusterClients, error) {
	if r, ok := s.remotes[role]; ok {
		return r.clients, r.err
	}
	r := &describeRemote{}
	r.clients, r.err = s.connect(ctx, role)
	s.remotes[role] = r
	return r.clients, r.err
}

// connect makes the clients of a cluster role, within remoteTimeout.
func (s *describeSession) connect(ctx context.Context, role string) (*ClusterClients, error) {
	var ref *corev1.ObjectReference
	switch role {
	case descOnHost:
		cs, err := s.o.Clientset()
		if err != nil {
			return nil, err
		}
		return &ClusterClients{Client: s.host, Clientset: cs}, nil
	case descOnSource, descOnDestination:
		if s.plan == nil {
			return nil, fmt.Errorf("the plan, which names the %s cluster, could not be read", role)
		}
		ref = s.plan.Spec.SrcMigClusterRef
		if role == descOnDestination {
			ref = s.plan.Spec.DestMigClusterRef
		}
	default:
		return nil, fmt.Errorf("unknown cluster %q", role)
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	cc, err := s.o.ClusterClients(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the %s cluster: %w", role, err)
	}
	return cc, nil
}

// check turns an error of a call to the cluster of role into what describe prints. An error
// that is no answer of the API server (a timeout, a refused connection, an untrusted
// certificate) or a rejected token marks the cluster unreachable, so that the next objects
// on it are not tried.
func (s *describeSession) check(role string, err error) error {
	if err == nil {
		return nil
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("not found on the %s cluster (deleted?)", role)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && !apierrors.IsUnauthorized(err) {
		return fmt.Errorf("not read: %w", err)
	}
	down := fmt.Errorf("the %s cluster cannot be reached: %w", role, clustercache.Classify(err))
	s.remotes[role] = &describeRemote{err: down}
	return down
}

// get reads one object of the cluster of role within remoteTimeout.
func (s *describeSession) get(ctx context.Context, role string, key types.NamespacedName, obj client.Object) error {
	cc, err := s.cluster(ctx, role)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	return s.check(role, cc.Client.Get(ctx, key, obj))
}

// list lists objects of the cluster of role within remoteTimeout.
func (s *describeSession) list(ctx context.Context, role string, list client.ObjectList, opts ...client.ListOption) error {
	cc, err := s.cluster(ctx, role)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	return s.check(role, cc.Client.List(ctx, list, opts...))
}

// velero reads a Backup or Restore the migration recorded in status.references.
func (s *describeSession) velero(ctx context.Context, ref migv1.MigrationReference) describedVelero {
	v := describedVelero{Ref: ref}
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	var obj client.Object
	if ref.Kind == "Backup" {
		v.Backup = &velerov1.Backup{}
		obj = v.Backup
	} else {
		v.Restore = &velerov1.Restore{}
		obj = v.Restore
	}
	if err := s.get(ctx, ref.Cluster, key, obj); err != nil {
		v.Backup, v.Restore, v.Error = nil, nil, err.Error()
	}
	return v
}

// dvms reads the migration's DVMs, those status.references names and those labelled with
// its UID, and the progress objects of each.
func (s *describeSession) dvms(ctx context.Context, m *migv1.MigMigration, refs []types.NamespacedName, d *describedMigration) []describedDVM {
	list := &migv1.DirectVolumeMigrationList{}
	if err := s.list(ctx, descOnHost, list, client.InNamespace(m.Namespace), client.MatchingLabels{migv1.DirectVolumeMigrationLabel: string(m.UID)}); err != nil {
		d.Errors = append(d.Errors, "DirectVolumeMigrations labelled with the migration: "+err.Error())
	}
	var out []describedDVM
	for i := range list.Items {
		out = append(out, describedDVM{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name, DVM: &list.Items[i]})
	}
	for _, key := range refs {
		if slices.ContainsFunc(out, func(x describedDVM) bool { return x.Namespace == key.Namespace && x.Name == key.Name }) {
			continue
		}
		x := describedDVM{Namespace: key.Namespace, Name: key.Name, DVM: &migv1.DirectVolumeMigration{}}
		if err := s.get(ctx, descOnHost, key, x.DVM); err != nil {
			x.DVM, x.Error = nil, err.Error()
		}
		out = append(out, x)
	}
	for i := range out {
		if out[i].DVM != nil {
			out[i].Progress, out[i].Error = s.dvmProgress(ctx, out[i].DVM)
		}
	}
	return out
}

// dvmProgress lists the DVM's DirectVolumeMigrationProgresses (labelled with its UID), in
// the order of the DVM's PVCs.
func (s *describeSession) dvmProgress(ctx context.Context, dvm *migv1.DirectVolumeMigration) ([]migv1.DirectVolumeMigrationProgress, string) {
	list := &migv1.DirectVolumeMigrationProgressList{}
	if err := s.list(ctx, descOnHost, list, client.InNamespace(dvm.Namespace), client.MatchingLabels{transfer.LabelDVM: string(dvm.UID)}); err != nil {
		return nil, "DirectVolumeMigrationProgresses: " + err.Error()
	}
	rank := func(p *migv1.DirectVolumeMigrationProgress) int {
		for i, pvc := range dvm.Spec.PersistentVolumeClaims {
			if pvc.ObjectReference != nil && transfer.ProgressName(dvm.Name, pvc.Name, pvc.Namespace) == p.Name {
				return i
			}
		}
		return len(dvm.Spec.PersistentVolumeClaims)
	}
	slices.SortStableFunc(list.Items, func(a, b migv1.DirectVolumeMigrationProgress) int {
		if ra, rb := rank(&a), rank(&b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Name, b.Name)
	})
	return list.Items, ""
}

// dims reads the migration's DIMs, those status.references names and those labelled with
// its UID.
func (s *describeSession) dims(ctx context.Context, m *migv1.MigMigration, refs []types.NamespacedName, d *describedMigration) []describedDIM {
	list := &migv1.DirectImageMigrationList{}
	if err := s.list(ctx, descOnHost, list, client.InNamespace(m.Namespace), client.MatchingLabels{migv1.DirectImageMigrationLabel: string(m.UID)}); err != nil {
		d.Errors = append(d.Errors, "DirectImageMigrations labelled with the migration: "+err.Error())
	}
	var out []describedDIM
	for i := range list.Items {
		out = append(out, describedDIM{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name, DIM: &list.Items[i]})
	}
	for _, key := range refs {
		if slices.ContainsFunc(out, func(x describedDIM) bool { return x.Namespace == key.Namespace && x.Name == key.Name }) {
			continue
		}
		x := describedDIM{Namespace: key.Namespace, Name: key.Name, DIM: &migv1.DirectImageMigration{}}
		if err := s.get(ctx, descOnHost, key, x.DIM); err != nil {
			x.DIM, x.Error = nil, err.Error()
		}
		out = append(out, x)
	}
	return out
}

// hook reads a hook Job the migration recorded and the log tail of its latest pod, which is
// where a hook's script says why it failed.
func (s *describeSession) hook(ctx context.Context, ref migv1.MigrationReference) describedHook {
	h := describedHook{Ref: ref, Job: &batchv1.Job{}}
	if err := s.get(ctx, ref.Cluster, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, h.Job); err != nil {
		h.Job, h.Error = nil, err.Error()
		return h
	}
	pod, err := s.latestPod(ctx, ref.Cluster, h.Job)
	switch {
	case err != nil:
		h.LogNote = "pods: " + err.Error()
	case pod == nil:
		h.LogNote = "no pod"
	default:
		h.Pod = pod.Name + " (" + string(pod.Status.Phase) + ")"
		h.Log, err = s.logTail(ctx, ref.Cluster, pod)
		switch {
		case err != nil:
			h.LogNote = err.Error()
		case strings.TrimSpace(h.Log) == "" && pod.Status.Phase == corev1.PodPending:
			h.LogNote = "empty: the pod has not started"
		case strings.TrimSpace(h.Log) == "":
			h.LogNote = "empty"
		}
	}
	return h
}

// latestPod is the Job's most recent pod, found by the Job's own selector; nil when none.
func (s *describeSession) latestPod(ctx context.Context, role string, job *batchv1.Job) (*corev1.Pod, error) {
	if job.Spec.Selector == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of Job %s: %w", job.Name, err)
	}
	pods := &corev1.PodList{}
	if err := s.list(ctx, role, pods, client.InNamespace(job.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	var latest *corev1.Pod
	for i := range pods.Items {
		if latest == nil || pods.Items[i].CreationTimestamp.After(latest.CreationTimestamp.Time) {
			latest = &pods.Items[i]
		}
	}
	return latest, nil
}

// logTail is the last descLogLines lines of the pod's first container.
func (s *describeSession) logTail(ctx context.Context, role string, pod *corev1.Pod) (string, error) {
	cc, err := s.cluster(ctx, role)
	if err != nil {
		return "", err
	}
	opts := &corev1.PodLogOptions{TailLines: ptr.To[int64](descLogLines), LimitBytes: ptr.To[int64](descLogBytes)}
	if len(pod.Spec.Containers) > 0 {
		opts.Container = pod.Spec.Containers[0].Name
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	raw, err := cc.Clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).DoRaw(ctx)
	if err != nil {
		return "", s.check(role, err)
	}
	return string(raw), nil
}
