package migmigration

import (
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/mapping"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// Cluster names used in status.references.
const (
	onSource      = "source"
	onDestination = "destination"
	onHost        = "host"
)

// Scope is what a step function works with during one reconcile: the migration (whose status
// the steps update in memory; the controller patches it once), its plan and clusters, and
// where a step leaves progress lines for the pipeline.
type Scope struct {
	Migration   *migv1.MigMigration
	Plan        *migv1.MigPlan
	Storage     *migv1.MigStorage
	Source      Remote
	Destination Remote
	// Host is the operator's own cluster, where DirectVolumeMigrations live.
	Host     client.Client
	Settings settings.Settings
	Facts    Facts
	Now      func() time.Time
	Log      logr.Logger

	// cancelCause says why the migration is canceled without spec.canceled (see cancelCause),
	// or "".
	cancelCause string
	// phase is the phase whose step function runs now.
	phase string
	// progress holds the lines each phase that ran reported, for its pipeline step.
	progress map[string][]string
	// details replace a phase's description on its step (the DVM's own description).
	details map[string]string
	// notices are warnings that hold while the steps observe what they say (non-durable).
	notices []migv1.Condition
}

// Remote is one of the migration's clusters.
type Remote struct {
	Cluster *migv1.MigCluster
	Client  client.Client
	// Config is for discovery: rollback deletes every kind of object the restore created.
	Config *rest.Config
}

// sourceNamespaces returns the plan's source namespaces in the plan's order.
func (s *Scope) sourceNamespaces() []string {
	_, sources := mapping.Namespaces(s.Plan)
	return sources
}

// destinationNamespaces returns the plan's destination namespaces.
func (s *Scope) destinationNamespaces() []string { return mapping.Destinations(s.Plan) }

// veleroNamespace is where Velero runs on both clusters.
func (s *Scope) veleroNamespace() string { return s.Settings.VeleroNamespace }

// setProgress replaces the progress lines shown on the current phase's step.
func (s *Scope) setProgress(lines ...string) {
	if s.progress == nil {
		s.progress = map[string][]string{}
	}
	s.progress[s.phase] = lines
}

// warn records a durable warning on the migration; it ends SucceededWithWarnings.
func (s *Scope) warn(conditionType, message string) {
	c := conditions.Warn(conditionType, "", message)
	c.Durable = true
	conditions.Set(s.Migration, c, nowMeta(s.Now))
}

// notice records a warning that lasts as long as steps keep observing it: the next reconcile
// that does not drops it.
func (s *Scope) notice(conditionType, message string) {
	s.notices = append(s.notices, conditions.Warn(conditionType, "", message))
}

// record adds a reference to status.references and reports whether it was new. A step that
// gets true returns soon() instead of creating the object, so the name is persisted before
// the object exists: a crash in between finds the name, never a nameless orphan.
func (s *Scope) record(ref migv1.MigrationReference) bool {
	for _, r := range s.Migration.Status.References {
		if r == ref {
			return false
		}
	}
	s.Migration.Status.References = append(s.Migration.Status.References, ref)
	return true
}

// setDetail replaces the current phase's description on its step.
func (s *Scope) setDetail(text string) {
	if s.details == nil {
		s.details = map[string]string{}
	}
	s.details[s.phase] = text
}
