package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func newPlanCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "plan",
		Aliases: []string{"plans", "migplan"},
		Short:   "Create migration plans (MigPlan)",
	}
	cmd.AddCommand(newPlanCreateCommand(o))
	return cmd
}

type planCreateOptions struct {
	source, destination, storage    string
	namespaces                      []string
	volumes                         volumeFlags
	indirectVolumes, indirectImages bool
	wait                            time.Duration
}

func newPlanCreateCommand(o *Options) *cobra.Command {
	var a planCreateOptions
	cmd := &cobra.Command{
		Use:   "create NAME --source CLUSTER --namespaces NS[:DEST],...",
		Short: "Create a MigPlan, wait until it is Ready, and apply the volume selections",
		Long: `Create a migration plan: which namespaces move from which cluster to which, through which
replication repository. The operator then validates the plan and lists its persistent
volumes (spec.persistentVolumes); ferry waits for that, applies the volume selections given
by flags (skip a PVC, rename it on the destination, choose its storage class, access mode,
copy method, checksum verification), and waits until the plan is Ready again. When it is not,
the conditions that block it are printed and ferry exits 1.

The destination defaults to the host cluster (the MigCluster with isHostCluster), and the
repository to the only MigStorage when there is exactly one.`,
		Example: `  # shop moves to shop-prod; its PVC data is copied as data-new, on the fast storage class
  ferry plan create shop --source source --namespaces shop:shop-prod \
      --pvc-rename shop/data:data-new --storage-class shop/data=fast --verify

  # two namespaces, one volume left behind
  ferry plan create apps --source source --storage s3 --namespaces web,db --skip-pvc db/scratch`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.createPlan(cmd.Context(), args[0], a) },
	}
	f := cmd.Flags()
	f.StringVar(&a.source, "source", "", "MigCluster to migrate from (required)")
	f.StringVar(&a.destination, "destination", "", "MigCluster to migrate to (default: the host cluster)")
	f.StringVar(&a.storage, "storage", "", "MigStorage (replication repository) to use (default: the only one)")
	f.StringSliceVar(&a.namespaces, "namespaces", nil, "namespaces to migrate, as NS or SOURCE:DESTINATION (required; repeat or comma-separate)")
	a.volumes.addFlags(cmd)
	f.BoolVar(&a.indirectVolumes, "indirect-volume-migration", false, "copy volume data through the repository instead of directly (spec.indirectVolumeMigration)")
	f.BoolVar(&a.indirectImages, "indirect-image-migration", false, "copy images through the repository instead of directly (spec.indirectImageMigration)")
	f.DurationVar(&a.wait, "wait", 3*time.Minute, "how long to wait for the plan to be Ready")
	_ = cmd.MarkFlagRequired("source")
	_ = cmd.MarkFlagRequired("namespaces")
	return cmd
}

func (o *Options) createPlan(ctx context.Context, name string, a planCreateOptions) error {
	if err := a.volumes.parse(); err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	ns := o.Namespace()
	destination, err := o.defaultName(ctx, a.destination, "--destination", &migv1.MigClusterList{}, func(obj client.Object) bool {
		return obj.(*migv1.MigCluster).Spec.IsHostCluster
	})
	if err != nil {
		return err
	}
	storage, err := o.defaultName(ctx, a.storage, "--storage", &migv1.MigStorageList{}, func(client.Object) bool { return true })
	if err != nil {
		return err
	}
	plan := &migv1.MigPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: migv1.MigPlanSpec{
		Namespaces:              a.namespaces,
		SrcMigClusterRef:        &corev1.ObjectReference{Namespace: ns, Name: a.source},
		DestMigClusterRef:       &corev1.ObjectReference{Namespace: ns, Name: destination},
		MigStorageRef:           &corev1.ObjectReference{Namespace: ns, Name: storage},
		IndirectVolumeMigration: a.indirectVolumes,
		IndirectImageMigration:  a.indirectImages,
	}}
	if err := c.Create(ctx, plan); err != nil {
		return fmt.Errorf("create MigPlan %s: %w", name, err)
	}
	o.printf("MigPlan %s/%s created.\n", ns, name)
	if err := o.waitReady(ctx, plan, a.wait); err != nil {
		return err
	}
	if a.volumes.empty() {
		printVolumes(o, plan)
		return nil
	}
	before := plan.DeepCopy()
	if err := a.volumes.apply(plan.Spec.PersistentVolumes); err != nil {
		return err
	}
	if err := c.Patch(ctx, plan, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("apply the volume selections to MigPlan %s: %w", name, err)
	}
	o.println("Volume selections applied.")
	if err := o.waitReady(ctx, plan, a.wait); err != nil {
		return err
	}
	printVolumes(o, plan)
	return nil
}

// printVolumes lists what the plan will do with each volume.
func printVolumes(o *Options, plan *migv1.MigPlan) {
	if len(plan.Spec.PersistentVolumes) == 0 {
		o.println("The plan has no persistent volumes.")
		return
	}
	o.println("Persistent volumes:")
	for _, pv := range plan.Spec.PersistentVolumes {
		o.printf("  %s\n", volumeLine(pv))
	}
}

// defaultName is name, or else the one object of list's kind that matches, so that a user
// with one repository and one host cluster need not name them.
func (o *Options) defaultName(ctx context.Context, name, flag string, list client.ObjectList, match func(client.Object) bool) (string, error) {
	if name != "" {
		return name, nil
	}
	c, err := o.Client()
	if err != nil {
		return "", err
	}
	if err := c.List(ctx, list, client.InNamespace(o.Namespace())); err != nil {
		return "", fmt.Errorf("list to choose %s: %w", flag, err)
	}
	var found []string
	for _, obj := range objects(list) {
		if match(obj) {
			found = append(found, obj.GetName())
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%s is required: %d candidates in namespace %s %v", flag, len(found), o.Namespace(), found)
	}
	return found[0], nil
}
