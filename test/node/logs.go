package node

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// followPoll is how often a followed log is checked for new output.
const followPoll = 100 * time.Millisecond

// kubeletServer serves the part of the kubelet API the API server proxies for `kubectl logs`,
// over HTTPS on a loopback port. The API server does not verify kubelet certificates unless
// --kubelet-certificate-authority is set (the test control planes do not set it), so a
// self-signed certificate does.
type kubeletServer struct {
	// host and port are where the API server reaches the kubelet API (the node's Hostname
	// address and kubelet endpoint).
	host string
	port int
	srv  *http.Server
	done chan struct{}
}

func startKubeletServer(n *Node) (*kubeletServer, error) {
	cert, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	host := kubeletHost()
	l, err := (&net.ListenConfig{}).Listen(n.ctx, "tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("kubelet API listener: %w", err)
	}
	l = localPeersOnly{l}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", n.serveLogs)
	mux.HandleFunc("GET /stats/summary", n.serveStatsSummary)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	s := &kubeletServer{
		host: host, port: l.Addr().(*net.TCPAddr).Port,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(tls.NewListener(l, s.srv.TLSConfig)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.logf("process node %s: kubelet API: %v", n.name, err)
		}
	}()
	return s, nil
}

func (s *kubeletServer) close() {
	_ = s.srv.Close()
	<-s.done
}

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "ferry-process-node"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// serveLogs answers GET /containerLogs/{namespace}/{pod}/{container} with the kubelet's
// query parameters follow, previous, tailLines and limitBytes (timestamps and sinceSeconds
// are ignored: the logs hold the raw output).
func (n *Node) serveLogs(rw http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	w := n.byName[r.PathValue("namespace")+"/"+r.PathValue("pod")]
	n.mu.Unlock()
	if w == nil {
		http.Error(rw, "pod not found on this node", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	name := r.PathValue("container")
	w.mu.Lock()
	c := w.ctrs[name]
	var (
		run  int32
		ran  bool
		live bool
	)
	if c != nil {
		run, ran, live = c.restarts, c.ran, c.proc != nil && c.proc.running()
	}
	w.mu.Unlock()
	if c == nil {
		http.Error(rw, fmt.Sprintf("container %q not found in pod %s", name, w.key), http.StatusNotFound)
		return
	}
	if q.Get("previous") == "true" {
		if run == 0 || !ran {
			http.Error(rw, fmt.Sprintf("previous terminated container %q in pod %s not found", name, w.key), http.StatusBadRequest)
			return
		}
		run, live = run-1, false
	}
	f, err := os.Open(w.logPath(name, run))
	if err != nil {
		http.Error(rw, fmt.Sprintf("container %q in pod %s has no log yet", name, w.key), http.StatusBadRequest)
		return
	}
	defer func() { _ = f.Close() }()
	if tail, err := strconv.Atoi(q.Get("tailLines")); err == nil && tail >= 0 {
		if err := seekTail(f, tail); err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	out := io.Writer(rw)
	if limit, err := strconv.ParseInt(q.Get("limitBytes"), 10, 64); err == nil && limit > 0 {
		out = &limitedWriter{w: rw, left: limit}
	}
	rw.Header().Set("Content-Type", "text/plain")
	if _, err := io.Copy(out, f); err != nil || q.Get("follow") != "true" || !live {
		return
	}
	w.follow(r.Context(), f, out, rw, name, run)
}

// follow streams what a running container writes until its run ends or the client leaves.
func (w *podWorker) follow(ctx context.Context, f *os.File, out io.Writer, rw http.ResponseWriter, name string, run int32) {
	flusher, _ := rw.(http.Flusher)
	for {
		if flusher != nil {
			flusher.Flush()
		}
		running := w.runs(name, run)
		if _, err := io.Copy(out, f); err != nil {
			return
		}
		if !running {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(followPoll):
		}
	}
}

// runs reports whether run number run of a container is still going.
func (w *podWorker) runs(name string, run int32) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.ctrs[name]
	return c != nil && c.restarts == run && c.proc != nil && c.proc.running()
}

// seekTail positions f at the start of its last n lines.
func seekTail(f *os.File, n int) error {
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	pos := len(data)
	if n == 0 {
		_, err = f.Seek(int64(pos), io.SeekStart)
		return err
	}
	if pos > 0 && data[pos-1] == '\n' {
		pos--
	}
	for range n {
		if pos = bytes.LastIndexByte(data[:pos], '\n'); pos < 0 {
			break
		}
	}
	_, err = f.Seek(int64(pos+1), io.SeekStart)
	return err
}

// limitedWriter writes at most left bytes, then fails.
type limitedWriter struct {
	w    io.Writer
	left int64
}

var errLimit = errors.New("limitBytes reached")

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && l.left <= 0 {
		err = errLimit
	}
	return n, err
}
