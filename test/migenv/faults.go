package migenv

// Faults the test/faults suite injects into a running environment. Each one has its way
// back (the suite restores what it breaks), so that later specs find the environment whole.

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/install"
)

// RotateSourceToken rotates the token the source MigCluster uses, as an administrator
// revoking a leaked token would: the ServiceAccount of config/rbac/remote/source is deleted
// and created again (which invalidates every token minted for it), a new token is minted and
// written into the MigCluster's Secret. Between the two, the operator's token is refused.
func (e *Env) RotateSourceToken(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	objs, err := install.Build("config/rbac/remote/" + string(install.Source))
	if err != nil {
		return err
	}
	var sa *corev1.ServiceAccount
	for _, u := range objs {
		if u.GetKind() == "ServiceAccount" {
			sa = &corev1.ServiceAccount{}
			sa.Namespace, sa.Name = u.GetNamespace(), u.GetName()
		}
	}
	if sa == nil {
		return errors.New("config/rbac/remote/source has no ServiceAccount")
	}
	if err := client.IgnoreNotFound(e.Source.Client.Delete(ctx, sa)); err != nil {
		return fmt.Errorf("delete ServiceAccount %s/%s on the source: %w", sa.Namespace, sa.Name, err)
	}
	for {
		err := e.Source.Client.Get(ctx, client.ObjectKeyFromObject(sa), &corev1.ServiceAccount{})
		if apierrors.IsNotFound(err) {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ServiceAccount %s/%s is not gone: %w", sa.Namespace, sa.Name, ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
	token, err := install.RemoteToken(ctx, e.Source, install.Source)
	if err != nil {
		return err
	}
	cluster := &migv1.MigCluster{}
	if err := e.Destination.Client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: fixtures.SourceCluster}, cluster); err != nil {
		return fmt.Errorf("get the source MigCluster: %w", err)
	}
	ref := cluster.Spec.ServiceAccountSecretRef
	if ref == nil {
		return errors.New("the source MigCluster has no token Secret")
	}
	secret := &corev1.Secret{}
	if err := e.Destination.Client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, secret); err != nil {
		return fmt.Errorf("get the source token Secret: %w", err)
	}
	patch := client.MergeFrom(secret.DeepCopy())
	secret.Data[migv1.SaTokenKey] = []byte(token)
	if err := e.Destination.Client.Patch(ctx, secret, patch); err != nil {
		return fmt.Errorf("write the new source token: %w", err)
	}
	return nil
}

// FirewallSource cuts the destination's pods (the operator's among them) off the source's
// API server, registry, node and pods when on, as a firewall in front of an on-premises
// source does, and opens the paths again when off. The source's own pods keep reaching all of
// them, and connections the source opens to the destination pass.
func (e *Env) FirewallSource(on bool) error {
	ports, err := install.Ports(e.Source.URL(), "https://"+e.SourceRegistry.Address)
	if err != nil {
		return err
	}
	for _, port := range ports {
		e.DestinationNode().BlockLoopbackPort(port, on)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.DestinationNode().BlockNetworks(ctx, e.SourceNode().Networks(), on)
}
