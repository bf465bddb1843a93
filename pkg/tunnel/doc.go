// Package tunnel connects a source cluster that cannot be reached from outside (behind a
// firewall, on premises) to the destination cluster where Ferry runs, the job of seed §11.2's
// `crane tunnel-api`: a Service proxied-cluster.<namespace>.svc on the destination serves the
// source's API server on port 8443 and its image registry on port 5000.
//
// It owns three things: the credentials (a CA made for one tunnel, a server and a client
// certificate), the agent that runs on either side (`manager tunnel-agent server|client`, in
// the operator's own image), and the objects that deploy the agents on both clusters.
//
// # Design
//
//   - Direction: the client agent on the source dials out to the server agent on the
//     destination (exposed by a LoadBalancer or NodePort Service), so the source needs no
//     inbound port, only the outbound connection any firewall that lets the source pull images
//     already allows. The server then opens streams back over that one connection.
//   - Crane ran OpenVPN: privileged pods (NET_ADMIN, a tun device), a routed network between
//     the clusters, and minutes of Diffie-Hellman parameter generation. Here the agents are
//     unprivileged processes (non-root, no capabilities, read-only root) that forward TCP
//     streams to exactly two destinations (the API server and the registry), nothing else of
//     the source's network: a compromised destination reaches what a MigCluster token reaches,
//     no more. The credentials are ECDSA P-256 keys made in milliseconds.
//   - Mutual TLS (TLS 1.3) with a CA made for this tunnel only: the server accepts a client
//     that holds the tunnel's client certificate and the client accepts only the tunnel's
//     server, whatever address the LoadBalancer or NodePort gives it (the server certificate
//     names a fixed identity, ServerName, not an address). The API's own TLS runs end to end
//     inside a stream: the tunnel never sees tokens or API traffic in clear.
//   - Multiplexing: hashicorp/yamux (maintained, used by Consul, Nomad and Vault) carries one
//     stream per proxied TCP connection over the single TLS connection, with keepalives so a
//     dead peer is noticed in seconds. A stream starts with one byte naming its target.
//   - Reconnects: the client redials with exponential backoff (1 s doubling to 30 s, reset
//     after a connection that lasted); the server takes the newest client connection and
//     closes the previous one, so a client restarted on another node takes over at once.
//   - Readiness: the server's /readyz answers 200 only while a client is connected, so the
//     proxied-cluster Service has endpoints only while the tunnel is up, and the agents log
//     each connection, which `ferry tunnel-api` waits for.
package tunnel
