package settings

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// PreferredName is the name MTC gives its MigrationController; when several exist in the
// operator's namespace this one wins, else the first by name.
const PreferredName = "migration-controller"

// +kubebuilder:rbac:groups=migration.openshift.io,resources=migrationcontrollers,verbs=get;list;watch

// Reader reads the settings in force from the operator's namespace.
type Reader struct {
	client    client.Reader
	namespace string
}

// NewReader returns a Reader that lists MigrationControllers in namespace through c (the
// manager's cached client, so that a read costs no API call).
func NewReader(c client.Reader, namespace string) *Reader {
	return &Reader{client: c, namespace: namespace}
}

// Get returns the settings in force now: MTC's defaults when no MigrationController exists.
func (r *Reader) Get(ctx context.Context) (Settings, error) {
	list := &migv1.MigrationControllerList{}
	if err := r.client.List(ctx, list, client.InNamespace(r.namespace)); err != nil {
		return Defaults(), fmt.Errorf("list MigrationControllers in %s: %w", r.namespace, err)
	}
	if len(list.Items) == 0 {
		return Defaults(), nil
	}
	chosen := &list.Items[0]
	for i := range list.Items {
		switch {
		case list.Items[i].Name == PreferredName:
			return FromSpec(&list.Items[i].Spec), nil
		case list.Items[i].Name < chosen.Name:
			chosen = &list.Items[i]
		}
	}
	return FromSpec(&chosen.Spec), nil
}
