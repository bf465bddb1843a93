package conditions

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
)

func withTime(c migv1.Condition, t metav1.Time) migv1.Condition {
	c.LastTransitionTime = t
	return c
}

func durable(c migv1.Condition) migv1.Condition {
	c.Durable = true
	return c
}

func TestApply(t *testing.T) {
	ready := Required(migv1.Ready, "", "The cluster is ready.")
	badURL := Critical(migv1.InvalidURL, "Malformed", "bad")
	warn := durable(Warn("Something", "Seen", "kept"))

	cases := []struct {
		name    string
		old     migv1.Conditions
		desired []migv1.Condition
		want    migv1.Conditions
	}{{
		name:    "new conditions get the current time",
		desired: []migv1.Condition{ready},
		want:    migv1.Conditions{withTime(ready, t1)},
	}, {
		name:    "unchanged condition keeps its transition time",
		old:     migv1.Conditions{withTime(ready, t0)},
		desired: []migv1.Condition{ready},
		want:    migv1.Conditions{withTime(ready, t0)},
	}, {
		name:    "changed message moves the transition time",
		old:     migv1.Conditions{withTime(badURL, t0)},
		desired: []migv1.Condition{Critical(migv1.InvalidURL, "Malformed", "worse")},
		want:    migv1.Conditions{withTime(Critical(migv1.InvalidURL, "Malformed", "worse"), t1)},
	}, {
		name:    "non-durable condition not asserted again is dropped",
		old:     migv1.Conditions{withTime(badURL, t0)},
		desired: []migv1.Condition{ready},
		want:    migv1.Conditions{withTime(ready, t1)},
	}, {
		name:    "durable condition survives and keeps its order",
		old:     migv1.Conditions{withTime(warn, t0), withTime(badURL, t0)},
		desired: []migv1.Condition{ready},
		want:    migv1.Conditions{withTime(warn, t0), withTime(ready, t1)},
	}, {
		name:    "duplicates in desired collapse to the first",
		desired: []migv1.Condition{ready, Required(migv1.Ready, "", "second")},
		want:    migv1.Conditions{withTime(ready, t1)},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &migv1.MigCluster{Status: migv1.MigClusterStatus{Conditions: tc.old}}
			Apply(obj, tc.desired, t1)
			got := obj.Status.Conditions
			if len(got) != len(tc.want) {
				t.Fatalf("got %d conditions %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("condition %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSetAndDelete(t *testing.T) {
	obj := &migv1.MigCluster{}
	Set(obj, Critical(migv1.InvalidURL, "NotSet", "m"), t0)
	Set(obj, Critical(migv1.InvalidURL, "NotSet", "m"), t1)
	if got := Find(obj.Status.Conditions, migv1.InvalidURL); got == nil || !got.LastTransitionTime.Equal(&t0) {
		t.Fatalf("re-setting an identical condition must keep its time, got %+v", got)
	}
	Set(obj, Required(migv1.Ready, "", "ok"), t1)
	Delete(obj, migv1.InvalidURL)
	if Find(obj.Status.Conditions, migv1.InvalidURL) != nil || !IsTrue(obj.Status.Conditions, migv1.Ready) {
		t.Fatalf("unexpected conditions after delete: %+v", obj.Status.Conditions)
	}
}

func TestBlockers(t *testing.T) {
	cases := []struct {
		c    migv1.Condition
		want bool
	}{
		{Critical("A", "", ""), true},
		{Error("A", "", ""), true},
		{Warn("A", "", ""), false},
		{Advisory("A", "", ""), false},
		{Required("A", "", ""), false},
		{migv1.Condition{Type: "A", Status: migv1.False, Category: migv1.CategoryCritical}, false},
	}
	for _, tc := range cases {
		if got := IsBlocker(tc.c); got != tc.want {
			t.Errorf("IsBlocker(%s/%s) = %v, want %v", tc.c.Category, tc.c.Status, got, tc.want)
		}
	}
	if !HasBlocker([]migv1.Condition{Warn("W", "", ""), Error("E", "", "")}) || HasBlocker(nil) {
		t.Error("HasBlocker disagrees with IsBlocker")
	}
}

func TestChanged(t *testing.T) {
	before := []migv1.Condition{withTime(Required(migv1.Ready, "", "ok"), t0)}
	after := []migv1.Condition{withTime(Required(migv1.Ready, "", "ok"), t1), Critical(migv1.InvalidURL, "NotSet", "m")}
	got := Changed(before, after)
	if len(got) != 1 || got[0].Type != migv1.InvalidURL {
		t.Fatalf("Changed = %+v, want only InvalidURL (time alone is not a change)", got)
	}
}

func TestEventType(t *testing.T) {
	for _, c := range []migv1.Condition{Critical("A", "", ""), Error("A", "", ""), Warn("A", "", "")} {
		if EventType(c) != "Warning" {
			t.Errorf("%s condition must be reported as a Warning event", c.Category)
		}
	}
	for _, c := range []migv1.Condition{Required("A", "", ""), Advisory("A", "", "")} {
		if EventType(c) != "Normal" {
			t.Errorf("%s condition must be reported as a Normal event", c.Category)
		}
	}
}
