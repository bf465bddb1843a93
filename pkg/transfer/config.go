package transfer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Ports and paths inside the transfer pods.
const (
	// StunnelPort is where the server's stunnel accepts TLS (container and Service port).
	StunnelPort = 6443
	// RsyncPort is where the rsync daemon listens, on the server pod's loopback only.
	RsyncPort = 2222
	// RsyncUser prefixes the rsync daemon users the clients authenticate as (PairUser).
	RsyncUser = "ferry"
	// ConfigDir holds rsyncd.conf and stunnel.conf (ConfigMap volume).
	ConfigDir = "/etc/ferry-transfer/config"
	// SecretDir holds the certificates, key and password files (Secret volume).
	SecretDir = "/etc/ferry-transfer/secret"
	// WorkDir is an emptyDir for stunnel's log.
	WorkDir = "/var/run/ferry-transfer"
	// DataRoot is where volumes are mounted: DataRoot/<module> on the server, DataRoot/source
	// on clients.
	DataRoot = "/mnt"
)

// Keys of the transfer ConfigMaps and Secrets.
const (
	FileRsyncdConf   = "rsyncd.conf"
	FileStunnelConf  = "stunnel.conf"
	FileRsyncSecrets = "rsyncd.secrets"
	FileCACert       = "ca.crt"
	FileCert         = "tls.crt"
	FileKey          = "tls.key"
)

// PasswordKey is the client Secret key of the rsync password for the destination namespace
// destNamespace (the source namespace is the Secret's own).
func PasswordKey(destNamespace string) string { return "password-" + destNamespace }

// ServerStunnelConf is the server's stunnel configuration: TLS 1.2 or later on StunnelPort,
// forwarded to the rsync daemon on loopback, and only for clients whose certificate was
// signed by the migration's CA (verifyChain with requireCert).
func ServerStunnelConf() string {
	return strings.Join([]string{
		"foreground = yes",
		"pid =",
		"debug = notice",
		"sslVersionMin = TLSv1.2",
		"socket = l:TCP_NODELAY=1",
		"socket = r:TCP_NODELAY=1",
		"[rsync]",
		"accept = " + strconv.Itoa(StunnelPort),
		"connect = 127.0.0.1:" + strconv.Itoa(RsyncPort),
		"cert = " + SecretDir + "/" + FileCert,
		"key = " + SecretDir + "/" + FileKey,
		"CAfile = " + SecretDir + "/" + FileCACert,
		"requireCert = yes",
		"verifyChain = yes",
		"TIMEOUTclose = 0",
		"",
	}, "\n")
}

// Proxy is an HTTP CONNECT proxy between the clients and the server (stunnel_tcp_proxy).
type Proxy struct {
	Host, Port, Username, Password string
}

// HasCredentials reports whether the proxy has a user name or password, which then must stay
// out of ConfigMaps.
func (p *Proxy) HasCredentials() bool { return p != nil && (p.Username != "" || p.Password != "") }

// errProxySyntax is the error of a stunnel_tcp_proxy that is not a URL. It is a fixed
// message: net/url's errors quote the whole URL, password included, and this error ends up
// in the DVM's status, its conditions and the migration's events.
var errProxySyntax = errors.New("stunnel_tcp_proxy is not a URL of the form http://[user:password@]host:port")

// ParseProxy reads stunnel_tcp_proxy: http://[user:password@]host:port. Empty means no proxy.
// Its errors never show the password. Control characters anywhere (also percent-encoded in
// the user or password, which are written into the clients' stunnel configuration) are
// refused.
func ParseProxy(raw string) (*Proxy, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	if err := CheckValue("stunnel_tcp_proxy", raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errProxySyntax
	}
	// Only the scheme and the host are shown: in a URL that is not of the expected form the
	// password may sit anywhere (a missing ":" after http makes all of it a path), and
	// net/url's Redacted hides only a well-placed one.
	if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.Port() == "" || u.Opaque != "" {
		return nil, fmt.Errorf("stunnel_tcp_proxy: want http://[user:password@]host:port, not scheme %q and host %q", u.Scheme, u.Host)
	}
	p := &Proxy{Host: u.Hostname(), Port: u.Port()}
	if u.User != nil {
		p.Username = u.User.Username()
		p.Password, _ = u.User.Password()
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("stunnel_tcp_proxy: %w", err)
	}
	return p, nil
}

// check refuses proxy settings that cannot be written into a stunnel configuration.
func (p *Proxy) check() error {
	port, err := strconv.Atoi(p.Port)
	if err != nil {
		return fmt.Errorf("%w: the proxy port is not a number", ErrUnsafeValue)
	}
	return errors.Join(checkHost("the proxy host", p.Host), checkPort("the proxy port", port),
		CheckValue("the proxy user", p.Username), CheckValue("the proxy password", p.Password))
}

// ClientStunnelConf is the clients' stunnel configuration, run by rsync for each connection
// (RSYNC_CONNECT_PROG) in inetd mode: no listening port. It presents the client certificate
// and accepts only a server certificate of the migration's CA naming ServerName. host and
// port are the server's endpoint; with a proxy, stunnel connects through it with HTTP
// CONNECT. With e.SNI, the client names that host in its TLS hello so that a router passes
// the connection through to the server (which still must prove it is ServerName). Without a
// proxy, e.Fallbacks are further connect targets, tried in order. A value that could add a
// line to the configuration is an error wrapping ErrUnsafeValue.
func ClientStunnelConf(e Endpoint, proxy *Proxy) (string, error) {
	if err := e.check(); err != nil {
		return "", err
	}
	if proxy != nil {
		if err := proxy.check(); err != nil {
			return "", err
		}
	}
	lines := []string{
		"client = yes",
		"pid =",
		"debug = notice",
		"output = " + WorkDir + "/stunnel.log",
		"sslVersionMin = TLSv1.2",
		"socket = r:TCP_NODELAY=1",
		// inetd mode: the global section is the service; a [section] would need an accept.
		"cert = " + SecretDir + "/" + FileCert,
		"key = " + SecretDir + "/" + FileKey,
		"CAfile = " + SecretDir + "/" + FileCACert,
		"verifyChain = yes",
		"checkHost = " + ServerName,
		"TIMEOUTconnect = 20",
		"TIMEOUTclose = 0",
	}
	if e.SNI != "" {
		lines = append(lines, "sni = "+e.SNI)
	}
	endpoint := net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
	if proxy == nil {
		lines = append(lines, "connect = "+endpoint)
		for _, h := range e.Fallbacks {
			lines = append(lines, "connect = "+net.JoinHostPort(h, strconv.Itoa(e.Port)))
		}
		if len(e.Fallbacks) > 0 {
			// In the order given: the next target only when the previous one fails.
			lines = append(lines, "failover = prio")
		}
	} else {
		lines = append(lines, "connect = "+net.JoinHostPort(proxy.Host, proxy.Port), "protocol = connect", "protocolHost = "+endpoint)
		if proxy.Username != "" {
			lines = append(lines, "protocolUsername = "+proxy.Username, "protocolPassword = "+proxy.Password, "protocolAuthentication = basic")
		}
	}
	return strings.Join(append(lines, ""), "\n"), nil
}

// RsyncModule is one module of the rsync daemon: a destination volume, and the one rsync
// user (the pair of the source namespace its PVC comes from and this destination namespace,
// PairUser) that may write into it.
type RsyncModule struct {
	Name, User string
}

// RsyncdConf is the rsync daemon's configuration: one module per destination PVC, reachable
// from loopback only (stunnel), each writable by its namespace pair's user alone (auth users,
// with the password file) and never readable ("write only": a client can push into a volume
// but not read back what it, or another namespace's client, wrote). As root the daemon keeps
// owners, groups and modes, and chroots into the module: outside a chroot rsync sanitizes
// symlink targets (an absolute target loses its leading slash, ".." elements are trimmed),
// which changes the data. A non-root daemon can do neither (chroot needs root): files get its
// user, and such symlinks are rewritten (the DVM warns about both).
//
// Module names and users must be plain tokens (module names are MD5 digests, users PairUser
// digests): anything else is an error wrapping ErrUnsafeValue.
func RsyncdConf(modules []RsyncModule, root bool) (string, error) {
	for _, m := range modules {
		if err := errors.Join(checkToken("the rsync module", m.Name), checkToken("the rsync user", m.User)); err != nil {
			return "", err
		}
	}
	lines := []string{
		"port = " + strconv.Itoa(RsyncPort),
		"address = 127.0.0.1",
		"log file = /dev/stdout",
		"max verbosity = 2",
		"munge symlinks = no",
		"numeric ids = yes",
		"read only = no",
		"write only = yes",
		"list = no",
	}
	if root {
		lines = append(lines, "use chroot = yes", "uid = 0", "gid = 0")
	} else {
		lines = append(lines, "use chroot = no")
	}
	lines = append(lines,
		"secrets file = "+SecretDir+"/"+FileRsyncSecrets,
		"strict modes = no",
		"hosts allow = 127.0.0.1 ::1",
	)
	for _, m := range modules {
		lines = append(lines, "", "["+m.Name+"]", "path = "+DataRoot+"/"+m.Name, "auth users = "+m.User)
	}
	return strings.Join(append(lines, ""), "\n"), nil
}

// RsyncSecrets is the daemon's secrets file: the users and passwords of the namespace pairs
// whose volumes the server holds, each once.
func RsyncSecrets(auths []PairAuth) (string, error) {
	var b strings.Builder
	seen := map[string]bool{}
	for _, a := range auths {
		if err := errors.Join(checkToken("the rsync user", a.User), CheckValue("the rsync password", a.Password)); err != nil {
			return "", err
		}
		if !seen[a.User] {
			seen[a.User] = true
			b.WriteString(a.User + ":" + a.Password + "\n")
		}
	}
	return b.String(), nil
}

// HostPaths rewrites the in-pod paths and ports of the transfer's configurations, arguments
// and client script for host processes (the transport tests and make bench-transfer run the
// real programs that way): ConfigDir, SecretDir and WorkDir move to config, secret and work
// under dir, DataRoot to dir/mnt, stunnel's accept to 127.0.0.1:stunnelPort and the rsync
// daemon's port to rsyncPort.
func HostPaths(dir string, stunnelPort, rsyncPort int) *strings.Replacer {
	return strings.NewReplacer(
		ConfigDir, dir+"/config", SecretDir, dir+"/secret", WorkDir, dir+"/work", DataRoot+"/", dir+"/mnt/",
		"accept = "+strconv.Itoa(StunnelPort), "accept = 127.0.0.1:"+strconv.Itoa(stunnelPort),
		":"+strconv.Itoa(RsyncPort), ":"+strconv.Itoa(rsyncPort),
		"port = "+strconv.Itoa(RsyncPort), "port = "+strconv.Itoa(rsyncPort),
	)
}
