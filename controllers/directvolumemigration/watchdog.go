package directvolumemigration

import (
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// refusedRetry is how soon a pod the cluster refused is created again: an administrator may
// raise the quota or fix the LimitRange at any time, and a refused create costs one request.
const refusedRetry = 10 * time.Second

// refusal returns the API's message when err is the cluster refusing to create a pod (a
// ResourceQuota exceeded, a LimitRange or Pod Security admission violated: Forbidden; a pod
// the API finds invalid), or "" for other errors, which are retried with backoff.
func refusal(err error) string {
	var status apierrors.APIStatus
	if err == nil || (!apierrors.IsForbidden(err) && !apierrors.IsInvalid(err)) || !errors.As(err, &status) {
		return ""
	}
	return status.Status().Message
}

// refused records a refused pod: the FailedCreatingRsyncPods warning with the API's message,
// at once (MTC waited 5 minutes), for as long as the refusal lasts.
func (s *Scope) refused(cluster, pod, message string) {
	s.refusals = append(s.refusals, fmt.Sprintf("%s (%s cluster): %s", pod, cluster, message))
}

// refusalCondition is the FailedCreatingRsyncPods warning of this reconcile's refusals.
func (s *Scope) refusalCondition() []migv1.Condition {
	if len(s.refusals) == 0 {
		return nil
	}
	return []migv1.Condition{conditions.Warn(migv1.FailedCreatingRsyncPods, "",
		"The cluster refuses to create rsync pods; Ferry keeps trying: "+
			strings.Join(s.refusals, "; "))}
}

// blockedSince is when the earliest validation blocker of list began, or zero.
func blockedSince(list migv1.Conditions) time.Time {
	var since time.Time
	for _, c := range list {
		if conditions.IsBlocker(c) && c.Type != migv1.Failed && (since.IsZero() || c.LastTransitionTime.Time.Before(since)) {
			since = c.LastTransitionTime.Time
		}
	}
	return since
}

// lastLine is the last non-empty line of s, at most 120 characters.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if len(line) > 120 {
		line = line[len(line)-120:]
	}
	return line
}
