// Command podtool is the container command of the process node's end-to-end tests: a tiny
// HTTP server and client, a SIGTERM recorder and an in-cluster API client, so tests need
// nothing beyond the Go toolchain on the host.
//
//	podtool serve ADDR TEXT    serve "TEXT HOSTNAME" over HTTP on ADDR
//	podtool get URL...         GET each URL (retrying up to 30 s), print "URL BODY"
//	podtool wait-term FILE     print "waiting", then on SIGTERM append "TERM" to FILE and exit 0
//	podtool api                GET this pod from the API server with the service-account token
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: podtool serve|get|wait-term|api ARGS"))
	}
	var err error
	switch args := os.Args[2:]; os.Args[1] {
	case "serve":
		err = serve(args)
	case "get":
		err = get(args)
	case "wait-term":
		err = waitTerm(args)
	case "api":
		err = api()
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "podtool:", err)
	os.Exit(1)
}

func serve(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: podtool serve ADDR TEXT")
	}
	host, _ := os.Hostname()
	fmt.Println("serving on", args[0])
	srv := &http.Server{Addr: args[0], ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = fmt.Fprintf(w, "%s %s\n", args[1], host)
		})}
	return srv.ListenAndServe()
}

func get(urls []string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for _, u := range urls {
		deadline := time.Now().Add(30 * time.Second)
		for {
			body, err := fetch(client, u)
			if err == nil {
				fmt.Printf("%s %s\n", u, strings.TrimSpace(body))
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("GET %s: %w", u, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func fetch(client *http.Client, u string) (string, error) {
	resp, err := client.Get(u)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s: %s", resp.Status, body)
	}
	return string(body), nil
}

func waitTerm(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: podtool wait-term FILE")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fmt.Println("waiting")
	<-ctx.Done()
	f, err := os.OpenFile(args[0], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, "TERM"); err != nil {
		return err
	}
	return f.Close()
}

// api does what an in-cluster client does: read the service-account files, trust the CA and
// call KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT.
func api() error {
	const dir = "/var/run/secrets/kubernetes.io/serviceaccount/"
	token, err := os.ReadFile(dir + "token")
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(dir + "ca.crt")
	if err != nil {
		return err
	}
	ns, err := os.ReadFile(dir + "namespace")
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return errors.New("no certificate in ca.crt")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	host := net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"))
	name, _ := os.Hostname()
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/api/v1/namespaces/"+string(ns)+"/pods/"+name, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("api %d %d bytes\n", resp.StatusCode, len(body))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusForbidden {
		return fmt.Errorf("unexpected status %s: %s", resp.Status, body)
	}
	return nil
}
