package install

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/controlplane"
	"github.com/ferrymtc/ferry/test/node"
)

const (
	// ConsoleDeployment is the console's Deployment in config/console.
	ConsoleDeployment = "ferry-console"
	consoleContainer  = "console"
	consolePort       = "9443"
)

// Console is the web console as deployed from config/console, reached on this machine's
// loopback through a forward to its pod, as `kubectl port-forward` reaches it.
type Console struct {
	// URL is https://127.0.0.1:PORT, forwarded to the console's pod.
	URL      string
	listener net.Listener
}

// Close stops the forward.
func (c *Console) Close() error { return c.listener.Close() }

// DeployConsole applies config/console with the operator image set to image (as a user
// applies it after `kustomize edit set image`) to the host cluster cp, waits until the
// console's pod runs on n, forwards a loopback port of this machine to it (pod IPs live in
// the node's network namespace, not this machine's) and waits until it answers there.
func DeployConsole(ctx context.Context, cp *controlplane.ControlPlane, n *node.Node, image string) (*Console, error) {
	podURL, err := deployConsole(ctx, cp, n, image)
	if err != nil {
		return nil, err
	}
	pod := strings.TrimPrefix(podURL, "https://")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("forward to the console: %w", err)
	}
	go forward(l, func(ctx context.Context) (net.Conn, error) { return n.DialContext(ctx, "tcp", pod) })
	return &Console{URL: "https://" + l.Addr().String(), listener: l}, nil
}

// forward copies each connection accepted on l to one dial makes, until l is closed.
func forward(l net.Listener, dial func(context.Context) (net.Conn, error)) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer func() { _ = in.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := dial(ctx)
			cancel()
			if err != nil {
				return
			}
			defer func() { _ = out.Close() }()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
			go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
			<-done
		}()
	}
}

// deployConsole applies config/console and returns the URL of the console's pod once it
// answers there (dialled from the node's network namespace).
func deployConsole(ctx context.Context, cp *controlplane.ControlPlane, n *node.Node, image string) (string, error) {
	objs, err := buildDirWithImage("config/console", ConsoleDeployment, consoleContainer, image)
	if err != nil {
		return "", err
	}
	if err := Apply(ctx, cp.Client, objs); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, runningTimeout)
	defer cancel()
	var last string
	for {
		pods := &corev1.PodList{}
		err := cp.Client.List(ctx, pods, client.InNamespace(objs[0].GetNamespace()),
			client.MatchingLabels{"app.kubernetes.io/component": "console"})
		if err == nil {
			for _, p := range pods.Items {
				last = describe(&p)
				// The process node runs no probes (a running container is ready): the
				// console's health endpoint says when it serves.
				if p.Status.PodIP != "" && ready(&p) {
					url := "https://" + net.JoinHostPort(p.Status.PodIP, consolePort)
					err := healthy(ctx, url, n.DialContext)
					if err == nil {
						return url, nil
					}
					last = describe(&p) + "; " + err.Error()
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the console's pod is not ready (last seen: %s): %w", last, ctx.Err())
		case <-time.After(poll * 5):
		}
	}
}

// healthy GETs the console's /healthz; its certificate is self-signed (config/console
// mounts none), so it is not verified here.
func healthy(ctx context.Context, url string, dial func(context.Context, string, string) (net.Conn, error)) error {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dial,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the console's self-signed certificate.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	return nil
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
