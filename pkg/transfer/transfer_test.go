package transfer

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	corev1 "k8s.io/api/core/v1"
)

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredentials(t *testing.T) {
	now := time.Now()
	c, err := NewCredentials("dvm", now)
	if err != nil {
		t.Fatal(err)
	}
	ca := parseCert(t, c.CACert)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, tc := range []struct {
		cert   []byte
		usage  x509.ExtKeyUsage
		wrong  x509.ExtKeyUsage
		server bool
	}{
		{c.ServerCert, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, true},
		{c.ClientCert, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth, false},
	} {
		leaf := parseCert(t, tc.cert)
		opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{tc.usage}, CurrentTime: now}
		if tc.server {
			opts.DNSName = ServerName
		}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("%s: %v", leaf.Subject.CommonName, err)
		}
		opts.KeyUsages, opts.DNSName = []x509.ExtKeyUsage{tc.wrong}, ""
		if _, err := leaf.Verify(opts); err == nil {
			t.Errorf("%s verifies for the other usage", leaf.Subject.CommonName)
		}
	}
	if len(c.Password) < 40 {
		t.Errorf("password %q is short", c.Password)
	}
	back, err := CredentialsFrom(c.Data())
	if err != nil || back.Password != c.Password || string(back.ServerKey) != string(c.ServerKey) {
		t.Fatalf("round trip: %v", err)
	}
	data := c.Data()
	delete(data, KeyClientKey)
	if _, err := CredentialsFrom(data); err == nil || !strings.Contains(err.Error(), KeyClientKey) {
		t.Errorf("incomplete data: %v", err)
	}
	other, _ := NewCredentials("dvm", now)
	if _, err := parseCert(t, other.ClientCert).Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("another migration's client certificate verifies against this CA")
	}
}

func TestParseProgress(t *testing.T) {
	out := "sending incremental file list\n" +
		"\r         32,768   0%    0.00kB/s    0:00:00  \r    104,890,368  49%  100.02MB/s    0:00:01 (xfr#1, to-chk=3/5)" +
		"\r    209,715,200 100%   99.10MB/s    0:00:02 (xfr#2, to-chk=0/5)\n\nNumber of files: 5 (reg: 3, dir: 2)\n"
	p, ok := ParseProgress(out)
	want := Progress{Bytes: 209715200, Percent: 100, Rate: "99.10MB/s", Elapsed: "0:00:02"}
	if !ok || p != want {
		t.Errorf("ParseProgress = %+v, %v; want %+v", p, ok, want)
	}
	if _, ok := ParseProgress("rsync: connection refused\n"); ok {
		t.Error("progress found in an error")
	}
	p, _ = ParseProgress("\r  1.50M  12%  3.00MB/s  0:00:09")
	if p.Bytes != 1572864 || p.Percent != 12 {
		t.Errorf("human-readable progress = %+v", p)
	}
}

const statsOutput = `Number of files: 4 (reg: 2, dir: 1, link: 1)
Number of created files: 3 (reg: 2, link: 1)
Number of deleted files: 1 (reg: 1)
Number of regular files transferred: 2
Total file size: 1,048,581 bytes
Total transferred file size: 1,048,581 bytes
Literal data: 1,048,581 bytes
Matched data: 0 bytes
File list size: 0
File list generation time: 0.001 seconds
File list transfer time: 0.000 seconds
Total bytes sent: 1,049,123
Total bytes received: 74

sent 1,049,123 bytes  received 74 bytes  2,098,394.00 bytes/sec
total size is 1,048,581  speedup is 1.00
`

func TestParseStats(t *testing.T) {
	s, ok := ParseStats(statsOutput)
	want := Stats{Files: 4, CreatedFiles: 3, DeletedFiles: 1, RegularFilesTransferred: 2, TotalFileSize: 1048581,
		TransferredFileSize: 1048581, LiteralData: 1048581, BytesSent: 1049123, BytesReceived: 74}
	if !ok || s != want {
		t.Errorf("ParseStats = %+v, %v\nwant %+v", s, ok, want)
	}
	if _, ok := ParseStats("rsync error: foo"); ok {
		t.Error("stats found in an error")
	}
	if got := StatsLines(statsOutput); len(got) != 6 {
		t.Errorf("StatsLines = %q", got)
	}
	if got := LastLines("a\nb\r\nccccc\n", 2, 3); got != "b\nccc" {
		t.Errorf("LastLines = %q", got)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code int
		out  string
		kind string
		has  string
	}{
		{12, "rsync error\n" + StunnelLogMarker + "\nLOG3[0]: s_connect: connect 10.0.0.1:6443: No route to host (113)\n", FailureUnreachable, "No route to host"},
		{12, "x\n" + StunnelLogMarker + "\nLOG3[0]: s_connect: s_poll_wait 10.0.0.1:6443: TIMEOUTconnect exceeded\n", FailureUnreachable, "TIMEOUTconnect"},
		{12, "x\n" + StunnelLogMarker + "\nLOG3[0]: SSL_read: tlsv1 alert unknown ca\n", FailureTLS, "unknown ca"},
		{12, "x\n" + StunnelLogMarker + "\nLOG3[0]: SSL_connect: ../ssl/record/rec_layer_s3.c:318: error:0A000126:SSL routines::unexpected eof while reading\n", FailureHandshakeCut, "pod restarting or gone"},
		{12, "x\n" + StunnelLogMarker + "\nLOG3[0]: SSL_connect: Connection reset by peer (104)\n", FailureUnreachable, "reset by peer"},
		{12, "x\n" + StunnelLogMarker + "\nLOG3[0]: SSL_connect: ssl/statem/statem_clnt.c:1889: error:0A000086:SSL routines::certificate verify failed\n", FailureTLS, "certificate verify failed"},
		{5, "@ERROR: auth failed on module abc\nrsync error: error starting client-server protocol (code 5)\n", FailureAuth, "auth failed"},
		{23, "rsync: [sender] send_files failed to open \"/mnt/source/x\": Permission denied (13)\nrsync error: some files/attrs were not transferred (code 23)\n", FailureRsync, "code 23 (partial transfer due to error)"},
		{24, "file has vanished: \"/mnt/source/tmp\"\n", FailureRsync, "vanished"},
		{137, "", FailureKilled, "signal 9"},
		{99, "", FailureRsync, "unknown error"},
	} {
		f := Classify(tc.code, tc.out)
		if f.Kind != tc.kind || !strings.Contains(f.Message, tc.has) || f.ExitCode != tc.code {
			t.Errorf("Classify(%d) = %+v; want %s containing %q", tc.code, f, tc.kind, tc.has)
		}
	}
}

func TestClientArgs(t *testing.T) {
	o := DefaultRsyncOptions()
	o.BwLimit, o.Extras = 100, []string{"-z"}
	got := strings.Join(ClientArgs(o, "ferry-0123", "m", true), " ")
	want := "--recursive --links --perms --devices --specials --times --owner --group --hard-links --delete --partial --bwlimit=100 " +
		"--numeric-ids --timeout=600 " + Info + " --exclude=lost+found --checksum -z /mnt/source/ rsync://ferry-0123@ferry-rsync-server/m/"
	if got != want {
		t.Errorf("ClientArgs =\n%s\nwant\n%s", got, want)
	}
}

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		name      string
		id        Identity
		user      int64
		fsGroup   *int64
		caps      int
		restricts bool
	}{
		{"root", Identity{Root: true}, 0, nil, 8, false},
		{"non-root default", Identity{}, DefaultNonRootID, ptr.To(DefaultNonRootID), 0, true},
		{"non-root user and group", Identity{User: ptr.To[int64](1001), Group: ptr.To[int64](2002)}, 1001, ptr.To[int64](2002), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pod := range []*corev1.Pod{
				Server{Name: "s", Labels: map[string]string{}, Identity: tc.id, Volumes: []ServerVolume{{PVC: "p", Module: "m"}}}.Pod(),
				must(Client{Name: "c", Identity: tc.id, PVC: "p", DestinationNamespace: "d", Module: "m"}.Pod()),
			} {
				psc := pod.Spec.SecurityContext
				if *psc.RunAsUser != tc.user || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("%s: pod security %+v", pod.Name, psc)
				}
				if (psc.FSGroup == nil) != (tc.fsGroup == nil) || tc.fsGroup != nil && *psc.FSGroup != *tc.fsGroup {
					t.Errorf("%s: fsGroup %v, want %v", pod.Name, psc.FSGroup, tc.fsGroup)
				}
				// The kubelet re-owns a volume on every pod start without OnRootMismatch: all of
				// a destination's files, on every attempt.
				if psc.FSGroup != nil && (psc.FSGroupChangePolicy == nil || *psc.FSGroupChangePolicy != corev1.FSGroupChangeOnRootMismatch) {
					t.Errorf("%s: fsGroupChangePolicy %v, want OnRootMismatch", pod.Name, psc.FSGroupChangePolicy)
				}
				if tc.restricts != (psc.RunAsNonRoot != nil && *psc.RunAsNonRoot) {
					t.Errorf("%s: runAsNonRoot %v", pod.Name, psc.RunAsNonRoot)
				}
				for _, c := range pod.Spec.Containers {
					sc := c.SecurityContext
					if len(sc.Capabilities.Add) != tc.caps || *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) != 1 {
						t.Errorf("%s/%s: container security %+v", pod.Name, c.Name, sc)
					}
				}
			}
		})
	}
}

func TestConfigs(t *testing.T) {
	conf := must(RsyncdConf([]RsyncModule{{"b", "ferry-b"}, {"a", "ferry-a"}}, true))
	for _, want := range []string{"munge symlinks = no", "hosts allow = 127.0.0.1 ::1", "[a]\npath = /mnt/a\nauth users = ferry-a\n",
		"[b]\npath = /mnt/b\nauth users = ferry-b\n", "write only = yes", "use chroot = yes", "uid = 0"} {
		if !strings.Contains(conf, want) {
			t.Errorf("rsyncd.conf lacks %q:\n%s", want, conf)
		}
	}
	// A non-root daemon cannot chroot or switch users.
	conf = must(RsyncdConf([]RsyncModule{{"a", "ferry-a"}}, false))
	if !strings.Contains(conf, "use chroot = no") || strings.Contains(conf, "uid =") || strings.Contains(conf, "use chroot = yes") {
		t.Errorf("non-root rsyncd.conf:\n%s", conf)
	}
	for _, want := range []string{"requireCert = yes", "verifyChain = yes", "accept = 6443", "connect = 127.0.0.1:2222"} {
		if !strings.Contains(ServerStunnelConf(), want) {
			t.Errorf("server stunnel.conf lacks %q", want)
		}
	}
	client := must(ClientStunnelConf(Endpoint{Host: "10.0.0.1", Port: 31000}, nil))
	for _, want := range []string{"client = yes", "verifyChain = yes", "checkHost = " + ServerName, "connect = 10.0.0.1:31000"} {
		if !strings.Contains(client, want) {
			t.Errorf("client stunnel.conf lacks %q", want)
		}
	}
	if strings.Contains(client, "[") || strings.Contains(client, "accept") {
		t.Errorf("inetd mode client has a section or accept:\n%s", client)
	}
	proxy, err := ParseProxy("http://u:p@proxy.example:3128")
	if err != nil {
		t.Fatal(err)
	}
	viaProxy := must(ClientStunnelConf(Endpoint{Host: "h", Port: 1}, proxy))
	for _, want := range []string{"connect = proxy.example:3128", "protocol = connect", "protocolHost = h:1", "protocolUsername = u", "protocolPassword = p"} {
		if !strings.Contains(viaProxy, want) {
			t.Errorf("proxy config lacks %q:\n%s", want, viaProxy)
		}
	}
	for _, bad := range []string{"proxy:3128", "ftp://p:1", "http://p"} {
		if _, err := ParseProxy(bad); err == nil {
			t.Errorf("ParseProxy(%q) accepted", bad)
		}
	}
}

// TestPairCredentials: each pair of a source and a destination namespace has its own rsync
// user and password; a namespace's client Secret holds the passwords of its own pairs only,
// and a server's password file the users of the volumes it serves only.
func TestPairCredentials(t *testing.T) {
	creds, err := NewCredentials("dvm", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ax, bx, ay := creds.Pair("a", "x"), creds.Pair("b", "x"), creds.Pair("a", "y")
	if ax == bx || ax == ay || ax.User == bx.User || ax.Password == bx.Password || ax.Password == creds.Password {
		t.Errorf("pairs share credentials: %+v %+v %+v", ax, bx, ay)
	}
	if creds.Pair("a", "x") != ax {
		t.Error("a pair's credentials change between calls")
	}
	if other, _ := NewCredentials("dvm", time.Now()); other.Pair("a", "x").Password == ax.Password {
		t.Error("two migrations give a pair the same password")
	}
	if PairUser("a-b", "c") == PairUser("a", "b-c") {
		t.Error("pair users collide")
	}
	srv := Server{Namespace: "x", Name: "s", Labels: Labels("u"), Volumes: []ServerVolume{
		{PVC: "p1", Module: Module("p1"), SourceNamespace: "a"}, {PVC: "p2", Module: Module("p2"), SourceNamespace: "b"},
		{PVC: "p3", Module: Module("p3"), SourceNamespace: "a"}}}
	secrets := string(must(srv.Secret(creds)).Data[FileRsyncSecrets])
	if want := bx.User + ":" + bx.Password + "\n" + ax.User + ":" + ax.Password + "\n"; secrets != want && secrets != ax.User+":"+ax.Password+"\n"+bx.User+":"+bx.Password+"\n" {
		t.Errorf("server secrets file:\n%s", secrets)
	}
	conf := must(srv.ConfigMap()).Data[FileRsyncdConf]
	for _, want := range []string{"[" + Module("p1") + "]\npath = /mnt/" + Module("p1") + "\nauth users = " + ax.User + "\n",
		"[" + Module("p2") + "]\npath = /mnt/" + Module("p2") + "\nauth users = " + bx.User + "\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("rsyncd.conf lacks %q:\n%s", want, conf)
		}
	}
	cfg := ClientConfig{Namespace: "a", Name: "c", Labels: Labels("u"), Endpoints: []Endpoint{{DestinationNamespace: "x", Host: "h", Port: 1}}}
	data := must(cfg.Secret(creds)).Data
	if string(data[PasswordKey("x")]) != ax.Password || len(data) != 4 {
		t.Errorf("client Secret of a: keys %v", slices.Sorted(maps.Keys(data)))
	}
	for _, v := range data {
		if strings.Contains(string(v), bx.Password) || strings.Contains(string(v), creds.Password) {
			t.Error("a's client Secret holds another pair's password or the migration's secret")
		}
	}
	pod := must(Client{Namespace: "a", Name: "c", Config: "c", DestinationNamespace: "x", PVC: "p1", Module: Module("p1"), Options: DefaultRsyncOptions()}.Pod())
	ctr := pod.Spec.Containers[0]
	if ref := ctr.Env[0].ValueFrom.SecretKeyRef; ref.Key != PasswordKey("x") || !strings.HasPrefix(ctr.Args[len(ctr.Args)-1], "rsync://"+ax.User+"@") {
		t.Errorf("client pod authenticates with %s as %s", ref.Key, ctr.Args[len(ctr.Args)-1])
	}
}

func TestPods(t *testing.T) {
	labels := Labels("uid-1")
	srv := Server{Namespace: "dst", Name: NamesFor("uid-1").Server(), Labels: labels, Image: "img",
		Volumes: []ServerVolume{{PVC: "data", Module: Module("data")}}}
	pod := srv.Pod()
	if pod.Labels[LabelPurpose] != PurposeRsync || pod.Labels[LabelDVM] != "uid-1" || pod.Labels[LabelApp] != AppTransfer {
		t.Errorf("server labels %v", pod.Labels)
	}
	if got := pod.Spec.Containers[0].VolumeMounts[2].MountPath; got != "/mnt/"+Module("data") {
		t.Errorf("server mounts the PVC at %s", got)
	}
	svc := srv.Service(corev1.ServiceTypeNodePort)
	if svc.Spec.Selector[LabelPurpose] != PurposeRsync || svc.Spec.Ports[0].Port != StunnelPort {
		t.Errorf("service %+v", svc.Spec)
	}
	cl := Client{Namespace: "src", Name: NamesFor("uid-1").ClientPod("data", 2), Config: "cfg", DestinationNamespace: "dst",
		Labels: labels, Image: "img", PVC: "data", Module: Module("data"), Options: DefaultRsyncOptions()}
	cp := must(cl.Pod())
	c := cp.Spec.Containers[0]
	if c.Name != ContainerRsync || c.Command[0] != "sh" || cp.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("client container %+v", c)
	}
	if c.Env[1].Value != "stunnel "+ConfigDir+"/"+StunnelKey("dst") {
		t.Errorf("connect prog %q", c.Env[1].Value)
	}
	// A proxy password stays out of ConfigMaps: the stunnel configuration moves to the Secret.
	cfg := ClientConfig{Namespace: "src", Name: "c", Labels: labels, Endpoints: []Endpoint{{DestinationNamespace: "dst", Host: "h", Port: 1}},
		Proxy: &Proxy{Host: "p", Port: "3128", Username: "u", Password: "s3cret"}}
	creds := &Credentials{Password: "x"}
	if cm := must(cfg.ConfigMap()); strings.Contains(fmt.Sprint(cm.Data), "s3cret") || len(cm.Data) != 0 {
		t.Errorf("proxy password in the ConfigMap: %v", cm.Data)
	}
	if sec := must(cfg.Secret(creds)); !strings.Contains(string(sec.Data[StunnelKey("dst")]), "protocolPassword = s3cret") {
		t.Errorf("stunnel configuration not in the Secret: %v", sec.Data)
	}
	cl.StunnelInSecret = true
	if env := must(cl.Pod()).Spec.Containers[0].Env[1].Value; env != "stunnel "+SecretDir+"/"+StunnelKey("dst") {
		t.Errorf("connect prog with the configuration in the Secret: %q", env)
	}
	if n := NamesFor("uid-1").ClientPod("data", 2); !strings.HasSuffix(n, "-2") || len(n) > 63 {
		t.Errorf("client pod name %q", n)
	}
	if NamesFor("uid-1") == NamesFor("uid-2") {
		t.Error("two DVMs share names")
	}
}
