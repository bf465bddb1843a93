package migcluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/permissions"
)

// ReasonForbidden is the reason of the privilege conditions.
const ReasonForbidden = "Forbidden"

// listedPermissions bounds how many missing permissions a condition message names.
const listedPermissions = 12

// checkPrivileges asks the cluster, as the token (or, on the host, as the operator itself),
// for every permission Ferry uses on a migration's source and destination and for a rollback
// (pkg/permissions, the rules of config/rbac/remote). A token that can play neither side
// fails the check; one that can play one side gets a warning naming what the other lacks.
func (r *Reconciler) checkPrivileges(ctx context.Context, s *scope) error {
	cfg := s.config
	if s.cluster.Spec.IsHostCluster {
		var err error
		if cfg, err = r.Clusters.RESTConfig(ctx, s.cluster); err != nil {
			return fmt.Errorf("host REST config: %w", err)
		}
	}
	missing, err := missingPrivileges(ctx, cfg)
	switch {
	case errors.Is(err, clustercache.ErrUnauthorized):
		s.failure = tokenRejected(s.secret)
		return nil
	case err != nil:
		s.failure = connectFailed(err)
		return nil
	}
	who := "The `saToken`"
	if s.cluster.Spec.IsHostCluster {
		who = "The operator's service account"
	}
	if len(missing.source) > 0 && len(missing.destination) > 0 {
		s.failure = ptr(conditions.Critical(migv1.SaTokenNotPrivileged, ReasonForbidden, fmt.Sprintf(
			"%s may not act as a migration's source nor as its destination. As a source it lacks: %s. As a destination it lacks: %s. %s",
			who, names(missing.source), names(missing.destination), bindHint(s.cluster, ""))))
		return nil
	}
	if len(missing.source) > 0 {
		s.warnings = append(s.warnings, conditions.Warn(migv1.NotPrivilegedAsSource, ReasonForbidden, fmt.Sprintf(
			"%s may not act as a migration's source: it lacks %s. %s", who, names(missing.source), bindHint(s.cluster, permissions.SourceRole))))
	}
	if len(missing.destination) > 0 {
		s.warnings = append(s.warnings, conditions.Warn(migv1.NotPrivilegedAsDestination, ReasonForbidden, fmt.Sprintf(
			"%s may not act as a migration's destination: it lacks %s. %s", who, names(missing.destination), bindHint(s.cluster, permissions.DestinationRole))))
	}
	if len(missing.destination) == 0 && len(missing.rollback) > 0 {
		s.warnings = append(s.warnings, conditions.Warn(migv1.RollbackNotPrivileged, ReasonForbidden, fmt.Sprintf(
			"%s may not %s: a rollback on this cluster leaves the kinds it may not delete in place. %s",
			who, names(missing.rollback), bindHint(s.cluster, permissions.RollbackRole))))
	}
	return nil
}

// missing is what a token lacks, per side.
type missing struct {
	source, destination, rollback []permissions.Permission
}

func missingPrivileges(ctx context.Context, cfg *rest.Config) (missing, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return missing{}, fmt.Errorf("clientset: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, clustercache.RequestTimeout)
	defer cancel()
	var out missing
	for _, side := range []struct {
		rules []permissions.Rule
		into  *[]permissions.Permission
	}{{permissions.SourceRules, &out.source}, {permissions.DestinationRules, &out.destination}, {permissions.RollbackAllRules, &out.rollback}} {
		if *side.into, err = permissions.Missing(ctx, cs, side.rules); err != nil {
			return missing{}, clustercache.Classify(err)
		}
	}
	return out, nil
}

// names lists permissions for a message, the first few of them.
func names(perms []permissions.Permission) string {
	var parts []string
	for i, p := range perms {
		if i == listedPermissions {
			parts = append(parts, fmt.Sprintf("and %d more", len(perms)-i))
			break
		}
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ", ")
}

// bindHint says how to grant what is missing.
func bindHint(cluster *migv1.MigCluster, role string) string {
	if cluster.Spec.IsHostCluster {
		return "Check the ClusterRoleBindings of config/rbac (ferry-manager-source, ferry-manager-destination, ferry-manager-rollback)."
	}
	if role == "" {
		return "Bind the token's service account to ClusterRole " + permissions.SourceRole + " or " + permissions.DestinationRole +
			" (config/rbac/remote/source or destination)."
	}
	return "Bind the token's service account to ClusterRole " + role + " (config/rbac/remote)."
}
