// Package v1alpha1 holds Ferry's API: the migration.openshift.io/v1alpha1 kinds of Red Hat's
// Migration Toolkit for Containers (MTC), field for field, so that existing MTC manifests and
// GitOps repositories apply to Ferry unchanged.
//
// The package contains types only. It imports apimachinery and core/v1 and nothing else:
// clients, secrets handling, cloud SDKs and settings live in pkg/ and controllers/.
//
// # Implementation considerations
//
//   - JSON names, enums and printer columns follow MTC exactly; that is the compatibility
//     contract. Where Ferry adds a field (for example status.observedGeneration) it is optional
//     and never required in a manifest.
//   - Unlike MTC, every kind has a status subresource: controllers patch status and the spec's
//     generation only moves when a user changes the spec.
//   - Conditions keep MTC's shape (type, status, reason, category, message, durable,
//     lastTransitionTime) because users, the MTC console and scripts read them. Helpers that
//     compute them live in pkg/conditions, not here.
//
// +kubebuilder:object:generate=true
// +groupName=migration.openshift.io
package v1alpha1
