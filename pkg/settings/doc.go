// Package settings turns the MigrationController resource (MTC's operator settings, with its
// snake_case fields) into typed settings with MTC's defaults, and reads it at run time.
//
// # Implementation considerations
//
//   - MTC's operator copies these fields into environment variables that the controller reads
//     once at start, so every change needs a pod restart ("wait two minutes"). Ferry reads the
//     MigrationController through the manager's cache on each use instead: a change applies to
//     the next reconcile.
//   - The operator fields are loosely typed in MTC (Ansible accepts 100 or "100"), so numbers
//     are IntOrString in the API and parsed here; a value that does not parse falls back to
//     the default and is reported in Settings.Invalid rather than failing every reconcile.
//   - With no MigrationController at all, every setting has its MTC default.
//   - Invalid values and the settings Ferry does not act on are named in the
//     MigrationController's status (Invalid, Unsupported; controllers/migrationcontroller).
//   - A remote destination's own MigrationController sets its rsync_endpoint_type and
//     cluster_subdomain (Reader.ForDestination), as the seed says to set them "on the
//     appropriate destination cluster".
//   - The proxy settings (ProxyConfig, ProxyEnv, LiveProxy) follow the standard rules of
//     HTTP_PROXY, HTTPS_PROXY and NO_PROXY (golang.org/x/net/http/httpproxy) rather than rules
//     of Ferry's own, so a noProxy list written for other tools means the same here; LiveProxy
//     re-reads the settings every few seconds from the cache, so a change needs no restart.
package settings
