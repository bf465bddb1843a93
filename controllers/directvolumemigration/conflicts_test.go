package directvolumemigration

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/itinerary"
)

// TestDestinationConflict: two standalone DVMs into the same destination PVC never run at
// once (F18).
func TestDestinationConflict(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(name string, minutes int, phase string, targets ...string) migv1.DirectVolumeMigration {
		d := migv1.DirectVolumeMigration{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-migration", Name: name, UID: types.UID(name),
			CreationTimestamp: metav1.NewTime(at.Add(time.Duration(minutes) * time.Minute))}}
		for _, target := range targets {
			ns, n, _ := strings.Cut(target, "/")
			d.Spec.PersistentVolumeClaims = append(d.Spec.PersistentVolumeClaims, migv1.PVCToMigrate{
				ObjectReference: &corev1.ObjectReference{Namespace: "src", Name: n}, TargetNamespace: ns, TargetName: n})
		}
		d.Status.Phase = phase
		return d
	}
	me := mk("me", 10, "", "b/data", "b/logs")
	blocked := mk("older-blocked", 1, "", "b/data")
	blocked.Status.Conditions = migv1.Conditions{conditions.Critical(migv1.InvalidPVCs, "", "")}
	deleting := mk("deleting", 1, itinerary.Completed, "b/data")
	deleting.Status.Phase = ""
	deleting.DeletionTimestamp = &metav1.Time{Time: at}
	elsewhere := mk("elsewhere", 1, "RunRsyncOperations", "b/data")
	always := func(*migv1.DirectVolumeMigration) bool { return true }
	for _, tc := range []struct {
		name   string
		me     migv1.DirectVolumeMigration
		others []migv1.DirectVolumeMigration
		same   func(*migv1.DirectVolumeMigration) bool
		want   string
	}{
		{"alone", me, nil, always, ""},
		{"another PVC", me, []migv1.DirectVolumeMigration{mk("other", 1, "RunRsyncOperations", "b/other")}, always, ""},
		{"an older one that runs", me, []migv1.DirectVolumeMigration{mk("older", 1, "RunRsyncOperations", "b/logs")}, always, "older"},
		{"a newer one that runs", me, []migv1.DirectVolumeMigration{mk("newer", 20, "CreateDestinationPVCs", "b/data")}, always, "newer"},
		{"an older one not started", me, []migv1.DirectVolumeMigration{mk("older", 1, "", "b/data")}, always, "older"},
		{"a newer one not started", me, []migv1.DirectVolumeMigration{mk("newer", 20, "", "b/data")}, always, ""},
		{"an older one that cannot start", me, []migv1.DirectVolumeMigration{blocked}, always, ""},
		{"a completed one", me, []migv1.DirectVolumeMigration{mk("done", 1, itinerary.Completed, "b/data")}, always, ""},
		{"one being deleted", me, []migv1.DirectVolumeMigration{deleting}, always, "deleting"},
		{"another destination cluster", me, []migv1.DirectVolumeMigration{elsewhere},
			func(d *migv1.DirectVolumeMigration) bool { return d.Name != "elsewhere" }, ""},
		{"itself running", mk("me", 10, "RunRsyncOperations", "b/data"), []migv1.DirectVolumeMigration{mk("older", 1, "", "b/data")}, always, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := destinationConflict(&tc.me, tc.others, tc.same)
			switch {
			case tc.want == "" && c != nil:
				t.Errorf("got %+v, want none", c)
			case tc.want != "" && (c == nil || c.Category != migv1.CategoryCritical || !strings.Contains(c.Message, "DirectVolumeMigration "+tc.want+" ")):
				t.Errorf("got %+v, want a blocker naming %s", c, tc.want)
			}
		})
	}
}
