package migmigration

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/stagepod"
	"github.com/ferrymtc/ferry/pkg/workloads"
)

// Where EnsureStagePodsFrom* take a claim's stage pod from (see pkg/stagepod).
type stagePodOrigin int

const (
	fromRunning stagePodOrigin = iota
	fromTemplates
	fromOrphanedClaims
)

// indirectClaims returns the source claims whose data goes through stage pods, by namespace:
// the plan's PVs copied with the filesystem method (block copies are refused at plan time).
func indirectClaims(plan *migv1.MigPlan) map[string][]string {
	out := map[string][]string{}
	for _, pv := range plan.Spec.PersistentVolumes {
		if pv.Selection.Action != migv1.PvCopyAction || !directCopy(pv.Selection.CopyMethod) {
			continue
		}
		if src, _, err := mapping.Parse(pv.PVC.Name); err == nil {
			out[pv.PVC.Namespace] = append(out[pv.PVC.Namespace], src)
		}
	}
	return out
}

// ensureStagePods returns the step that creates the stage pods of the claims origin finds:
// claims of running pods (on their node, with their security context), claims of workload
// templates, or the rest. A claim that already has its stage pod is left alone, so each
// claim gets one pod whichever phase finds it first.
func ensureStagePods(origin stagePodOrigin) RunFunc {
	return func(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
		c, uid := s.Source.Client, string(s.Migration.UID)
		created, held := 0, 0
		for ns, claims := range indirectClaims(s.Plan) {
			existing, err := stagePods(ctx, c, ns, client.MatchingLabels{stagepod.MigrationLabel: uid})
			if err != nil {
				return itinerary.Outcome{}, err
			}
			have := map[string]bool{}
			for _, p := range existing {
				have[p.Annotations[stagepod.ClaimAnnotation]] = true
			}
			held += len(existing)
			sources, err := claimSources(ctx, c, ns, origin)
			if err != nil {
				return itinerary.Outcome{}, err
			}
			for _, claim := range claims {
				src, found := sources[claim]
				if have[claim] || (!found && origin != fromOrphanedClaims) {
					continue
				}
				pod := stagepod.New(stagepod.Spec{MigrationUID: uid, Namespace: ns, Claim: claim, Image: s.Settings.TransferImage, Source: src})
				if err := c.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
					return itinerary.Outcome{}, fmt.Errorf("create stage pod %s/%s on the source cluster: %w", ns, pod.Name, err)
				}
				created++
			}
		}
		// Also when the pods were created before a crash that lost this status: the condition
		// tells Cancel and Failed that there are stage pods to delete.
		if created+held > 0 {
			c := conditions.Advisory(migv1.StagePodsCreated, "", "Stage pods created.")
			c.Durable = true
			conditions.Set(s.Migration, c, nowMeta(s.Now))
		}
		s.setProgress(fmt.Sprintf("%d stage pods created.", created))
		return itinerary.Done(), nil
	}
}

// claimSources maps the claims of namespace that origin knows to what their stage pods copy.
func claimSources(ctx context.Context, c client.Client, ns string, origin stagePodOrigin) (map[string]stagepod.Source, error) {
	out := map[string]stagepod.Source{}
	switch origin {
	case fromRunning:
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list pods of %s on the source cluster: %w", ns, err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if !stagepod.Running(p) || p.Labels[stagepod.StagePodLabel] == "true" {
				continue
			}
			for _, claim := range stagepod.Claims(&p.Spec) {
				out[claim] = stagepod.FromPod(p)
			}
		}
	case fromTemplates:
		// StatefulSets' volumeClaimTemplates are left to the orphaned claims' stage pods.
		templates, err := workloads.Templates(ctx, func(ctx context.Context, l client.ObjectList) error {
			if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("list %T of %s on the source cluster: %w", l, ns, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i := range templates {
			spec := &templates[i].Spec
			for _, claim := range stagepod.Claims(spec) {
				if _, ok := out[claim]; !ok {
					out[claim] = stagepod.FromTemplate(spec)
				}
			}
		}
	}
	return out, nil
}

// stagePodsCreated waits until every stage pod of the migration runs: Velero's node-agent
// backs up only the volumes of running pods.
func stagePodsCreated(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	var lines []string
	running, total := 0, 0
	for _, ns := range s.sourceNamespaces() {
		pods, err := stagePods(ctx, s.Source.Client, ns, client.MatchingLabels{stagepod.MigrationLabel: string(s.Migration.UID)})
		if err != nil {
			return itinerary.Outcome{}, err
		}
		for _, p := range pods {
			total++
			state := string(p.Status.Phase)
			switch p.Status.Phase {
			case corev1.PodRunning:
				running++
			case corev1.PodFailed, corev1.PodSucceeded, corev1.PodUnknown:
				return itinerary.Failed("SourceStagePodsFailed", fmt.Sprintf("Stage pod %s/%s on the source cluster ended %s: %s",
					ns, p.Name, p.Status.Phase, podProblem(&p))), nil
			default:
				if why := podProblem(&p); why != "" {
					state += ": " + why
				}
			}
			lines = append(lines, fmt.Sprintf("Pod %s/%s: %s", ns, p.Name, state))
		}
	}
	s.setProgress(lines...)
	if running < total {
		return itinerary.Poll(pollWorkload).Observed("stage pods running on the source cluster", fmt.Sprintf("%d of %d", running, total)), nil
	}
	return itinerary.Done(), nil
}

// podProblem is what keeps a pod from running, from its containers' states or conditions.
func podProblem(p *corev1.Pod) string {
	for _, cs := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return fmt.Sprintf("container %s %s %s", cs.Name, w.Reason, w.Message)
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return fmt.Sprintf("container %s exited %d %s", cs.Name, t.ExitCode, t.Message)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status == corev1.ConditionFalse && c.Message != "" {
			return c.Message
		}
	}
	return p.Status.Message
}

// deleteStagePods deletes every stage pod in the plan's namespaces on both clusters
// (CleanStaleStagePods, EnsureStagePodsDeleted), as MTC does: on the source the ones of this
// and of earlier migrations, on the destination the ones the stage restore brought.
func deleteStagePods(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, side := range s.stagePodSides() {
		for _, ns := range side.namespaces {
			err := side.c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.MatchingLabels{stagepod.StagePodLabel: "true"})
			if err != nil && !apierrors.IsNotFound(err) {
				return itinerary.Outcome{}, fmt.Errorf("delete the stage pods of %s on the %s cluster: %w", ns, side.name, err)
			}
		}
	}
	return itinerary.Done(), nil
}

// stagePodsTerminated waits until no stage pod is left in the plan's namespaces, then drops
// the StagePodsCreated condition.
func stagePodsTerminated(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	var lines []string
	for _, side := range s.stagePodSides() {
		for _, ns := range side.namespaces {
			pods, err := stagePods(ctx, side.c, ns, nil)
			if err != nil {
				return itinerary.Outcome{}, err
			}
			for _, p := range pods {
				lines = append(lines, fmt.Sprintf("Pod %s/%s on the %s cluster: terminating", ns, p.Name, side.name))
			}
		}
	}
	if len(lines) > 0 {
		s.setProgress(lines...)
		return itinerary.Poll(pollWorkload).Observed("stage pods gone", fmt.Sprintf("%d left", len(lines))), nil
	}
	if s.phase == phaseEnsureStagePodsTerminated {
		s.setProgress("Stage pods deleted on both clusters.")
	}
	conditions.Delete(s.Migration, migv1.StagePodsCreated)
	return itinerary.Done(), nil
}

// stagePodSide is one cluster where a migration's stage pods may be, with the plan's
// namespaces there.
type stagePodSide struct {
	name       string
	c          client.Client
	namespaces []string
}

// stagePodSides are the source (with the source namespaces) and the destination (with the
// destination namespaces).
func (s *Scope) stagePodSides() []stagePodSide {
	return []stagePodSide{{onSource, s.Source.Client, s.sourceNamespaces()}, {onDestination, s.Destination.Client, s.destinationNamespaces()}}
}

// stagePods lists the stage pods of namespace that also match extra.
func stagePods(ctx context.Context, c client.Client, ns string, extra client.MatchingLabels) ([]corev1.Pod, error) {
	selector := client.MatchingLabels{stagepod.StagePodLabel: "true"}
	for k, v := range extra {
		selector[k] = v
	}
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns), selector); err != nil {
		return nil, fmt.Errorf("list the stage pods of %s: %w", ns, err)
	}
	return pods.Items, nil
}
