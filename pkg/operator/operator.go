package operator

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/controllers/directimagemigration"
	"github.com/ferrymtc/ferry/controllers/directimagestreammigration"
	"github.com/ferrymtc/ferry/controllers/directvolumemigration"
	"github.com/ferrymtc/ferry/controllers/migcluster"
	"github.com/ferrymtc/ferry/controllers/mighook"
	"github.com/ferrymtc/ferry/controllers/migmigration"
	"github.com/ferrymtc/ferry/controllers/migplan"
	"github.com/ferrymtc/ferry/controllers/migrationcontroller"
	"github.com/ferrymtc/ferry/controllers/migstorage"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/metrics"
	"github.com/ferrymtc/ferry/pkg/objectstore"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// DefaultNamespace is where the operator runs and keeps its MigrationController, as in MTC.
const DefaultNamespace = "openshift-migration"

// Options configures the operator.
type Options struct {
	// Namespace is the operator's namespace (MigrationController, leader election lease).
	Namespace string
	// MetricsAddr is where Prometheus metrics are served ("0" disables).
	MetricsAddr string
	// MetricsInsecure serves metrics over plain HTTP to anyone. By default they are served
	// over HTTPS to callers whose token may get nonResourceURL /metrics (TokenReview and
	// SubjectAccessReview, as kubebuilder's scaffold does): migration names, namespaces and
	// cluster names are not for every pod of the cluster to read.
	MetricsInsecure bool
	// ProbeAddr is where /healthz and /readyz are served ("0" disables).
	ProbeAddr string
	// LeaderElection makes only one replica active at a time.
	LeaderElection bool
	// GracefulShutdown bounds how long the manager waits for reconciles on stop.
	GracefulShutdown time.Duration
}

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// metricsOptions serves metrics over HTTPS (a self-signed certificate unless one is mounted)
// to authenticated and authorized callers, unless opts.MetricsInsecure.
func metricsOptions(opts Options) metricsserver.Options {
	if opts.MetricsInsecure {
		return metricsserver.Options{BindAddress: opts.MetricsAddr}
	}
	return metricsserver.Options{BindAddress: opts.MetricsAddr, SecureServing: true,
		FilterProvider: filters.WithAuthenticationAndAuthorization}
}

// leaderElectionID names the lease replicas compete for.
const leaderElectionID = "ferry.migration.openshift.io"

// New builds the controller-runtime manager for cfg.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  NewScheme(),
		Metrics:                 metricsOptions(opts),
		HealthProbeBindAddress:  opts.ProbeAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: opts.Namespace,
		// A stopping operator (rollout, drain) gives the lease up at once, so its successor
		// does not wait for it to expire. The manager exits right after, which this needs.
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &opts.GracefulShutdown,
		// Ferry's own objects are honoured in the operator's namespace only: whoever may write
		// them has the operator's power over every registered cluster, so that power stays
		// with the writers of one namespace (MTC's model, made explicit).
		Cache: cache.Options{ByObject: ownObjectsIn(opts.Namespace)},
		Client: client.Options{Cache: &client.CacheOptions{
			// Tokens and credentials are read on demand, never held in an informer cache.
			DisableFor: []client.Object{&corev1.Secret{}},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add ready check: %w", err)
	}
	return mgr, nil
}

// ownObjectsIn limits the informers of Ferry's kinds to namespace.
func ownObjectsIn(namespace string) map[client.Object]cache.ByObject {
	only := cache.ByObject{Namespaces: map[string]cache.Config{namespace: {}}}
	out := map[client.Object]cache.ByObject{}
	for _, obj := range []client.Object{
		&migv1.MigCluster{}, &migv1.MigStorage{}, &migv1.MigPlan{}, &migv1.MigMigration{}, &migv1.MigHook{},
		&migv1.DirectVolumeMigration{}, &migv1.DirectVolumeMigrationProgress{}, &migv1.DirectImageMigration{},
		&migv1.DirectImageStreamMigration{}, &migv1.MigAnalytic{}, &migv1.MigrationController{},
	} {
		out[obj] = only
	}
	return out
}

// reconcilerSetup registers one controller.
type reconcilerSetup struct {
	name  string
	setup func(context.Context, ctrl.Manager) error
}

// Setup builds the shared services and registers every controller with mgr; with
// migration_controller false only the MigrationController's, and a switch that restarts the
// operator when that setting changes.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	// Settings are read from the manager's cache: every reconcile of every controller reads
	// them, and each read through the API server was a LIST (about 100 per migration, found by
	// make bench-concurrent). A change reaches the cache within the moment its watch event
	// takes, before the reconciles that event triggers.
	cfgs := settings.NewReader(mgr.GetClient(), opts.Namespace)
	// Every outbound connection picks its proxy from the settings in force.
	proxy := settings.NewLiveProxy(cfgs)
	clusters := clustercache.New(clustercache.Options{
		HostConfig:   mgr.GetConfig(),
		HostClient:   mgr.GetClient(),
		SecretReader: mgr.GetAPIReader(),
		Scheme:       mgr.GetScheme(),
		UseInformerCache: func(ctx context.Context) bool {
			s, err := cfgs.Get(ctx)
			if err != nil {
				ctrl.LoggerFrom(ctx).Error(err, "Reading settings; remote clients stay uncached")
			}
			return s.EnableCachedClient
		},
		Log:   mgr.GetLogger().WithName("clustercache"),
		Proxy: proxy.ForRequest,
	})
	if err := metrics.Register(ctrlmetrics.Registry, mgr.GetClient()); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return fmt.Errorf("direct client of the host: %w", err)
	}
	reconcilers := []reconcilerSetup{
		{migcluster.ControllerName, (&migcluster.Reconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Clusters:  clusters,
			Recorder:  mgr.GetEventRecorder(migcluster.ControllerName),
			Clock:     clock.RealClock{},
			Proxy:     proxy.ForRequest,
		}).SetupWithManager},
		{migstorage.ControllerName, (&migstorage.Reconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Recorder:  mgr.GetEventRecorder(migstorage.ControllerName),
			Clock:     clock.RealClock{},
			Tester:    objectstore.Tester{Proxy: proxy.ForRequest},
		}).SetupWithManager},
		{migrationcontroller.ControllerName, (&migrationcontroller.Reconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Recorder:  mgr.GetEventRecorder(migrationcontroller.ControllerName),
			Clock:     clock.RealClock{},
		}).SetupWithManager},
		{mighook.ControllerName, (&mighook.Reconciler{
			Client:   mgr.GetClient(),
			Recorder: mgr.GetEventRecorder(mighook.ControllerName),
			Clock:    clock.RealClock{},
		}).SetupWithManager},
		{migplan.ControllerName, (&migplan.Reconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Clusters:  clusters,
			Settings:  cfgs,
			Recorder:  mgr.GetEventRecorder(migplan.ControllerName),
			Clock:     clock.RealClock{},
		}).SetupWithManager},
		{migmigration.ControllerName, (&migmigration.Reconciler{
			Client:     mgr.GetClient(),
			HostDirect: direct,
			Clusters:   clusters,
			Settings:   cfgs,
			Recorder:   mgr.GetEventRecorder(migmigration.ControllerName),
			Clock:      clock.RealClock{},
		}).SetupWithManager},
		{directvolumemigration.ControllerName, (&directvolumemigration.Reconciler{
			Client:     mgr.GetClient(),
			HostDirect: direct,
			Clusters:   clusters,
			Settings:   cfgs,
			Recorder:   mgr.GetEventRecorder(directvolumemigration.ControllerName),
			Clock:      clock.RealClock{},
		}).SetupWithManager},
		{directimagemigration.ControllerName, (&directimagemigration.Reconciler{
			Client:     mgr.GetClient(),
			HostDirect: direct,
			Clusters:   clusters,
			Recorder:   mgr.GetEventRecorder(directimagemigration.ControllerName),
			Clock:      clock.RealClock{},
		}).SetupWithManager},
		{directimagestreammigration.ControllerName, (&directimagestreammigration.Reconciler{
			Client:     mgr.GetClient(),
			HostDirect: direct,
			Clusters:   clusters,
			Settings:   cfgs,
			Recorder:   mgr.GetEventRecorder(directimagestreammigration.ControllerName),
			Clock:      clock.RealClock{},
		}).SetupWithManager},
	}
	// The cache has not started yet: this one read goes to the API server.
	initial, err := settings.NewReader(mgr.GetAPIReader(), opts.Namespace).Get(ctx)
	if err != nil {
		return fmt.Errorf("read the MigrationController before starting the controllers: %w", err)
	}
	if err := mgr.Add(controllerSwitch{settings: cfgs, running: initial.RunControllers}); err != nil {
		return fmt.Errorf("add the migration_controller switch: %w", err)
	}
	if !initial.RunControllers {
		mgr.GetLogger().Info("migration_controller is false: only the MigrationController controller runs (its status, and Velero with migration_velero)")
		reconcilers = slices.DeleteFunc(reconcilers, func(r reconcilerSetup) bool { return r.name != migrationcontroller.ControllerName })
	}
	for _, rec := range reconcilers {
		if err := rec.setup(ctx, mgr); err != nil {
			return fmt.Errorf("set up %s controller: %w", rec.name, err)
		}
	}
	return nil
}
