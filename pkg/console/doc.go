// Package console is Ferry's web console: an http.Handler with MTC's mig-ui workflows
// (clusters, replication repositories, the plan wizard, migrations with their live pipeline,
// and the MigrationController settings), served by the operator's binary (`manager console`,
// config/console) on the host cluster.
//
// # Implementation considerations
//
//   - Every read and write goes to the API server as the person using the console: the login
//     page takes their bearer token (`kubectl create token`, `oc whoami -t`), checks it with a
//     SelfSubjectReview, and keeps it in a session cookie (HttpOnly, Secure, SameSite=Strict),
//     AES-GCM sealed with a key made at start, so the browser never holds it in clear and a
//     restart logs everybody out. The console's own ServiceAccount is bound to nothing and its
//     token is not mounted: RBAC decides what each user sees and does, never the operator's
//     privileges. One replica: sessions live in its key (a Secret-held key would let several
//     replicas share them, at the cost of RBAC on that Secret for the console).
//   - CSRF: SameSite=Strict, a per-session token in every form, checked on each POST, and a
//     POST whose Origin or Sec-Fetch-Site names another site is refused.
//   - Server-rendered HTML (html/template, embedded) and one hand-written script
//     (static/console.js, ~80 lines) rather than a client library or a single-page build:
//     the live regions are re-rendered by the same templates on the server and pushed as
//     HTML over server-sent events, so the page needs nothing but EventSource and innerHTML,
//     nothing is built at `make` time and nothing built is committed. Pages work without
//     the script (forms post, pages reload); the script adds only liveness.
//   - Live updates are watches made with the user's token (a watch per kind the page shows),
//     coalesced for 200 ms, whose changes re-render the page's live region; nothing polls.
//     When a watch ends the stream ends and EventSource reconnects.
//   - The numbers of a running migration (step states, per-volume and per-image rows, rate,
//     ETA) come from pkg/migview, which the CLI's live view uses too.
//   - Requests use a REST mapper built from the scheme (no discovery per user); client-go
//     shares TLS connections between users' clients, each adding its own bearer token.
//   - Namespaces in the plan wizard: the console lists the source cluster's namespaces as the
//     user. For the host, with the user's token. For a remote cluster, the user's token cannot
//     be used there (another identity provider); the console then reads the MigCluster's
//     token Secret as the user — only a user RBAC lets read it gets a list, so the list needs
//     no right the user lacks — and lists with it, as mig-ui does. In both cases each
//     namespace is then shown only if a SelfSubjectAccessReview on the host says the user may
//     get that namespace: a user sees the namespaces RBAC grants them on the host, which is
//     where the migrated namespaces land. A namespace not listed can still be typed.
//   - Forms turn into objects in pure functions (forms.go) tested with tables; the secrets a
//     form creates go to openshift-config as MTC's console puts them.
package console
