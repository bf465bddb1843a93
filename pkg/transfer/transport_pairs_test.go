package transfer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// These tests run the real rsync daemon, stunnel and rsync client with exactly the files and
// environment the transfer pods get from the objects this package builds (ConfigMaps,
// Secrets, pod specs), so that what they prove holds for the pods.

// podFiles writes ConfigMap and Secret data under dir/config and dir/secret, with the in-pod
// paths of their contents rewritten for host processes.
func podFiles(t *testing.T, p testPaths, config map[string]string, secret map[string][]byte) {
	t.Helper()
	files := map[string]string{}
	for k, v := range config {
		files[k] = p.rewrite(v)
	}
	writeFiles(t, filepath.Join(p.dir, "config"), files, 0o644)
	files = map[string]string{}
	for k, v := range secret {
		files[k] = p.rewrite(string(v))
	}
	writeFiles(t, filepath.Join(p.dir, "secret"), files, 0o400)
}

// startServerPod runs the server of srv as its pod would: the rsync daemon and stunnel with
// the server's ConfigMap and Secret, an empty directory per volume.
func startServerPod(ctx context.Context, t *testing.T, srv Server, creds *Credentials) testPaths {
	t.Helper()
	p := testPaths{dir: t.TempDir(), stunnelPort: freePort(t), rsyncPort: freePort(t)}
	podFiles(t, p, must(srv.ConfigMap()).Data, must(srv.Secret(creds)).Data)
	for _, v := range srv.Volumes {
		if err := os.MkdirAll(filepath.Join(p.dir, "mnt", v.Module), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range srv.Pod().Spec.Containers {
		argv := strings.Fields(p.rewrite(strings.Join(c.Command, " ")))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("%s output:\n%s", argv[0], out.String())
			}
		})
	}
	waitListening(t, p.stunnelPort)
	waitListening(t, p.rsyncPort)
	return p
}

// clientPod is the client side of one source namespace: its ConfigMap and Secret as the pods
// of that namespace mount them.
type clientPod struct {
	p      testPaths
	config ClientConfig
	secret map[string][]byte
}

// newClientPod prepares the files of cfg's namespace, with the endpoints reaching the
// servers on the host.
func newClientPod(t *testing.T, cfg ClientConfig, creds *Credentials) *clientPod {
	t.Helper()
	c := &clientPod{p: testPaths{dir: t.TempDir()}, config: cfg, secret: must(cfg.Secret(creds)).Data}
	podFiles(t, c.p, must(cfg.ConfigMap()).Data, c.secret)
	if err := os.MkdirAll(filepath.Join(c.p.dir, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs pod's command with its arguments and environment (the password read from the
// namespace's Secret as the kubelet would), src mounted as the source volume; mutate may
// change the arguments first. It returns the exit code and the output.
func (c *clientPod) run(ctx context.Context, t *testing.T, pod *corev1.Pod, src string, mutate func([]string) []string) (int, string) {
	t.Helper()
	mnt := filepath.Join(c.p.dir, "mnt")
	_ = os.RemoveAll(mnt)
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(mnt, "source")); err != nil {
		t.Fatal(err)
	}
	ctr := pod.Spec.Containers[0]
	args := append([]string{}, ctr.Args...)
	if mutate != nil {
		args = mutate(args)
	}
	argv := append(append([]string{}, ctr.Command...), args...)
	for i := range argv {
		argv[i] = c.p.rewrite(argv[i])
	}
	env := os.Environ()
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			v, ok := c.secret[e.ValueFrom.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("the pod's Secret has no key %s", e.ValueFrom.SecretKeyRef.Key)
			}
			env = append(env, e.Name+"="+string(v))
		default:
			env = append(env, e.Name+"="+c.p.rewrite(e.Value))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	return code, string(out)
}

// replaceTarget points the rsync URL (the last argument) at another module.
func replaceTarget(module string) func([]string) []string {
	return func(args []string) []string {
		last := args[len(args)-1]
		i := strings.LastIndex(strings.TrimSuffix(last, "/"), "/")
		args[len(args)-1] = last[:i+1] + module + "/"
		return args
	}
}

// connectingTo makes the client pod reach the server of destination namespace dest.
func connectingTo(pod *corev1.Pod, dest string) *corev1.Pod {
	for i, e := range pod.Spec.Containers[0].Env {
		if e.Name == "RSYNC_CONNECT_PROG" {
			pod.Spec.Containers[0].Env[i].Value = "stunnel " + ConfigDir + "/" + StunnelKey(dest)
		}
	}
	return pod
}

// pull turns the client's push into a download of the module into dest.
func pull(dest string) func([]string) []string {
	return func(args []string) []string {
		n := len(args)
		return append(args[:n-2], args[n-1], dest+"/")
	}
}

func TestTransportIsolatesNamespacePairs(t *testing.T) {
	needTools(t)
	ctx := t.Context()
	creds, err := NewCredentials("dvm", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// One DVM: PVC a/data goes to x/data, b/data to x/data-b and b/logs to y/logs.
	serverX := Server{Namespace: "x", Name: "srv", Labels: Labels("uid"), Image: "img", Identity: Identity{Root: true},
		Volumes: []ServerVolume{{PVC: "data", Module: Module("data"), SourceNamespace: "a"}, {PVC: "data-b", Module: Module("data-b"), SourceNamespace: "b"}}}
	serverY := Server{Namespace: "y", Name: "srv", Labels: Labels("uid"), Image: "img", Identity: Identity{Root: true},
		Volumes: []ServerVolume{{PVC: "logs", Module: Module("logs"), SourceNamespace: "b"}}}
	x, y := startServerPod(ctx, t, serverX, creds), startServerPod(ctx, t, serverY, creds)
	endpointX := Endpoint{DestinationNamespace: "x", Host: "127.0.0.1", Port: x.stunnelPort}
	endpointY := Endpoint{DestinationNamespace: "y", Host: "127.0.0.1", Port: y.stunnelPort}
	a := newClientPod(t, ClientConfig{Namespace: "a", Name: "cli", Labels: Labels("uid"), Endpoints: []Endpoint{endpointX}}, creds)
	b := newClientPod(t, ClientConfig{Namespace: "b", Name: "cli", Labels: Labels("uid"), Endpoints: []Endpoint{endpointX, endpointY}}, creds)
	client := func(ns, pvc, destNS, destPVC string) *corev1.Pod {
		return must(Client{Namespace: ns, Name: "c", Config: "cli", DestinationNamespace: destNS, Labels: Labels("uid"), Image: "img",
			PVC: pvc, Module: Module(destPVC), Options: DefaultRsyncOptions(), Identity: Identity{Root: true}}.Pod())
	}
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"a.txt": "from a"}, 0o644)

	// a's own transfer works.
	if code, out := a.run(ctx, t, client("a", "data", "x", "data"), src, nil); code != 0 {
		t.Fatalf("a -> x/data: exit %d\n%s", code, out)
	}
	// a's client cannot write into b's modules, on the server it shares with b or on another
	// (with a stunnel configuration for y: it holds no secret, a's pods could write one).
	writeFiles(t, filepath.Join(a.p.dir, "config"), map[string]string{StunnelKey("y"): a.p.rewrite(must(ClientStunnelConf(endpointY, nil)))}, 0o644)
	for _, tc := range []struct {
		name   string
		server testPaths
		module string
		pod    *corev1.Pod
	}{
		{"x/data-b", x, Module("data-b"), client("a", "data", "x", "data")},
		{"y/logs", y, Module("logs"), connectingTo(client("a", "data", "x", "data"), "y")},
	} {
		code, out := a.run(ctx, t, tc.pod, src, replaceTarget(tc.module))
		if code == 0 {
			t.Errorf("a's client wrote into %s:\n%s", tc.name, out)
		} else if f := Classify(code, out); f.Kind != FailureAuth {
			t.Errorf("a's client into %s: refused as %+v, want by rsync authentication:\n%s", tc.name, f, out)
		}
		if _, err := os.Stat(filepath.Join(tc.server.dir, "mnt", tc.module, "a.txt")); err == nil {
			t.Errorf("a's file arrived in %s", tc.name)
		}
	}
	// b's own transfers work.
	for _, tc := range []struct{ pvc, destNS, destPVC string }{{"data", "x", "data-b"}, {"logs", "y", "logs"}} {
		if code, out := b.run(ctx, t, client("b", tc.pvc, tc.destNS, tc.destPVC), src, nil); code != 0 {
			t.Errorf("b -> %s/%s: exit %d\n%s", tc.destNS, tc.destPVC, code, out)
		}
	}
	// Nobody reads a destination back, not even the pair that wrote it.
	for _, tc := range []struct {
		who    *clientPod
		pod    *corev1.Pod
		module string
	}{
		{a, client("a", "data", "x", "data"), Module("data")},
		{b, client("b", "data", "x", "data-b"), Module("data")},
		{b, client("b", "data", "x", "data-b"), Module("data-b")},
	} {
		dest := t.TempDir()
		code, out := tc.who.run(ctx, t, tc.pod, src, func(args []string) []string { return pull(dest)(replaceTarget(tc.module)(args)) })
		if _, err := os.Stat(filepath.Join(dest, "a.txt")); err == nil || code == 0 {
			t.Errorf("%s read module %s back (exit %d):\n%s", tc.who.config.Namespace, tc.module, code, out)
		}
		if !strings.Contains(out, "module is write only") && !strings.Contains(out, "auth failed") {
			t.Errorf("%s reading %s: not refused by the daemon:\n%s", tc.who.config.Namespace, tc.module, out)
		}
	}
}
