package migplan

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/transfer"
)

// proxySecretLabel marks the Secret that holds a cluster's proxy settings (MTC's contract).
const proxySecretLabel = "migration-proxy-config"

// proxyKeys are the keys a proxy Secret must have at least one of.
var proxyKeys = []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}

// routeKind is OpenShift's Route, the default rsync endpoint.
var routeKind = schema.GroupKind{Group: "route.openshift.io", Kind: "Route"}

// maxRoutedNamespace is the longest namespace whose rsync route host still fits a DNS label
// when no route subdomain is configured (Ferry's Route name, not MTC's "dvm-" prefix).
const maxRoutedNamespace = transfer.MaxRoutedNamespace

// imageStreamKind is OpenShift's ImageStream: where it is served, direct image migration needs
// the cluster's registry path.
var imageStreamKind = schema.GroupKind{Group: "image.openshift.io", Kind: "ImageStream"}

// clusterExtras is what every cluster is checked for besides namespaces and storage classes.
type clusterExtras struct {
	// proxySecrets are the Secrets labelled migration-proxy-config=true in the Velero namespace.
	proxySecrets []corev1.Secret
	// servesImageStreams says the cluster is OpenShift-like: it serves image.openshift.io.
	servesImageStreams bool
	// servesRoutes says the cluster serves route.openshift.io Routes.
	servesRoutes bool
}

func readExtras(ctx context.Context, c client.Client, namespace string) (clusterExtras, error) {
	list := &corev1.SecretList{}
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{proxySecretLabel: "true"}); err != nil {
		return clusterExtras{}, fmt.Errorf("list proxy Secrets: %w", err)
	}
	extras := clusterExtras{proxySecrets: list.Items}
	var err error
	if extras.servesImageStreams, err = serves(c, imageStreamKind); err != nil {
		return clusterExtras{}, err
	}
	if extras.servesRoutes, err = serves(c, routeKind); err != nil {
		return clusterExtras{}, err
	}
	return extras, nil
}

// serves reports whether the cluster serves a kind, through its RESTMapper.
func serves(c client.Client, gk schema.GroupKind) (bool, error) {
	_, err := c.RESTMapper().RESTMapping(gk)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("look up %s: %w", gk, err)
}

// clusterRole names a side of the plan in condition types and messages.
type clusterRole struct {
	name, proxyCondition, registryCondition string
}

var (
	sourceRole      = clusterRole{"source", migv1.SourceClusterProxySecretMisconfigured, migv1.SourceClusterNoRegistryPath}
	destinationRole = clusterRole{"destination", migv1.DestinationClusterProxySecretMisconfigured, migv1.DestinationClusterNoRegistryPath}
)

// validateProxySecret applies MTC's rule: at most one proxy Secret per cluster, with at least
// one of HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
func validateProxySecret(role clusterRole, secrets []corev1.Secret) []migv1.Condition {
	switch {
	case len(secrets) > 1:
		names := make([]string, 0, len(secrets))
		for _, s := range secrets {
			names = append(names, s.Name)
		}
		return []migv1.Condition{conditions.Critical(role.proxyCondition, migv1.Conflict, fmt.Sprintf(
			"More than one Secret labelled %s=true on the %s cluster: [%s]; keep one.", proxySecretLabel, role.name, strings.Join(names, ", ")))}
	case len(secrets) == 1 && !hasAnyKey(secrets[0], proxyKeys):
		return []migv1.Condition{conditions.Critical(role.proxyCondition, migv1.KeyNotFound, fmt.Sprintf(
			"The proxy Secret %s on the %s cluster has none of the keys [%s].", secrets[0].Name, role.name, strings.Join(proxyKeys, ", ")))}
	}
	return nil
}

func hasAnyKey(s corev1.Secret, keys []string) bool {
	for _, k := range keys {
		if _, ok := s.Data[k]; ok {
			return true
		}
		if _, ok := s.StringData[k]; ok {
			return true
		}
	}
	return false
}

// validateRegistryPath applies MTC's rule for direct image migration: a cluster that serves
// ImageStreams needs a registry path, except for state and storage conversion plans (which
// move no images). Plain Kubernetes clusters serve no ImageStreams and are never flagged.
func validateRegistryPath(role clusterRole, plan *migv1.MigPlan, planType string, cluster *migv1.MigCluster, extras clusterExtras) []migv1.Condition {
	if plan.Spec.IndirectImageMigration || !extras.servesImageStreams || cluster == nil || cluster.Status.RegistryPath != "" ||
		planType == migv1.StateMigrationPlan || planType == migv1.StorageConversionPlan {
		return nil
	}
	return []migv1.Condition{conditions.Critical(role.registryCondition, migv1.NotSet, fmt.Sprintf(
		"Direct image migration is selected and the %s cluster %s/%s is missing a configured Registry Path",
		role.name, cluster.Namespace, cluster.Name))}
}

// validateNamespaceLength warns, as MTC does, when direct volume migration will expose rsync
// through Routes and a destination namespace is too long for a route host without a
// configured subdomain.
func validateNamespaceLength(plan *migv1.MigPlan, destNamespaces []string, extras clusterExtras, endpoint migv1.RsyncEndpointType, subdomain string) []migv1.Condition {
	if plan.Spec.IndirectVolumeMigration || !extras.servesRoutes || endpoint != migv1.RsyncEndpointRoute || subdomain != "" {
		return nil
	}
	var long []string
	for _, ns := range destNamespaces {
		if len(ns) > maxRoutedNamespace {
			long = append(long, ns)
		}
	}
	if len(long) == 0 {
		return nil
	}
	return []migv1.Condition{conditions.Warn(migv1.NamespaceLengthExceeded, migv1.LengthExceeded, fmt.Sprintf(
		"Namespaces [%s] exceed %d characters and no destination cluster route subdomain was configured. "+
			"Direct Volume Migration may fail; set cluster_subdomain in the MigrationController.", strings.Join(long, ", "), maxRoutedNamespace))}
}
