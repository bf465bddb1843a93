package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// migrateVerb is one of the verbs that create a MigMigration.
type migrateVerb struct {
	name, short, long string
	spec              func(a migrateOptions) migv1.MigMigrationSpec
}

var (
	stageVerb = migrateVerb{name: "stage", short: "Copy the plan's volume data while the applications keep running (a stage MigMigration)",
		long: `Create a stage migration of the plan: its persistent volumes' data is copied to the
destination while the applications keep running on the source, so that the cutover only has
to copy what changed since. Run it as often as you like.`,
		spec: func(a migrateOptions) migv1.MigMigrationSpec { return migv1.MigMigrationSpec{Stage: true} }}
	cutoverVerb = migrateVerb{name: "cutover", short: "Move the applications: quiesce, copy the rest, restore on the destination (a final MigMigration)",
		long: `Create the final migration of the plan: the source applications are scaled down (unless
--quiesce=false), their objects are backed up, the volume data still to copy is copied, and
everything is restored on the destination, where the applications start.`,
		spec: func(a migrateOptions) migv1.MigMigrationSpec {
			return migv1.MigMigrationSpec{QuiescePods: a.quiesce, KeepAnnotations: a.keepAnnotations, Verify: a.verify}
		}}
	rollbackVerb = migrateVerb{name: "rollback", short: "Undo the plan's migration: delete what it restored, start the source applications again",
		long: `Create a rollback migration of the plan: what the plan's migrations restored on the
destination is deleted and the applications on the source are started again.`,
		spec: func(a migrateOptions) migv1.MigMigrationSpec { return migv1.MigMigrationSpec{Rollback: true} }}
)

type migrateOptions struct {
	name, output                    string
	watch, quiesce, keepAnnotations bool
	verify                          bool
}

func newMigrateCommand(o *Options, v migrateVerb) *cobra.Command {
	var a migrateOptions
	cmd := &cobra.Command{
		Use:   v.name + " PLAN",
		Short: v.short,
		Long: v.long + `

The MigMigration is the one "kubectl apply" of MTC's YAML would create. With --watch (the
default when the output is a terminal) ferry shows the migration live: one line per step of
its pipeline, one progress bar per volume and per image stream, and ends with the outcome:
exit code 0 when it succeeded, 1 when it failed or was canceled. Ctrl-C stops watching, not
the migration (use "ferry cancel").`,
		Example: fmt.Sprintf("  ferry %s myapp\n  ferry %s myapp --watch=false -o yaml", v.name, v.name),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("watch") {
				a.watch = o.isTerminal() && a.output == ""
			}
			return o.migrate(cmd.Context(), args[0], v, a)
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.name, "name", "", "name of the MigMigration (default: PLAN-"+v.name+"-<time>)")
	f.BoolVarP(&a.watch, "watch", "w", false, "show the migration live until it ends (default: when the output is a terminal)")
	f.StringVarP(&a.output, "output", "o", "", "print the created MigMigration as json or yaml")
	if v.name == cutoverVerb.name {
		f.BoolVar(&a.quiesce, "quiesce", true, "scale the source applications down before the final copy")
		f.BoolVar(&a.keepAnnotations, "keep-annotations", false, "keep the migration's annotations and labels on the migrated objects")
		f.BoolVar(&a.verify, "verify", false, "check the health of the migrated pods afterwards")
	}
	return cmd
}

func (o *Options) migrate(ctx context.Context, plan string, v migrateVerb, a migrateOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	ns := o.Namespace()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: plan}, &migv1.MigPlan{}); err != nil {
		return fmt.Errorf("MigPlan %s/%s: %w", ns, plan, err)
	}
	spec := v.spec(a)
	spec.MigPlanRef = &corev1.ObjectReference{Namespace: ns, Name: plan}
	m := &migv1.MigMigration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.name}, Spec: spec}
	if m.Name == "" {
		m.Name = migrationName(plan, v.name, time.Now())
	}
	if err := c.Create(ctx, m); err != nil {
		return fmt.Errorf("create MigMigration %s: %w", m.Name, err)
	}
	if err := o.printObject(m, a.output); err != nil {
		return err
	}
	if a.output == "" {
		o.printf("MigMigration %s/%s created (%s of plan %s).\n", ns, m.Name, v.name, plan)
	}
	if !a.watch {
		return nil
	}
	return o.follow(ctx, m.Name, false)
}

// migrationName is PLAN-VERB-<UTC time>: readable, sortable, and unique per second; it is
// cut to fit a label value (MTC puts the name in labels).
func migrationName(plan, verb string, now time.Time) string {
	suffix := "-" + verb + "-" + now.UTC().Format("20060102-150405")
	if max := 63 - len(suffix); len(plan) > max {
		plan = plan[:max]
	}
	return plan + suffix
}

func (o *Options) printObject(obj client.Object, format string) error {
	var b []byte
	var err error
	switch format {
	case "":
		return nil
	case "yaml":
		b, err = yaml.Marshal(obj)
	case "json":
		b, err = jsonIndent(obj)
	default:
		return fmt.Errorf("--output %q: json or yaml", format)
	}
	if err != nil {
		return err
	}
	_, err = o.Out.Write(b)
	return err
}

// isTerminal says whether the output is a terminal, where the live view redraws itself.
func (o *Options) isTerminal() bool {
	f, ok := o.Out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the output terminal's number of columns, 0 when it is not a terminal or
// does not say.
func (o *Options) terminalWidth() int {
	f, ok := o.Out.(*os.File)
	if !ok {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

func newCancelCommand(o *Options) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "cancel MIGRATION",
		Short: "Cancel a running migration (spec.canceled) and follow it until it is Canceled",
		Long: `Set spec.canceled on a MigMigration: the operator stops it, deletes what it created for it
and starts the source applications again. With --watch (the default in a terminal) ferry
follows the cancel to its end and exits 0 once the migration is Canceled.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			m := &migv1.MigMigration{}
			if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: o.Namespace(), Name: args[0]}, m); err != nil {
				return fmt.Errorf("MigMigration %s: %w", args[0], err)
			}
			before := m.DeepCopy()
			m.Spec.Canceled = true
			if err := c.Patch(cmd.Context(), m, client.MergeFrom(before)); err != nil {
				return fmt.Errorf("cancel MigMigration %s: %w", m.Name, err)
			}
			o.printf("MigMigration %s/%s canceled.\n", m.Namespace, m.Name)
			if !cmd.Flags().Changed("watch") {
				watch = o.isTerminal()
			}
			if !watch {
				return nil
			}
			return o.follow(cmd.Context(), m.Name, true)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the migration until it ends (default: when the output is a terminal)")
	return cmd
}

func newWatchCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "watch MIGRATION",
		Short: "Show a migration live until it ends: steps, per-volume and per-image-stream progress",
		Long: `Follow a MigMigration, as stage and cutover --watch do: one line per pipeline step, one
progress bar per volume (percent, bytes, rate, estimated time left) and per image stream,
then the outcome. Exit code 0 when it succeeded, 1 when it failed or was canceled. Output
that is not a terminal gets plain lines, one per change.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.follow(cmd.Context(), args[0], false) },
	}
}
