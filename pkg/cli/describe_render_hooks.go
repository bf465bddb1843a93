package cli

import (
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func (h describedHook) title() string {
	return fmt.Sprintf("Job %s (%s, on the %s cluster)", descKey(h.Ref.Namespace, h.Ref.Name), h.Ref.Role, h.Ref.Cluster)
}

// descJobState is Succeeded, Failed with the Job's reason, or Running with its pod counts.
func descJobState(job *batchv1.Job) string {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return "Succeeded"
		case batchv1.JobFailed:
			return descOneLine(strings.TrimRight(fmt.Sprintf("Failed: %s: %s", c.Reason, c.Message), ": "))
		}
	}
	return fmt.Sprintf("Running (%d active, %d failed)", job.Status.Active, job.Status.Failed)
}

// cause is a failed hook Job's reason and the last line its script logged.
func (h describedHook) cause() []string {
	if h.Error != "" {
		return []string{h.title() + ": " + h.Error}
	}
	if h.Job == nil {
		return nil
	}
	state := descJobState(h.Job)
	if !strings.HasPrefix(state, "Failed") {
		return nil
	}
	msg := fmt.Sprintf("Job %s: %s", descKey(h.Ref.Namespace, h.Ref.Name), state)
	if last := descLastLine(h.Log); last != "" {
		msg += "; last log line: " + last
	}
	return []string{msg}
}

// hooks writes the migration's hook Jobs with the log tail of their latest pod.
func (w *descWriter) hooks(list []describedHook) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Hooks")
	for _, h := range list {
		w.line(1, h.title()+":")
		if h.Error != "" {
			w.line(2, h.Error)
			continue
		}
		w.fields(2,
			descField{"State", descJobState(h.Job)},
			descField{"Started", w.time(h.Job.Status.StartTime)},
			descField{"Pod", h.Pod},
			descField{"Log", h.LogNote},
		)
		w.text(2, fmt.Sprintf("Log (last %d lines)", descLogLines), h.Log)
	}
}
