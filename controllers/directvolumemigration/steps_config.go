package directvolumemigration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/itinerary"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// createCredentials makes the migration's CA, certificates and rsync password once, in a
// Secret on the host next to the DVM (MTC's CreateRsyncConfig). Both clusters' transfer
// Secrets are built from it, so a crash between creating them never leaves two halves that
// do not match.
func createCredentials(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	key := types.NamespacedName{Namespace: s.DVM.Namespace, Name: s.Names.Credentials()}
	err := s.Host.Get(ctx, key, &corev1.Secret{})
	switch {
	case err == nil:
		return itinerary.Done(), nil
	case !apierrors.IsNotFound(err):
		return itinerary.Outcome{}, fmt.Errorf("get credentials Secret %s: %w", key, err)
	}
	creds, err := transfer.NewCredentials(s.DVM.Name, s.Now())
	if err != nil {
		return itinerary.Outcome{}, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: s.labels()},
		Type:       corev1.SecretTypeOpaque,
		Data:       creds.Data(),
	}
	if err := s.Host.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return itinerary.Outcome{}, fmt.Errorf("create credentials Secret %s: %w", key, err)
	}
	return itinerary.Done(), nil
}

// credentials reads the migration's credentials from the host.
func credentials(ctx context.Context, s *Scope) (*transfer.Credentials, error) {
	key := types.NamespacedName{Namespace: s.DVM.Namespace, Name: s.Names.Credentials()}
	secret := &corev1.Secret{}
	if err := s.Host.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("get credentials Secret %s: %w", key, err)
	}
	creds, err := transfer.CredentialsFrom(secret.Data)
	if err != nil {
		return nil, fmt.Errorf("credentials Secret %s: %w", key, err)
	}
	return creds, nil
}

// runningServer describes the rsync server of a destination namespace with the identity
// its pod runs as (which its rsyncd.conf depends on).
func (s *Scope) runningServer(ctx context.Context, ns string) (transfer.Server, error) {
	id, err := s.identity(ctx, s.Destination, ns)
	if err != nil {
		return transfer.Server{}, err
	}
	srv := s.server(ns)
	srv.Identity = id
	return srv, nil
}

// server describes the rsync server of a destination namespace, as far as its endpoint is
// concerned.
func (s *Scope) server(ns string) transfer.Server {
	srv := transfer.Server{
		Namespace: ns, Name: s.Names.Server(), Labels: s.labels(), Image: s.image(),
		SupplementalGroups: s.Settings.TargetSupplementalGroups, Resources: s.Settings.TransferPodResources,
		Env: s.Settings.ProxyEnv(),
	}
	for _, p := range s.pvcs() {
		if destNamespace(p) == ns {
			srv.Volumes = append(srv.Volumes, transfer.ServerVolume{PVC: destName(p), Module: transfer.Module(destName(p)), SourceNamespace: p.Namespace})
		}
	}
	return srv
}

// createTransferConfig creates the server ConfigMap and Secret in each destination namespace
// and the client ConfigMap (one stunnel configuration per destination endpoint) and Secret in
// each source namespace (MTC's CreateStunnelConfig).
func createTransferConfig(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	creds, err := credentials(ctx, s)
	if err != nil {
		return itinerary.Outcome{}, err
	}
	proxy, err := transfer.ParseProxy(s.Settings.StunnelTCPProxy)
	if err != nil {
		return itinerary.Failed("InvalidStunnelTCPProxy", err.Error()), nil
	}
	endpoints := map[string]transfer.Endpoint{}
	for _, ns := range s.destinationNamespaces() {
		srv, err := s.runningServer(ctx, ns)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		cm, err := srv.ConfigMap()
		if err != nil {
			return unsafeValue(err)
		}
		secret, err := srv.Secret(creds)
		if err != nil {
			return unsafeValue(err)
		}
		if err := create(ctx, s.Destination.Client, cm, secret); err != nil {
			return itinerary.Outcome{}, err
		}
		ep, err := endpoint(ctx, s, ns)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if ep == nil {
			return itinerary.Poll(pollPods), nil
		}
		endpoints[ns] = *ep
	}
	for _, ns := range s.sourceNamespaces() {
		cfg := transfer.ClientConfig{Namespace: ns, Name: s.Names.Client(), Labels: s.labels(), Proxy: proxy}
		seen := map[string]bool{}
		for _, p := range s.pvcs() {
			if d := destNamespace(p); p.Namespace == ns && !seen[d] {
				seen[d] = true
				cfg.Endpoints = append(cfg.Endpoints, endpoints[d])
			}
		}
		cm, err := cfg.ConfigMap()
		if err != nil {
			return unsafeValue(err)
		}
		secret, err := cfg.Secret(creds)
		if err != nil {
			return unsafeValue(err)
		}
		if err := create(ctx, s.Source.Client, cm, secret); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	return itinerary.Done(), nil
}

// unsafeValue fails the DVM for a value the transfer configuration refused
// (transfer.ErrUnsafeValue: it would have added lines to a configuration file); validation
// refuses the user's values before anything is created, so this is a value read from a
// cluster (an endpoint's address). Other errors go to back-off.
func unsafeValue(err error) (itinerary.Outcome, error) {
	if errors.Is(err, transfer.ErrUnsafeValue) {
		return itinerary.Failed("InvalidTransferSettings", err.Error()), nil
	}
	return itinerary.Outcome{}, err
}

// create creates objects, accepting those that exist already.
func create(ctx context.Context, c client.Client, objs ...client.Object) error {
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// createServerPods creates the rsync server pod of each destination namespace (MTC's
// CreateRsyncTransferPods).
func createServerPods(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	for _, ns := range s.destinationNamespaces() {
		srv, err := s.runningServer(ctx, ns)
		if err != nil {
			return itinerary.Outcome{}, err
		}
		if err := s.createPod(ctx, s.Destination, srv.Pod()); err != nil {
			return itinerary.Outcome{}, err
		}
	}
	// A refused pod is created again while WaitForRsyncTransferPodsRunning waits for it.
	return itinerary.Done(), nil
}

// createPod creates a transfer pod on cluster. A pod the cluster refuses (quota, LimitRange,
// Pod Security admission) is recorded for the FailedCreatingRsyncPods warning and is not an
// error: the caller waits and tries again, under the no-progress watchdog.
func (s *Scope) createPod(ctx context.Context, cluster *Remote, pod *corev1.Pod) error {
	err := create(ctx, cluster.Client, pod)
	if msg := refusal(err); msg != "" {
		role := "destination"
		if cluster == s.Source {
			role = "source"
		}
		s.refused(role, pod.Namespace+"/"+pod.Name, msg)
		s.Log.Info("Pod refused", "cluster", role, "pod", pod.Namespace+"/"+pod.Name, "reason", msg)
		return nil
	}
	if err == nil {
		s.Log.V(1).Info("Pod created or found", "pod", pod.Namespace+"/"+pod.Name)
	}
	return err
}

// serverPendingWarning is how long server pods may take to run before a warning.
const serverPendingWarning = 3 * time.Minute

// waitServerPodsRunning waits until every rsync server pod runs; a pod that ended is
// recreated (it runs until the DVM deletes it).
func waitServerPodsRunning(ctx context.Context, s *Scope) (itinerary.Outcome, error) {
	var pending []string
	for _, ns := range s.destinationNamespaces() {
		pod := &corev1.Pod{}
		err := s.Destination.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: s.Names.Server()}, pod)
		switch {
		case apierrors.IsNotFound(err):
			srv, err := s.runningServer(ctx, ns)
			if err != nil {
				return itinerary.Outcome{}, err
			}
			if err := s.createPod(ctx, s.Destination, srv.Pod()); err != nil {
				return itinerary.Outcome{}, err
			}
			pending = append(pending, ns+"/"+s.Names.Server()+" (not created)")
			continue
		case err != nil:
			return itinerary.Outcome{}, fmt.Errorf("get rsync server pod in %s: %w", ns, err)
		}
		if pod.Status.Phase != corev1.PodRunning || !allContainersRunning(pod) {
			pending = append(pending, fmt.Sprintf("%s/%s (%s)", ns, pod.Name, podState(pod)))
		}
	}
	if len(pending) == 0 {
		return itinerary.Done(), nil
	}
	observed := s.pollUnlessRefused(pollPods).Observed("the rsync server pods on the destination cluster",
		strings.Join(append(pending, s.refusals...), "; "))
	if started := cursorOf(s.DVM).PhaseStartedAt; !started.IsZero() && s.Now().Sub(started) > serverPendingWarning {
		s.warn(migv1.RsyncTransferPodsPending, "", fmt.Sprintf(
			"Rsync Transfer Pod(s) on destination cluster have not started Running within 3 minutes: %s. Check their events with kubectl describe pod.",
			strings.Join(pending, ", ")))
	}
	return observed, nil
}

// podState is a pod's phase and the state of its containers that are not running, such as
// "Pending, rsync: waiting (ContainerCreating)".
func podState(pod *corev1.Pod) string {
	out := string(pod.Status.Phase)
	for _, c := range pod.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			out += fmt.Sprintf(", %s: waiting (%s)", c.Name, c.State.Waiting.Reason)
		case c.State.Terminated != nil:
			out += fmt.Sprintf(", %s: terminated (%s)", c.Name, c.State.Terminated.Reason)
		}
	}
	return out
}

func allContainersRunning(pod *corev1.Pod) bool {
	if len(pod.Status.ContainerStatuses) < len(pod.Spec.Containers) {
		return false
	}
	for _, c := range pod.Status.ContainerStatuses {
		if c.State.Running == nil {
			return false
		}
	}
	return true
}
