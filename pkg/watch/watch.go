// Package watch maps events on referenced objects (Secrets, MigClusters, MigStorages...) to
// reconcile requests for the objects that reference them, through field indexes. Every
// controller that watches what its objects point at uses it.
package watch

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Key is the index value naming obj: "namespace/name".
func Key(obj client.Object) string {
	return types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}.String()
}

// Referencing returns a map function that, for an event on an object, requests a reconcile
// of every object of newList's kind whose field index holds that object's Key. A failed list
// is logged: the periodic recheck of the referencing objects covers the missed event.
func Referencing(c client.Reader, newList func() client.ObjectList, index string) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		return Requests(ctx, c, newList(), client.MatchingFields{index: Key(obj)})
	}
}

// Requests lists objects with opts and returns a reconcile request for each.
func Requests(ctx context.Context, c client.Reader, list client.ObjectList, opts ...client.ListOption) []reconcile.Request {
	if err := c.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List objects to reconcile after an event", "list", list.GetObjectKind().GroupVersionKind().Kind)
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Extract listed objects")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(items))
	for _, item := range items {
		if o, ok := item.(client.Object); ok {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		}
	}
	return reqs
}
