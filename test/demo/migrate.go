package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/test/controlplane"
)

// migrationTimeout bounds one migration of the demo.
const migrationTimeout = 5 * time.Minute

// migrate applies a MigMigration sample and prints its progress until it completes.
func migrate(ctx context.Context, out io.Writer, cp *controlplane.ControlPlane, path string) (*migv1.MigMigration, error) {
	var m *migv1.MigMigration
	err := applySample(ctx, cp, path, func(obj client.Object) {
		if mm, ok := obj.(*migv1.MigMigration); ok {
			m = mm
		}
	})
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%s holds no MigMigration", path)
	}
	say(out, "Applied MigMigration %s (stage: %v, quiescePods: %v)", m.Name, m.Spec.Stage, m.Spec.QuiescePods)
	ctx, cancel := context.WithTimeout(ctx, migrationTimeout)
	defer cancel()
	last := ""
	for {
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(m), m); err != nil {
			return nil, fmt.Errorf("get MigMigration %s: %w", m.Name, err)
		}
		if line := progressLine(m); line != last {
			say(out, "  %s", line)
			last = line
		}
		if m.Status.Phase == "Completed" {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("MigMigration %s did not complete in %s (see the operator log): %w", m.Name, migrationTimeout, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// progressLine is what a user reads in `kubectl get migmigration` and its Running condition.
func progressLine(m *migv1.MigMigration) string {
	if m.Status.Phase == "Completed" {
		var ends []string
		for _, t := range []string{migv1.Succeeded, migv1.SucceededWithWarnings, migv1.Failed, migv1.Canceled} {
			if c := conditions.Find(m.Status.Conditions, t); c != nil {
				ends = append(ends, t+": "+c.Message)
			}
		}
		for _, c := range m.Status.Conditions {
			if c.Category == migv1.CategoryWarn || c.Category == migv1.CategoryCritical {
				ends = append(ends, c.Type+": "+c.Message)
			}
		}
		ends = append(ends, m.Status.Errors...)
		return fmt.Sprintf("%s Completed. %s", m.Status.Itinerary, strings.Join(ends, " "))
	}
	for _, c := range m.Status.Conditions {
		if conditions.IsBlocker(c) {
			return fmt.Sprintf("waiting: %s: %s", c.Type, c.Message)
		}
	}
	c := conditions.Find(m.Status.Conditions, migv1.Running)
	if m.Status.Phase == "" || c == nil {
		return "waiting for the operator"
	}
	return fmt.Sprintf("%s %s (%s)", m.Status.Itinerary, m.Status.Phase, c.Message)
}

// describeResult prints where the sample application runs after the cutover.
func describeResult(ctx context.Context, out io.Writer, source, destination client.Client) {
	for _, pair := range [][3]string{{"demo-app", "demo-app", ""}, {"demo-db", "demo-db-migrated", ""}} {
		src, dst := replicas(ctx, source, pair[0]), replicas(ctx, destination, pair[1])
		say(out, "  Deployment web: source %s has %s replicas, destination %s has %s", pair[0], src, pair[1], dst)
	}
}

func replicas(ctx context.Context, c client.Client, ns string) string {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, d); err != nil {
		return "no"
	}
	return fmt.Sprint(ptr.Deref(d.Spec.Replicas, 1))
}
