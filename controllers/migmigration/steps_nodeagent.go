package migmigration

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/velerodeploy"
)

// waitForNodeAgent (WaitForResticReady, MTC's name from when Velero's node-agent was called
// restic) waits until Velero's node-agent DaemonSet runs on every node it should on both
// clusters: the stage backup and restore of volumes are its work, and a missing agent would
// leave them New until Velero's own timeout (hours).
func waitForNodeAgent(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	key := types.NamespacedName{Namespace: s.veleroNamespace(), Name: velerodeploy.NodeAgentName}
	var lines []string
	ready := true
	for _, r := range s.clusters() {
		ds := &appsv1.DaemonSet{}
		err := r.remote.Client.Get(ctx, key, ds)
		switch {
		case apierrors.IsNotFound(err):
			ready = false
			lines = append(lines, fmt.Sprintf("DaemonSet %s on the %s cluster: not found; indirect volume migration needs "+
				"Velero's node-agent (velero install --use-node-agent, or config/velero's node-agent).", key, r.role))
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("get DaemonSet %s on the %s cluster: %w", key, r.role, err)
		default:
			st := ds.Status
			ok := st.DesiredNumberScheduled > 0 && st.NumberReady == st.DesiredNumberScheduled
			ready = ready && ok
			lines = append(lines, fmt.Sprintf("DaemonSet %s on the %s cluster: %d of %d pods ready.", key, r.role, st.NumberReady, st.DesiredNumberScheduled))
		}
	}
	s.setProgress(lines...)
	if !ready {
		return itinerary.Wait(pollSlow).Observed("Velero's node-agent ready on both clusters", "not ready"), nil
	}
	return itinerary.Done(), nil
}
