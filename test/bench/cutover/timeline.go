package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// phaseEvent is the moment a phase of an object was first seen.
type phaseEvent struct {
	at          time.Time
	kind, phase string
}

// timeline records, through watches, when each phase of a migration and of its
// DirectVolumeMigrations began, to the millisecond (the API's step times keep seconds), so
// that the phases a downtime is made of are measured.
type timeline struct {
	mu     sync.Mutex
	events []phaseEvent
	last   map[string]string // kind/name: its phase
}

// watchPhases starts recording the phases of the MigMigration named migration and of every
// DirectVolumeMigration in namespace, until ctx ends.
func watchPhases(ctx context.Context, c client.WithWatch, namespace, migration string) (*timeline, error) {
	t := &timeline{last: map[string]string{}}
	for _, list := range []client.ObjectList{&migv1.MigMigrationList{}, &migv1.DirectVolumeMigrationList{}} {
		w, err := c.Watch(ctx, list, client.InNamespace(namespace))
		if err != nil {
			return nil, fmt.Errorf("watch %T: %w", list, err)
		}
		go func() {
			defer w.Stop()
			for ev := range w.ResultChan() {
				switch o := ev.Object.(type) {
				case *migv1.MigMigration:
					if o.Name == migration {
						t.saw("MigMigration", o.Name, o.Status.Phase)
					}
				case *migv1.DirectVolumeMigration:
					t.saw("DVM", o.Name, o.Status.Phase)
				}
			}
		}()
	}
	return t, nil
}

func (t *timeline) saw(kind, name, phase string) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	key := kind + "/" + name
	if phase == "" || t.last[key] == phase {
		return
	}
	t.last[key] = phase
	t.events = append(t.events, phaseEvent{at: now, kind: kind, phase: phase})
}

// since lists the phases seen from start on, each with the time until the next one began:
// "MigMigration QuiesceSourceApplications 0.41s, DVM CreateRsyncRoute 0.05s, ...". Phases of
// DVMs that overlap the migration's (they run beside each other) are listed in the order
// they began.
func (t *timeline) since(start time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for i, ev := range t.events {
		if ev.at.Before(start) {
			continue
		}
		end := time.Now()
		if i+1 < len(t.events) {
			end = t.events[i+1].at
		}
		parts = append(parts, fmt.Sprintf("%s %s %.2fs", ev.kind, ev.phase, end.Sub(ev.at).Seconds()))
	}
	return strings.Join(parts, ", ")
}
