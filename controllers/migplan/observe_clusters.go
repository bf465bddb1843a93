package migplan

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/pkg/workloads"
)

// clusterWideListThreshold is the number of namespaces above which a kind is listed once
// across the cluster and filtered in memory, rather than with one request per namespace.
const clusterWideListThreshold = 16

// clusterFacts is what was read from the source or the destination cluster.
type clusterFacts struct {
	// existing holds which of the namespaces asked about exist.
	existing map[string]bool
	classes  []storagev1.StorageClass
	// extras are the checks every cluster gets (proxy Secrets, image registry API).
	extras clusterExtras
	// pvcs are the PVCs of the plan's namespaces on this cluster (the destination's: those rsync
	// would copy into).
	pvcs []corev1.PersistentVolumeClaim
	// The rest is read from the source only.
	pods         []corev1.Pod
	pvs          []corev1.PersistentVolume
	templates    []PodTemplateOwner
	unknownKinds []string
	// usage is the claims' measured usage, when PV resizing asks for it.
	usage pvUsage
}

// observeClusters reads the source and destination clusters when they are Ready.
func (r *Reconciler) observeClusters(ctx context.Context, f *facts) error {
	pairs, _ := parseNamespaces(f.plan.Spec.Namespaces)
	veleroNS := f.settings.VeleroNamespace
	if clusterReady(f.src) {
		c, err := r.Clusters.Get(ctx, f.src)
		if err != nil {
			return fmt.Errorf("client for source cluster: %w", err)
		}
		if f.source, err = readSource(ctx, c, append(sources(pairs), veleroNS), f.plan.Spec.IncludedResources); err != nil {
			return fmt.Errorf("read source cluster %s: %w", f.src.Name, err)
		}
		if f.source.extras, err = readExtras(ctx, c, veleroNS); err != nil {
			return fmt.Errorf("read source cluster %s: %w", f.src.Name, err)
		}
		if resizingAnalysis(f.settings) && len(f.source.pvcs) > 0 {
			cs, err := r.Clusters.Clientset(ctx, f.src)
			if err != nil {
				return err
			}
			f.source.usage = measureUsage(ctx, cs, f.source.pods, f.source.pvcs)
		}
	}
	if clusterReady(f.dest) {
		c, err := r.Clusters.Get(ctx, f.dest)
		if err != nil {
			return fmt.Errorf("client for destination cluster: %w", err)
		}
		f.destination = &clusterFacts{}
		if f.destination.existing, err = existingNamespaces(ctx, c, append(destinations(pairs), veleroNS)); err != nil {
			return fmt.Errorf("read destination cluster %s: %w", f.dest.Name, err)
		}
		present := slices.DeleteFunc(destinations(pairs), func(n string) bool { return !f.destination.existing[n] })
		pvcs := &corev1.PersistentVolumeClaimList{}
		if err := listIn(ctx, c, pvcs, present); err != nil {
			return fmt.Errorf("read destination cluster %s: %w", f.dest.Name, err)
		}
		f.destination.pvcs = pvcs.Items
		if f.destination.classes, err = storageClasses(ctx, c); err != nil {
			return fmt.Errorf("read destination cluster %s: %w", f.dest.Name, err)
		}
		if f.destination.extras, err = readExtras(ctx, c, veleroNS); err != nil {
			return fmt.Errorf("read destination cluster %s: %w", f.dest.Name, err)
		}
		if !f.dest.Spec.IsHostCluster {
			// rsync_endpoint_type and cluster_subdomain are the destination cluster's own.
			if f.settings, err = r.Settings.ForDestination(ctx, f.settings, c); err != nil {
				return err
			}
		}
	}
	if f.source != nil && f.destination != nil {
		present := slices.DeleteFunc(sources(pairs), func(n string) bool { return !f.source.existing[n] })
		var err error
		if f.incompatible, err = r.incompatibleNamespaces(ctx, f, present); err != nil {
			return fmt.Errorf("check GVK compatibility: %w", err)
		}
	}
	return nil
}

func readSource(ctx context.Context, c client.Client, namespaces []string, included []*metav1.GroupKind) (*clusterFacts, error) {
	cf := &clusterFacts{}
	var err error
	if cf.existing, err = existingNamespaces(ctx, c, namespaces); err != nil {
		return nil, err
	}
	present := slices.DeleteFunc(slices.Clone(namespaces), func(n string) bool { return !cf.existing[n] })
	if cf.classes, err = storageClasses(ctx, c); err != nil {
		return nil, err
	}
	pods, pvcs := &corev1.PodList{}, &corev1.PersistentVolumeClaimList{}
	for _, l := range []client.ObjectList{pods, pvcs} {
		if err := listIn(ctx, c, l, present); err != nil {
			return nil, err
		}
	}
	cf.pods, cf.pvcs = pods.Items, pvcs.Items
	pvs := &corev1.PersistentVolumeList{}
	if len(cf.pvcs) > 0 {
		if err := c.List(ctx, pvs); err != nil {
			return nil, fmt.Errorf("list PersistentVolumes: %w", err)
		}
	}
	cf.pvs = pvs.Items
	if cf.templates, err = podTemplates(ctx, c, present); err != nil {
		return nil, err
	}
	cf.unknownKinds = unknownKinds(c.RESTMapper(), included)
	return cf, nil
}

// existingNamespaces reports which of the names exist as namespaces.
func existingNamespaces(ctx context.Context, c client.Reader, names []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(names) > clusterWideListThreshold {
		list := &corev1.NamespaceList{}
		if err := c.List(ctx, list); err != nil {
			return nil, fmt.Errorf("list namespaces: %w", err)
		}
		present := map[string]bool{}
		for _, ns := range list.Items {
			present[ns.Name] = true
		}
		for _, n := range names {
			if present[n] {
				out[n] = true
			}
		}
		return out, nil
	}
	for _, n := range names {
		err := c.Get(ctx, client.ObjectKey{Name: n}, &corev1.Namespace{})
		switch {
		case err == nil:
			out[n] = true
		case client.IgnoreNotFound(err) != nil:
			return nil, fmt.Errorf("get namespace %s: %w", n, err)
		}
	}
	return out, nil
}

func storageClasses(ctx context.Context, c client.Reader) ([]storagev1.StorageClass, error) {
	list := &storagev1.StorageClassList{}
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list StorageClasses: %w", err)
	}
	return list.Items, nil
}

// listIn fills list with the objects of its kind in the given namespaces.
func listIn(ctx context.Context, c client.Reader, list client.ObjectList, namespaces []string) error {
	if len(namespaces) > clusterWideListThreshold {
		if err := c.List(ctx, list); err != nil {
			return fmt.Errorf("list %T: %w", list, err)
		}
		return keepNamespaces(list, namespaces)
	}
	var all []runtime.Object
	for _, ns := range namespaces {
		part := list.DeepCopyObject().(client.ObjectList)
		if err := c.List(ctx, part, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("list %T in %s: %w", list, ns, err)
		}
		items, err := meta.ExtractList(part)
		if err != nil {
			return fmt.Errorf("extract %T: %w", list, err)
		}
		all = append(all, items...)
	}
	return meta.SetList(list, all)
}

func keepNamespaces(list client.ObjectList, namespaces []string) error {
	items, err := meta.ExtractList(list)
	if err != nil {
		return fmt.Errorf("extract %T: %w", list, err)
	}
	want := map[string]bool{}
	for _, n := range namespaces {
		want[n] = true
	}
	items = slices.DeleteFunc(items, func(o runtime.Object) bool {
		obj, ok := o.(client.Object)
		return !ok || !want[obj.GetNamespace()]
	})
	return meta.SetList(list, items)
}

// podTemplates reads the pod templates of the workloads in the namespaces, so that PVCs used
// by scaled-down workloads still count as referenced.
func podTemplates(ctx context.Context, c client.Reader, namespaces []string) ([]PodTemplateOwner, error) {
	return workloads.Templates(ctx, func(ctx context.Context, l client.ObjectList) error { return listIn(ctx, c, l, namespaces) })
}

// unknownKinds returns the included kinds the source cluster does not serve.
func unknownKinds(mapper meta.RESTMapper, included []*metav1.GroupKind) []string {
	var out []string
	for _, gk := range included {
		if gk == nil {
			continue
		}
		if _, err := mapper.RESTMapping(schema.GroupKind{Group: gk.Group, Kind: gk.Kind}); err != nil {
			name := gk.Kind
			if gk.Group != "" {
				name += "." + gk.Group
			}
			out = append(out, name)
		}
	}
	return out
}
