package migcluster

import (
	"errors"
	"fmt"
	"slices"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/clustercache"
	"github.com/ferrymtc/ferry/pkg/conditions"
	"github.com/ferrymtc/ferry/pkg/secretref"
)

// Condition reasons (MTC's, plus Unauthorized for a rejected token).
const (
	ReasonNotSet          = "NotSet"
	ReasonNotFound        = "NotFound"
	ReasonMalformed       = "Malformed"
	ReasonInvalidScheme   = "InvalidScheme"
	ReasonConnectFailed   = "ConnectFailed"
	ReasonUnauthorized    = "Unauthorized"
	ReasonRouteTestFailed = "RouteTestFailed"
)

// ReadyMessage is the message of the Ready condition.
const ReadyMessage = "The cluster is ready."

// conditionsFor computes every non-durable condition of the cluster from what was observed.
func conditionsFor(s *scope) []migv1.Condition {
	if s.failure != nil {
		return []migv1.Condition{*s.failure}
	}
	return append(slices.Clone(s.warnings), conditions.Required(migv1.Ready, "", ReadyMessage))
}

func invalidURL(err error) *migv1.Condition {
	reason, msg := ReasonMalformed, "The `spec.url` is not a valid URL."
	switch {
	case errors.Is(err, clustercache.ErrURLNotSet):
		reason, msg = ReasonNotSet, "The `spec.url` is required for non-host cluster."
	case errors.Is(err, clustercache.ErrURLScheme):
		reason, msg = ReasonInvalidScheme, "The `spec.url` must use the http or https scheme."
	}
	return ptr(conditions.Critical(migv1.InvalidURL, reason, msg))
}

func invalidSecretRef(err error, secret string) *migv1.Condition {
	var nsErr *secretref.NamespaceError
	if errors.As(err, &nsErr) {
		return ptr(conditions.Critical(migv1.InvalidSaSecretRef, migv1.NotSupported,
			fmt.Sprintf("The `serviceAccountSecretRef` is not allowed: %s.", nsErr)))
	}
	if errors.Is(err, clustercache.ErrSecretRefNotSet) {
		return ptr(conditions.Critical(migv1.InvalidSaSecretRef, ReasonNotSet,
			"The `serviceAccountSecretRef` must reference a `secret`."))
	}
	return ptr(conditions.Critical(migv1.InvalidSaSecretRef, ReasonNotFound,
		fmt.Sprintf("The `serviceAccountSecretRef` must reference a `secret`, subject: %s.", secret)))
}

func invalidToken(err error, secret string) *migv1.Condition {
	if errors.Is(err, clustercache.ErrTokenEmpty) {
		return ptr(conditions.Critical(migv1.InvalidSaToken, ReasonNotSet,
			fmt.Sprintf("The `saToken` key of secret %s is empty.", secret)))
	}
	return ptr(conditions.Critical(migv1.InvalidSaToken, ReasonNotFound,
		fmt.Sprintf("The `saToken` key was not found in secret %s.", secret)))
}

func tokenRejected(secret string) *migv1.Condition {
	return ptr(conditions.Critical(migv1.InvalidSaToken, ReasonUnauthorized, fmt.Sprintf(
		"The cluster rejected the `saToken` of secret %s (401 Unauthorized): it is wrong or expired. "+
			"Put a current service account token in the secret.", secret)))
}

func connectFailed(err error) *migv1.Condition {
	msg := "Test connect failed: " + err.Error()
	if errors.Is(err, clustercache.ErrUnknownAuthority) {
		msg += " The `caBundle` is required for self-signed API server certificates."
	}
	return ptr(conditions.Critical(migv1.TestConnectFailed, ReasonConnectFailed, msg))
}

func invalidRegistryRoute(err error) *migv1.Condition {
	return ptr(conditions.Critical(migv1.InvalidRegistryRoute, ReasonRouteTestFailed,
		"Exposed registry route is invalid: "+err.Error()))
}

func ptr(c migv1.Condition) *migv1.Condition { return &c }
