package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/settings"
)

// setting is a MigrationController field the settings page shows and edits.
type setting struct {
	Key, Kind, Default, Help string
	// Value is the current value as the CR holds it, "" when unset.
	Value string
}

// Setting kinds: how a typed value is written into the CR.
const (
	kindNumber   = "number"   // a whole number (MTC also accepted "100", which Ferry reads too)
	kindBool     = "bool"     // true or false
	kindQuantity = "quantity" // a Kubernetes quantity, kept as a string ("10Gi", "100m")
)

// settingsDoc are the settings of MTC's documentation (seed §11.6: limits for large
// migrations, PV resizing, cached clients) and Ferry's own performance knobs, with what each
// does as Ferry implements it.
var settingsDoc = []setting{
	{Key: "mig_namespace_limit", Kind: kindNumber, Default: "10", Help: "The most namespaces a plan may hold; a plan with more is not Ready (NamespaceLimitExceeded)."},
	{Key: "mig_pod_limit", Kind: kindNumber, Default: "100", Help: "Running pods in a plan's namespaces above which the plan gets a warning (PodLimitExceeded)."},
	{Key: "mig_pv_limit", Kind: kindNumber, Default: "100", Help: "Persistent volumes in a plan above which the plan gets a warning (PvLimitExceeded)."},
	{Key: "enable_dvm_pv_resizing", Kind: kindBool, Default: "false", Help: "Create destination PVCs with the proposed capacity (usage plus pv_resizing_threshold) so a full volume fits; turns the usage measurement on. Needs ClusterRole ferry-pv-resizing bound on the source."},
	{Key: "enable_intelligent_pv_resize", Kind: kindBool, Default: "false", Help: "Measure the usage of each plan's volumes and propose capacities (MigPlan proposedCapacity, PvCapacityAdjustmentRequired). MTC's default is true; Ferry's false because it needs nodes/proxy on the source."},
	{Key: "pv_resizing_threshold", Kind: kindNumber, Default: "3", Help: "Headroom in percent added to a volume's usage when proposing its capacity."},
	{Key: "mig_controller_enable_cache", Kind: kindBool, Default: "false", Help: "Read remote clusters through cached (watched) clients: faster across regions, more memory."},
	{Key: "mig_controller_limits_cpu", Kind: kindQuantity, Default: "1", Help: "MTC's controller CPU limit. Ferry's operator takes its resources from its Deployment and reports this as not acted on."},
	{Key: "mig_controller_limits_memory", Kind: kindQuantity, Default: "10Gi", Help: "MTC's controller memory limit; not acted on by Ferry (see its Deployment)."},
	{Key: "mig_controller_requests_cpu", Kind: kindQuantity, Default: "100m", Help: "MTC's controller CPU request; not acted on by Ferry (see its Deployment)."},
	{Key: "mig_controller_requests_memory", Kind: kindQuantity, Default: "350Mi", Help: "MTC's controller memory request; not acted on by Ferry (see its Deployment)."},
	{Key: "rsync_parallel_transfers", Kind: kindNumber, Default: "10", Help: "How many PVCs a direct volume migration copies at once (Ferry's)."},
	{Key: "image_copy_parallelism", Kind: kindNumber, Default: "8", Help: "How many image blobs a direct image migration copies at once (Ferry's)."},
	{Key: "enable_warm_sync", Kind: kindBool, Default: "true", Help: "Copy volumes while the application runs, then only what changed after quiescing: shorter downtime (Ferry's). False copies everything after quiescing, as MTC does."},
}

// settingsData is the settings page's live part.
type settingsData struct {
	Name       string
	Found      bool
	Settings   []setting
	Conditions migv1.Conditions
}

func (s *Server) loadSettings(ctx context.Context, c client.Client, _ string) (any, error) {
	list := &migv1.MigrationControllerList{}
	if err := c.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		return nil, fmt.Errorf("list MigrationControllers: %w", err)
	}
	d := settingsData{Settings: append([]setting(nil), settingsDoc...)}
	mc := settings.InForce(list.Items)
	if mc == nil {
		return d, nil
	}
	d.Name, d.Found, d.Conditions = mc.Name, true, mc.Status.Conditions
	// The typed object drops fields Ferry does not model; read the values as the CR holds them.
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(migv1.GroupVersion.WithKind("MigrationController"))
	if err := c.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: mc.Name}, u); err != nil {
		return nil, fmt.Errorf("read MigrationController %s: %w", mc.Name, err)
	}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	for i := range d.Settings {
		if v, ok := spec[d.Settings[i].Key]; ok && v != nil {
			d.Settings[i].Value = fmt.Sprint(v)
		}
	}
	return d, nil
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, req *request) {
	s.listPage(w, r, req, "settings", "Settings", nil, "")
}

// settingsPatch is the JSON merge patch of the settings form: only the fields whose value
// changed, an emptied field removed (null), so fields the page does not show are kept.
func settingsPatch(current []setting, form map[string][]string) ([]byte, error) {
	spec := map[string]any{}
	for _, st := range current {
		vals, ok := form[st.Key]
		if !ok {
			continue
		}
		v := strings.TrimSpace(vals[0])
		if v == st.Value {
			continue
		}
		if v == "" {
			spec[st.Key] = nil
			continue
		}
		switch st.Kind {
		case kindNumber:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: %q is not a whole number", st.Key, v)
			}
			spec[st.Key] = n
		case kindBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not true or false", st.Key, v)
			}
			spec[st.Key] = b
		default:
			spec[st.Key] = v
		}
	}
	if len(spec) == 0 {
		return nil, nil
	}
	return json.Marshal(map[string]any{"spec": spec})
}

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, cancel := timeout(r)
	defer cancel()
	data, err := s.loadSettings(ctx, req.client, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := data.(settingsData)
	if !d.Found {
		s.listPage(w, r, req, "settings", "Settings", nil, "There is no MigrationController in "+s.namespace+" to change.")
		return
	}
	patch, err := settingsPatch(d.Settings, r.PostForm)
	if err == nil && patch != nil {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(migv1.GroupVersion.WithKind("MigrationController"))
		u.SetNamespace(s.namespace)
		u.SetName(d.Name)
		if err = req.client.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil {
			err = fmt.Errorf("update MigrationController %s: %w", d.Name, err)
		}
	}
	if err != nil {
		s.listPage(w, r, req, "settings", "Settings", nil, "The settings were not saved: "+err.Error())
		return
	}
	see(w, r, "/settings")
}
