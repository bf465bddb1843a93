package settings

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// MTC's defaults.
const (
	DefaultNamespaceLimit      = 10
	DefaultPodLimit            = 100
	DefaultPVLimit             = 100
	DefaultPVResizingThreshold = 3
	DefaultRsyncBackoffLimit   = 20
	// DefaultRsyncParallelTransfers is how many PVCs a DVM transfers at once by default.
	DefaultRsyncParallelTransfers = 10
	// DefaultImageCopyParallelism is how many image blobs a DirectImageMigration copies at
	// once by default.
	DefaultImageCopyParallelism = 8
	DefaultVeleroNamespace      = "openshift-migration"
	// DefaultHookRunnerImage is MTC's hook runner (Ansible) image.
	DefaultHookRunnerImage = "quay.io/konveyor/hook-runner:latest"
	// DefaultTransferImage is Ferry's rsync and stunnel image (hack/images/transfer).
	DefaultTransferImage     = "quay.io/ferrymtc/ferry-transfer:latest"
	DefaultRsyncEndpointType = migv1.RsyncEndpointRoute
	// Hook Job container resources (Ferry's: MTC set none). The limits leave room for an
	// Ansible playbook with the kubernetes modules.
	DefaultHookCPURequest    = "100m"
	DefaultHookMemoryRequest = "256Mi"
	DefaultHookCPULimit      = "1"
	DefaultHookMemoryLimit   = "1Gi"
	// Rsync transfer (server, destination) and client (source) pod container resources: the
	// MTC operator's defaults for TRANSFER_POD_* and CLIENT_POD_* (MTC's controller alone
	// requested 400m and 512Mi without limits, which a ResourceQuota that requires limits
	// refuses).
	DefaultTransferPodCPURequest    = "100m"
	DefaultTransferPodMemoryRequest = "1Gi"
	DefaultTransferPodCPULimit      = "1"
	DefaultTransferPodMemoryLimit   = "1Gi"
	// DefaultNoProgressWarning and DefaultNoProgressTimeout are how long a waiting phase may
	// observe no progress before a warning, and before it fails (Ferry's).
	DefaultNoProgressWarning = 10 * time.Minute
	DefaultNoProgressTimeout = 60 * time.Minute
)

// DefaultExcludedResources is the MTC operator's default excluded_resources list: service
// catalog and OLM resources, events and OpenShift's legacy role bindings.
var DefaultExcludedResources = []string{
	"imagetags", "templateinstances", "clusterserviceversions", "packagemanifests", "subscriptions",
	"servicebrokers", "servicebindings", "serviceclasses", "serviceinstances", "serviceplans",
	"operatorgroups", "events", "events.events.k8s.io", "rolebindings.authorization.openshift.io",
}

// Settings are the operator settings in force.
type Settings struct {
	// NamespaceLimit, PodLimit and PVLimit are the MigPlan limits (mig_*_limit).
	NamespaceLimit, PodLimit, PVLimit int
	// ExcludedResources are never migrated: excluded_resources (or MTC's default list), plus
	// additional_excluded_resources, plus image and volume kinds when those are disabled.
	ExcludedResources []string
	// PVMoveStorageClasses also offer the move action (mig_pv_move_storageclasses).
	PVMoveStorageClasses []string
	// EnableCachedClient makes remote clients read through informer caches.
	EnableCachedClient bool
	// EnableIntelligentPVResize, PVResizingThreshold and EnableDVMPVResizing control PV sizing.
	EnableIntelligentPVResize bool
	PVResizingThreshold       int
	EnableDVMPVResizing       bool
	// RsyncBackoffLimit overrides the DVM retry limit when non-zero; 0 when unset, so that an
	// explicit 20 (MTC's default) still wins over a DVM's spec.backOffLimit.
	RsyncBackoffLimit int
	// RsyncParallelTransfers is how many PVCs a DVM transfers at once.
	RsyncParallelTransfers int
	// RsyncEndpointType is how rsync servers are exposed: Route, NodePort or ClusterIP.
	RsyncEndpointType migv1.RsyncEndpointType
	// ClusterSubdomain is the route subdomain for rsync routes (cluster_subdomain).
	ClusterSubdomain string
	// StunnelTCPProxy is an HTTP CONNECT proxy for stunnel clients.
	StunnelTCPProxy string
	// SourceSupplementalGroups and TargetSupplementalGroups go on rsync pods.
	SourceSupplementalGroups, TargetSupplementalGroups []int64
	// DisableImageCopy turns off image copying while keeping ImageStream objects.
	DisableImageCopy bool
	// EnableWarmSync makes a cutover copy its volumes while the applications still run,
	// repeating while the changes shrink, so that only the last small delta is copied after
	// they are quiesced (enable_warm_sync; default true, false copies everything after
	// quiescing, as MTC does).
	EnableWarmSync bool
	// ImageCopyParallelism is how many image blobs a DirectImageStreamMigration copies at
	// once (image_copy_parallelism).
	ImageCopyParallelism int
	// HTTPProxy, HTTPSProxy and NoProxy are the MigrationController's httpProxy, httpsProxy
	// and noProxy: the operator reaches remote API servers, object stores and registries
	// through them (ProxyConfig, LiveProxy), and the pods it runs get them as environment.
	HTTPProxy, HTTPSProxy, NoProxy string
	// VeleroNamespace is where Velero runs on every cluster.
	VeleroNamespace string
	// RunControllers is migration_controller: false leaves only the MigrationController's
	// own controller (Velero, status) running, for a cluster where the operator is installed
	// to run Velero (MTC's source clusters).
	RunControllers bool
	// DeployVelero has the operator run Velero in VeleroNamespace (migration_velero), from
	// VeleroImage and VeleroAWSPluginImage (velero_image_fqin, velero_aws_plugin_fqin; empty
	// for the pinned release).
	DeployVelero                      bool
	VeleroImage, VeleroAWSPluginImage string
	// HookRunnerImage runs Ansible playbook hooks (hook_runner_image).
	HookRunnerImage string
	// TransferImage runs the rsync and stunnel containers of volume transfers
	// (rsync_transfer_image).
	TransferImage string
	// Rsync holds the rsync_opt_* options of volume transfers.
	Rsync RsyncOptions
	// HookResources are the requests and limits of hook Job containers
	// (hook_pod_{cpu,memory}_{request,limit}): bounded, so that a ResourceQuota that requires
	// them admits the pods and a runaway playbook cannot starve the node.
	HookResources corev1.ResourceRequirements
	// TransferPodResources are the requests and limits of each container of rsync server
	// pods on the destination (transfer_pod_{cpu,memory}_{request,limit}), and
	// ClientPodResources those of rsync client pods on the source
	// (client_pod_{cpu,memory}_{request,limit}).
	TransferPodResources, ClientPodResources corev1.ResourceRequirements
	// NoProgressWarning and NoProgressTimeout bound how long a waiting phase may observe no
	// progress: a NoProgress warning after the first, a failure after the second
	// (migration_no_progress_{warning,timeout}_minutes).
	NoProgressWarning, NoProgressTimeout time.Duration
	// Invalid lists values that did not parse and were replaced by their defaults.
	Invalid []string
}

// RsyncOptions are the rsync_opt_* settings: archive, hard links, delete and partial default
// to true; BwLimit is KiB/s, 0 for none; Extras are further options, validated by the
// transfer package before use.
type RsyncOptions struct {
	Archive, HardLinks, Delete, Partial bool
	BwLimit                             int
	Extras                              string
}

// Defaults returns the settings in force when there is no MigrationController.
func Defaults() Settings {
	return FromSpec(nil)
}

// FromSpec computes the settings from a MigrationController spec (nil means defaults).
func FromSpec(spec *migv1.MigrationControllerSpec) Settings {
	if spec == nil {
		spec = &migv1.MigrationControllerSpec{}
	}
	s := Settings{
		PVMoveStorageClasses:      spec.MigPVMoveStorageClasses,
		EnableCachedClient:        spec.MigControllerEnableCache,
		EnableIntelligentPVResize: spec.EnableIntelligentPVResize != nil && *spec.EnableIntelligentPVResize,
		EnableDVMPVResizing:       spec.EnableDVMPVResizing,
		RsyncEndpointType:         spec.RsyncEndpointType,
		StunnelTCPProxy:           spec.StunnelTCPProxy,
		ClusterSubdomain:          spec.ClusterSubdomain,
		DisableImageCopy:          spec.DisableImageCopy,
		EnableWarmSync:            onUnlessFalse(spec.EnableWarmSync),
		HTTPProxy:                 spec.HTTPProxy,
		HTTPSProxy:                spec.HTTPSProxy,
		NoProxy:                   spec.NoProxy,
		VeleroNamespace:           spec.VeleroNamespace,
		RunControllers:            onUnlessFalse(spec.MigrationController),
		DeployVelero:              spec.MigrationVelero != nil && *spec.MigrationVelero,
		VeleroImage:               spec.VeleroImageFqin,
		VeleroAWSPluginImage:      spec.VeleroAWSPluginFqin,
		HookRunnerImage:           spec.HookRunnerImage,
		TransferImage:             spec.RsyncTransferImage,
	}
	s.Rsync = RsyncOptions{
		Archive:   onUnlessFalse(spec.RsyncOptArchive),
		HardLinks: onUnlessFalse(spec.RsyncOptHardlinks),
		Delete:    onUnlessFalse(spec.RsyncOptDelete),
		Partial:   onUnlessFalse(spec.RsyncOptPartial),
		BwLimit:   s.positive("rsync_opt_bwlimit", spec.RsyncOptBwlimit, 0),
		Extras:    spec.RsyncOptExtras,
	}
	s.NamespaceLimit = s.positive("mig_namespace_limit", spec.MigNamespaceLimit, DefaultNamespaceLimit)
	s.PodLimit = s.positive("mig_pod_limit", spec.MigPodLimit, DefaultPodLimit)
	s.PVLimit = s.positive("mig_pv_limit", spec.MigPVLimit, DefaultPVLimit)
	s.PVResizingThreshold = s.positive("pv_resizing_threshold", spec.PVResizingThreshold, DefaultPVResizingThreshold)
	if s.PVResizingThreshold >= 100 {
		s.Invalid = append(s.Invalid, "pv_resizing_threshold: must be between 1 and 99")
		s.PVResizingThreshold = DefaultPVResizingThreshold
	}
	s.RsyncBackoffLimit = s.positive("rsync_backoff_limit", spec.RsyncBackoffLimit, 0)
	s.RsyncParallelTransfers = s.positive("rsync_parallel_transfers", spec.RsyncParallelTransfers, DefaultRsyncParallelTransfers)
	s.ImageCopyParallelism = s.positive("image_copy_parallelism", spec.ImageCopyParallelism, DefaultImageCopyParallelism)
	s.SourceSupplementalGroups = s.groups("src_supplemental_groups", spec.SrcSupplementalGroups)
	s.TargetSupplementalGroups = s.groups("target_supplemental_groups", spec.TargetSupplementalGroups)
	if s.RsyncEndpointType == "" {
		s.RsyncEndpointType = DefaultRsyncEndpointType
	}
	if s.VeleroNamespace == "" {
		s.VeleroNamespace = DefaultVeleroNamespace
	}
	if s.HookRunnerImage == "" {
		s.HookRunnerImage = DefaultHookRunnerImage
	}
	if s.TransferImage == "" {
		s.TransferImage = DefaultTransferImage
	}
	s.ExcludedResources = excludedResources(spec)
	s.HookResources = s.resources(map[string]quantitySetting{
		"hook_pod_cpu_request":    {spec.HookPodCPURequest, DefaultHookCPURequest},
		"hook_pod_memory_request": {spec.HookPodMemoryRequest, DefaultHookMemoryRequest},
		"hook_pod_cpu_limit":      {spec.HookPodCPULimit, DefaultHookCPULimit},
		"hook_pod_memory_limit":   {spec.HookPodMemoryLimit, DefaultHookMemoryLimit},
	}, "hook_pod_")
	s.TransferPodResources = s.resources(map[string]quantitySetting{
		"transfer_pod_cpu_request":    {spec.TransferPodCPURequest, DefaultTransferPodCPURequest},
		"transfer_pod_memory_request": {spec.TransferPodMemoryRequest, DefaultTransferPodMemoryRequest},
		"transfer_pod_cpu_limit":      {spec.TransferPodCPULimit, DefaultTransferPodCPULimit},
		"transfer_pod_memory_limit":   {spec.TransferPodMemoryLimit, DefaultTransferPodMemoryLimit},
	}, "transfer_pod_")
	s.ClientPodResources = s.resources(map[string]quantitySetting{
		"client_pod_cpu_request":    {spec.ClientPodCPURequest, DefaultTransferPodCPURequest},
		"client_pod_memory_request": {spec.ClientPodMemoryRequest, DefaultTransferPodMemoryRequest},
		"client_pod_cpu_limit":      {spec.ClientPodCPULimit, DefaultTransferPodCPULimit},
		"client_pod_memory_limit":   {spec.ClientPodMemoryLimit, DefaultTransferPodMemoryLimit},
	}, "client_pod_")
	s.NoProgressWarning = s.minutes("migration_no_progress_warning_minutes", spec.MigrationNoProgressWarningMinutes, DefaultNoProgressWarning)
	s.NoProgressTimeout = s.minutes("migration_no_progress_timeout_minutes", spec.MigrationNoProgressTimeoutMinutes, DefaultNoProgressTimeout)
	return s
}

// minutes parses an optional positive duration given as a number of minutes (10 or "10"), or
// with its unit ("90s", "1h"); unset or zero means the default.
func (s *Settings) minutes(field string, v *intstr.IntOrString, def time.Duration) time.Duration {
	if v == nil {
		return def
	}
	text := strings.TrimSpace(v.StrVal)
	if _, err := strconv.Atoi(text); v.Type == intstr.Int || err == nil {
		return time.Duration(s.positive(field, v, int(def/time.Minute))) * time.Minute
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %q is neither a number of minutes nor a duration", field, v.StrVal))
		return def
	case d < 0:
		s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %q is negative", field, v.StrVal))
		return def
	case d == 0:
		return def
	}
	return d
}

func excludedResources(spec *migv1.MigrationControllerSpec) []string {
	out := slices.Clone(DefaultExcludedResources)
	if spec.ExcludedResources != nil {
		out = slices.Clone(spec.ExcludedResources)
	}
	out = append(out, spec.AdditionalExcludedResources...)
	if spec.DisableImageMigration {
		out = append(out, "imagestreams", "imagestreamtags")
	}
	if spec.DisablePVMigration {
		out = append(out, "persistentvolumes", "persistentvolumeclaims")
	}
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(r string) bool {
		dup := seen[r] || r == ""
		seen[r] = true
		return dup
	})
}

// onUnlessFalse reads an optional switch that defaults to on.
func onUnlessFalse(p *bool) bool { return p == nil || *p }

// positive parses an optional positive integer; zero or unset means the default.
func (s *Settings) positive(field string, v *intstr.IntOrString, def int) int {
	if v == nil {
		return def
	}
	n := v.IntValue()
	if v.Type == intstr.String {
		parsed, err := strconv.Atoi(strings.TrimSpace(v.StrVal))
		if err != nil {
			s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %q is not a number", field, v.StrVal))
			return def
		}
		n = parsed
	}
	switch {
	case n == 0:
		return def
	case n < 0:
		s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %d is negative", field, n))
		return def
	}
	return n
}

// groups parses a comma-separated list of group IDs ("1000,2000"), or a single number.
func (s *Settings) groups(field string, v *intstr.IntOrString) []int64 {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return []int64{int64(v.IntVal)}
	}
	var out []int64
	for part := range strings.SplitSeq(v.StrVal, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil || id < 0 {
			s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %q is not a group ID", field, part))
			return nil
		}
		out = append(out, id)
	}
	return out
}

// quantitySetting is an optional resource quantity setting and its default.
type quantitySetting struct {
	value *intstr.IntOrString
	def   string
}

// resources reads <prefix>{cpu,memory}_{request,limit} settings into resource requirements.
// A value that does not parse, or is not positive, falls back to its default and is
// reported. A request above its limit (the API server refuses it) raises the limit when the
// request was set, and is lowered to the limit when only the limit was.
func (s *Settings) resources(fields map[string]quantitySetting, prefix string) corev1.ResourceRequirements {
	get := func(name string) resource.Quantity {
		f := fields[name]
		def := resource.MustParse(f.def)
		if f.value == nil {
			return def
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(f.value.String()))
		switch {
		case err != nil:
			s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %q is not a quantity", name, f.value.String()))
			return def
		case q.Sign() <= 0:
			s.Invalid = append(s.Invalid, fmt.Sprintf("%s: %q is not positive", name, f.value.String()))
			return def
		}
		return q
	}
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		reqName := prefix + string(kind) + "_request"
		req, limit := get(reqName), get(prefix+string(kind)+"_limit")
		switch {
		case req.Cmp(limit) <= 0:
		case fields[reqName].value != nil:
			limit = req
		default:
			req = limit
		}
		r.Requests[kind], r.Limits[kind] = req, limit
	}
	return r
}
