// Package operator assembles Ferry's operator: the scheme, the controller-runtime manager
// (metrics, health probes, leader election), the shared services every controller uses (the
// remote cluster cache, settings, event recorders) and the registration of each controller.
//
// cmd/manager only parses flags and calls Run; integration tests call New and Setup so that
// they exercise exactly the wiring that ships.
//
// # Implementation considerations
//
//   - Shared services are built once here and injected into reconcilers; controllers never
//     build their own clients for other clusters and never import each other.
//   - Secrets are not cached by the manager (client.Options.Cache.DisableFor): token Secrets
//     are read with the API reader, and Secret events are watched as metadata only.
//   - migration_controller: false registers only the MigrationController's controller (Velero
//     and status, for a cluster where the operator only runs Velero). The switch is read at
//     start and polled (switch.go); a change ends the manager with ErrSwitchChanged, and the
//     Deployment restarts it: controller-runtime cannot remove a controller from a running
//     manager, and one added late would miss its objects' initial events.
package operator
