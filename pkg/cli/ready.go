package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// readyObject is a Ferry object whose controller reports Ready and blocking conditions.
type readyObject interface {
	client.Object
	conditions.Object
}

// readiness is what the controller said about an object's current spec.
type readiness int

const (
	pending readiness = iota // not yet validated, or validated and waiting on something.
	ready                    // Ready=True.
	blocked                  // The current generation was validated and has blocking conditions.
)

// readinessOf reads obj's verdict. An object whose status says which generation it describes
// is Ready or blocked only once that is the current one, so a stale verdict on an older spec
// (a plan Ready before its volume selections changed) is not taken for the new one's.
func readinessOf(obj readyObject) readiness {
	if observed, ok := observedGeneration(obj); ok && observed < obj.GetGeneration() {
		return pending
	}
	if conditions.IsTrue(obj.GetConditions(), migv1.Ready) {
		return ready
	}
	if !conditions.HasBlocker(obj.GetConditions()) {
		return pending
	}
	return blocked
}

// observedGeneration reads status.observedGeneration of any Ferry kind that has it.
func observedGeneration(obj runtime.Object) (int64, bool) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return 0, false
	}
	status, _ := u["status"].(map[string]any)
	g, ok := status["observedGeneration"].(int64)
	return g, ok
}

// errNotReady ends a wait whose object the controller refused; the conditions were printed.
var errNotReady = ExitError{Code: 1}

// waitReady waits, by watch, until the controller reports obj Ready, prints why not when it is
// blocked or timeout passes, and returns errNotReady then.
func (o *Options) waitReady(ctx context.Context, obj readyObject, timeout time.Duration) error {
	kind := fmt.Sprintf("%T", obj)
	kind = kind[strings.LastIndex(kind, ".")+1:]
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := o.watch(ctx, obj.DeepCopyObject().(client.Object))
	if err != nil {
		return err
	}
	o.printf("Waiting for %s %s to be Ready...\n", kind, obj.GetName())
	var state readiness
	err = w.until(ctx, 5*time.Second, func(ctx context.Context) (bool, error) {
		if err := w.reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		state = readinessOf(obj)
		return state != pending, nil
	})
	switch {
	case state == ready:
		o.printf("%s %s is Ready.\n", kind, obj.GetName())
		return nil
	case state == blocked:
		o.printf("%s %s is not Ready:\n", kind, obj.GetName())
	case errors.Is(err, context.DeadlineExceeded):
		o.printf("%s %s is not Ready after %s:\n", kind, obj.GetName(), timeout)
	default:
		return err
	}
	printBlockers(o.Out, obj.GetConditions())
	return errNotReady
}
