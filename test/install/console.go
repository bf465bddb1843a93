package install

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrymtc/ferry/test/controlplane"
)

const (
	// ConsoleDeployment is the console's Deployment in config/console.
	ConsoleDeployment = "ferry-console"
	consoleContainer  = "console"
	consolePort       = "9443"
)

// DeployConsole applies config/console with the operator image set to image (as a user
// applies it after `kustomize edit set image`) to the host cluster cp, waits until the
// console's pod runs and answers, and returns its URL (the pod's IP, which this machine
// reaches through the node's bridge).
func DeployConsole(ctx context.Context, cp *controlplane.ControlPlane, image string) (string, error) {
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
					err := healthy(ctx, url)
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
func healthy(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
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
