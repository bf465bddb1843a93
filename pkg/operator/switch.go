package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ferrymtc/ferry/pkg/settings"
)

// switchPoll is how often the migration_controller switch is read (from the API server; one
// small List of the operator's namespace).
const switchPoll = 5 * time.Second

// ErrSwitchChanged ends the manager when migration_controller changes, so that the operator
// restarts with the controllers the switch asks for.
var ErrSwitchChanged = errors.New("migration_controller changed")

// controllerSwitch ends the manager when the MigrationController's migration_controller no
// longer matches what the operator started with. Controllers cannot be removed from a running
// controller-runtime manager, and adding them later would leave them without the objects'
// initial events, so a restart (by the Deployment, within seconds) is the simple correct way.
type controllerSwitch struct {
	settings *settings.Reader
	running  bool
}

// Start polls the switch until ctx ends or it changes.
func (s controllerSwitch) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("migration-controller-switch")
	t := time.NewTicker(switchPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		readCtx, cancel := context.WithTimeout(ctx, switchPoll)
		cfg, err := s.settings.Get(readCtx)
		cancel()
		if err != nil {
			continue // the settings' own readers report it; the switch keeps its value
		}
		if cfg.RunControllers != s.running {
			log.Info("Restarting to apply migration_controller", "migration_controller", cfg.RunControllers)
			return fmt.Errorf("%w to %t: restarting to apply it", ErrSwitchChanged, cfg.RunControllers)
		}
	}
}

// NeedLeaderElection is false: every replica must restart, not only the leader.
func (controllerSwitch) NeedLeaderElection() bool { return false }
