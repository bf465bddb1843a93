package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// descPVCState is one PVC row of a DVM: its state and the rsync pod that shows it.
type descPVCState struct {
	state string
	pod   *migv1.PodProgress
}

// descPVCStates reads each PVC's state from the DVM's pod lists, keyed "namespace/name" of the
// source PVC; the worst list wins (a failed operation over a running retry).
func descPVCStates(st *migv1.DirectVolumeMigrationStatus) map[string]descPVCState {
	out := map[string]descPVCState{}
	groups := []struct {
		state string
		pods  []*migv1.PodProgress
	}{
		{"Unknown", st.UnknownPods},
		{"Pending", st.PendingPods},
		{"Pending over 10m", st.PendingSinceTimeLimitPods},
		{"Running", st.RunningPods},
		{"Completed", st.SuccessfulPods},
		{"Failed", st.FailedPods},
	}
	for _, g := range groups {
		for _, p := range g.pods {
			if p == nil || p.PVCReference == nil {
				continue
			}
			out[descKey(p.PVCReference.Namespace, p.PVCReference.Name)] = descPVCState{state: g.state, pod: p}
		}
	}
	return out
}

// descRsyncOperation is the DVM's rsync operation of a source PVC, which counts its attempts.
func descRsyncOperation(st *migv1.DirectVolumeMigrationStatus, pvc *corev1.ObjectReference) *migv1.RsyncOperation {
	for _, op := range st.RsyncOperations {
		if op != nil && op.PVCReference != nil && op.PVCReference.Name == pvc.Name && op.PVCReference.Namespace == pvc.Namespace {
			return op
		}
	}
	return nil
}

// descPVCRow is a DVM's line for one PVC: source, target, state, attempt, progress.
func descPVCRow(dvm *migv1.DirectVolumeMigration, p migv1.PVCToMigrate, states map[string]descPVCState) []string {
	src := corev1.ObjectReference{}
	if p.ObjectReference != nil {
		src = *p.ObjectReference
	}
	targetNS, targetName := p.TargetNamespace, p.TargetName
	if targetNS == "" {
		targetNS = src.Namespace
	}
	if targetName == "" {
		targetName = src.Name
	}
	key := descKey(src.Namespace, src.Name)
	s, found := states[key]
	attempt := ""
	op := descRsyncOperation(&dvm.Status, &src)
	if op != nil && op.CurrentAttempt > 0 {
		attempt = strconv.Itoa(op.CurrentAttempt)
	}
	state := s.state
	switch {
	case op != nil && op.Failed:
		state = "Failed"
	case op != nil && op.Succeeded:
		state = "Completed"
	case found:
	case slices.Contains(dvm.Status.SkippedVolumes, key):
		state = "Skipped"
	case op != nil:
		state = "Running"
	default:
		state = "Not started"
	}
	var percent, rate, elapsed, pod string
	if s.pod != nil {
		percent, rate = s.pod.LastObservedProgressPercent, s.pod.LastObservedTransferRate
		if s.pod.TotalElapsedTime != nil {
			elapsed = descDuration(s.pod.TotalElapsedTime.Duration)
		}
		if s.pod.ObjectReference != nil {
			pod = s.pod.Name
		}
	}
	return []string{key, descKey(targetNS, targetName), state, attempt, percent, rate, elapsed, pod}
}

func (d describedDVM) title() string {
	return "DirectVolumeMigration " + descKey(d.Namespace, d.Name)
}

// causes are what the DVM says about its failure: its own errors when it has no progress
// objects to tell more, and every rsync attempt that failed with its log's last line.
func (d describedDVM) causes() []string {
	if d.Error != "" {
		return []string{d.title() + ": " + d.Error}
	}
	var out []string
	for i := range d.Progress {
		if c := descDVMPCause(d.DVM, &d.Progress[i]); c != "" {
			out = append(out, c)
		}
	}
	if len(out) == 0 && d.DVM != nil {
		for _, e := range d.DVM.Status.Errors {
			out = append(out, d.title()+": "+e)
		}
	}
	return out
}

// descDVMPCause is "rsync of PVC ns/name failed (pod p, exit code 11): <last log line>", or
// "" when the DVMP shows no failure.
func descDVMPCause(dvm *migv1.DirectVolumeMigration, p *migv1.DirectVolumeMigrationProgress) string {
	st := p.Status
	exit := st.ExitCode != nil && *st.ExitCode != 0
	if !exit && st.PodPhase != corev1.PodFailed && !conditions.HasBlocker(st.Conditions) {
		return ""
	}
	what := []string{}
	if st.PodName != "" {
		what = append(what, "pod "+descKey(p.Spec.PodNamespace, st.PodName))
	}
	if exit {
		what = append(what, fmt.Sprintf("exit code %d", *st.ExitCode))
	}
	msg := "rsync of PVC " + descDVMPVolume(dvm, p) + " failed"
	if len(what) > 0 {
		msg += " (" + strings.Join(what, ", ") + ")"
	}
	if last := descLastLine(st.LogMessage); last != "" {
		msg += ": " + last
	}
	for _, c := range st.Conditions {
		if conditions.IsBlocker(c) {
			msg += "; " + c.Type + ": " + c.Message
		}
	}
	return msg
}

// descDVMPVolume names the source PVC of a DVMP: the operator names each DVMP after its DVM
// and PVC (transfer.ProgressName); a DVMP named otherwise (MTC's) shows its pod namespace.
func descDVMPVolume(dvm *migv1.DirectVolumeMigration, p *migv1.DirectVolumeMigrationProgress) string {
	if dvm != nil {
		for _, pvc := range dvm.Spec.PersistentVolumeClaims {
			if pvc.ObjectReference != nil && transfer.ProgressName(dvm.Name, pvc.Name, pvc.Namespace) == p.Name {
				return descKey(pvc.Namespace, pvc.Name)
			}
		}
	}
	return descKey(p.Spec.PodNamespace, "?")
}

// descLastLine is the last non-empty line of a log.
func descLastLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// dvms writes each DVM: where it stands, its per-PVC table, and each PVC's rsync progress
// object with the exit code and log tail of its latest attempt.
func (w *descWriter) dvms(list []describedDVM) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Direct volume migrations")
	for _, d := range list {
		w.line(1, d.title()+":")
		if d.Error != "" {
			w.line(2, d.Error)
			continue
		}
		w.dvm(d)
	}
}

// dvm writes where a DVM stands, a row per PVC, and the rsync progress of each.
func (w *descWriter) dvm(d describedDVM) {
	dvm := d.DVM
	st := dvm.Status
	kind := ""
	if dvm.Spec.MigrationType != nil {
		kind = string(*dvm.Spec.MigrationType)
	}
	w.fields(2,
		descField{"Type", kind},
		descField{"Itinerary", st.Itinerary},
		descField{"Phase", st.Phase},
		descField{"Description", st.PhaseDescription},
		descField{"Started", w.time(st.StartTimestamp)},
	)
	w.list(2, "Errors", st.Errors)
	w.conditions(2, st.Conditions)
	if len(dvm.Spec.PersistentVolumeClaims) > 0 {
		states := descPVCStates(&st)
		rows := make([][]string, 0, len(dvm.Spec.PersistentVolumeClaims))
		for _, p := range dvm.Spec.PersistentVolumeClaims {
			rows = append(rows, descPVCRow(dvm, p, states))
		}
		w.heading(2, "Volumes")
		w.table(3, []string{"PVC", "TARGET", "STATE", "ATTEMPT", "PROGRESS", "RATE", "ELAPSED", "POD"}, rows)
	}
	w.liveMigrations(st)
	if len(d.Progress) > 0 {
		w.heading(2, "Rsync progress (DirectVolumeMigrationProgress)")
		for i := range d.Progress {
			w.dvmp(dvm, &d.Progress[i])
		}
	}
}

// liveMigrations writes the KubeVirt storage live migrations of a DVM, when it has any.
func (w *descWriter) liveMigrations(st migv1.DirectVolumeMigrationStatus) {
	var rows [][]string
	for _, g := range []struct {
		state string
		list  []*migv1.LiveMigrationProgress
	}{{"Running", st.RunningLiveMigrations}, {"Pending", st.PendingLiveMigrations}, {"Completed", st.SuccessfulLiveMigrations}, {"Failed", st.FailedLiveMigrations}} {
		for _, l := range g.list {
			if l == nil {
				continue
			}
			elapsed := ""
			if l.TotalElapsedTime != nil {
				elapsed = descDuration(l.TotalElapsedTime.Duration)
			}
			rows = append(rows, []string{descKey(l.VMNamespace, l.VMName), descRef(l.PVCReference), g.state, l.LastObservedProgressPercent, elapsed, l.Message})
		}
	}
	if len(rows) == 0 {
		return
	}
	w.heading(2, "Live migrations")
	w.table(3, []string{"VM", "PVC", "STATE", "PROGRESS", "ELAPSED", "MESSAGE"}, rows)
}

// dvmp writes one PVC's rsync progress: the latest attempt's pod, exit code and log tail,
// which is where rsync says why it failed.
func (w *descWriter) dvmp(dvm *migv1.DirectVolumeMigration, p *migv1.DirectVolumeMigrationProgress) {
	st := p.Status
	w.line(3, fmt.Sprintf("%s (PVC %s):", p.Name, descDVMPVolume(dvm, p)))
	pod := ""
	if st.PodName != "" {
		pod = descKey(p.Spec.PodNamespace, st.PodName)
		if st.PodPhase != "" {
			pod += " (" + string(st.PodPhase) + ")"
		}
	}
	progress := st.TotalProgressPercentage
	if progress == "" {
		progress = st.LastObservedProgressPercent
	}
	elapsed := ""
	if st.ContainerElapsedTime != nil {
		elapsed = descDuration(st.ContainerElapsedTime.Duration)
	}
	if st.RsyncElapsedTime != nil {
		all := "all attempts " + descDuration(st.RsyncElapsedTime.Duration)
		if elapsed == "" {
			elapsed = all
		} else {
			elapsed += " (" + all + ")"
		}
	}
	exit := ""
	if st.ExitCode != nil {
		exit = strconv.Itoa(int(*st.ExitCode))
	}
	attempts := ""
	if n := len(st.RsyncPodStatuses); n > 0 {
		attempts = fmt.Sprintf("%d finished", n)
	}
	w.fields(4,
		descField{"Pod", pod},
		descField{"Progress", progress},
		descField{"Transfer rate", st.LastObservedTransferRate},
		descField{"Elapsed", elapsed},
		descField{"Exit code", exit},
		descField{"Attempts", attempts},
	)
	w.text(4, "Rsync log (last lines)", st.LogMessage)
	if len(st.Conditions) > 0 {
		w.conditions(4, st.Conditions)
	}
}
