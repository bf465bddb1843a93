package tunnel

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/go-logr/logr"
)

// Ports the server agent listens on; the proxied-cluster Service exposes APIPort and
// RegistryPort, the tunnel Service TunnelPort.
const (
	TunnelPort   = 7443
	APIPort      = 8443
	RegistryPort = 5000
	HealthPort   = 8081
)

// AgentCommand is the operator binary's argument that runs an agent instead of the operator
// (the agents ship in the operator's image, so a disconnected cluster mirrors one image).
const AgentCommand = "tunnel-agent"

// DefaultRegistry is OpenShift's internal registry Service, the client's registry target
// unless --registry says otherwise.
const DefaultRegistry = "image-registry.openshift-image-registry.svc:5000"

// RunAgent runs `tunnel-agent server|client [flags]` until ctx ends.
func RunAgent(ctx context.Context, args []string, log logr.Logger) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: %s server|client [flags]", AgentCommand)
	}
	role, args := args[0], args[1:]
	fs := flag.NewFlagSet(AgentCommand+" "+role, flag.ContinueOnError)
	credentials := fs.String("credentials", "/etc/ferry-tunnel", "Directory holding ca.crt, tls.crt and tls.key.")
	switch role {
	case "server":
		tunnelAddr := fs.String("tunnel-address", fmt.Sprintf(":%d", TunnelPort), "Where the client agent connects.")
		apiAddr := fs.String("api-address", fmt.Sprintf(":%d", APIPort), "Where the source's API server is served.")
		registryAddr := fs.String("registry-address", fmt.Sprintf(":%d", RegistryPort), "Where the source's registry is served; empty: not served.")
		healthAddr := fs.String("health-address", fmt.Sprintf(":%d", HealthPort), "Where /readyz is served.")
		if err := fs.Parse(args); err != nil {
			return err
		}
		creds, err := ReadCredentials(*credentials)
		if err != nil {
			return err
		}
		cfg, err := creds.ServerTLS()
		if err != nil {
			return err
		}
		s := &Server{TLS: cfg, Listeners: map[Target]net.Listener{}, Log: log}
		listen := func(addr string) (net.Listener, error) {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return nil, fmt.Errorf("listen on %s: %w", addr, err)
			}
			return l, nil
		}
		if s.Tunnel, err = listen(*tunnelAddr); err != nil {
			return err
		}
		if s.Listeners[TargetAPI], err = listen(*apiAddr); err != nil {
			return err
		}
		if *registryAddr != "" {
			if s.Listeners[TargetRegistry], err = listen(*registryAddr); err != nil {
				return err
			}
		}
		if s.Health, err = listen(*healthAddr); err != nil {
			return err
		}
		log.Info("Tunnel server listening", "tunnel", *tunnelAddr, "api", *apiAddr, "registry", *registryAddr)
		return s.Run(ctx)
	case "client":
		server := fs.String("server", "", "The server agent's address (host:port).")
		api := fs.String("api", apiFromEnvironment(), "The source API server's address (default: the in-cluster one).")
		registry := fs.String("registry", DefaultRegistry, "The source registry's address; empty: not served.")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *server == "" {
			return fmt.Errorf("%s client: --server is required", AgentCommand)
		}
		creds, err := ReadCredentials(*credentials)
		if err != nil {
			return err
		}
		cfg, err := creds.ClientTLS()
		if err != nil {
			return err
		}
		targets := map[Target]string{TargetAPI: *api}
		if *registry != "" {
			targets[TargetRegistry] = *registry
		}
		log.Info("Tunnel client starting", "server", *server, "api", *api, "registry", *registry)
		return (&Client{TLS: cfg, Server: *server, Targets: targets, Log: log}).Run(ctx)
	}
	return fmt.Errorf("%s: unknown role %q (server or client)", AgentCommand, role)
}

// apiFromEnvironment is the API server's address as every pod sees it.
func apiFromEnvironment() string {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" {
		return ""
	}
	return net.JoinHostPort(host, port)
}
