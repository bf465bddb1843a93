package transfer

import (
	"slices"
	"strings"
	"testing"
)

// The fuzz tests feed the configuration builders and the proxy parser arbitrary values and
// check that a value can never add a line (an option, a section) to what they write: the
// output has exactly the lines the builder writes for harmless values of the same shape.

// confKeys returns the option names (and "[section]" markers) of a configuration, in order.
func confKeys(t *testing.T, conf string) []string {
	t.Helper()
	if !strings.HasSuffix(conf, "\n") {
		t.Fatalf("configuration does not end with a line break: %q", conf)
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSuffix(conf, "\n"), "\n") {
		switch {
		case line == "":
			keys = append(keys, "")
		case strings.HasPrefix(line, "["):
			keys = append(keys, "[]")
		default:
			key, _, ok := strings.Cut(line, " =")
			if !ok {
				t.Fatalf("line %q is not an option", line)
			}
			keys = append(keys, key)
		}
	}
	return keys
}

// referenceStunnel is the client configuration for harmless values of the same shape.
func referenceStunnel(t *testing.T, e Endpoint, proxy *Proxy) []string {
	t.Helper()
	ref := Endpoint{Host: "h", Port: 1}
	if e.SNI != "" {
		ref.SNI = "s"
	}
	var refProxy *Proxy
	if proxy != nil {
		refProxy = &Proxy{Host: "p", Port: "1"}
		if proxy.Username != "" {
			refProxy.Username, refProxy.Password = "u", "pw"
		}
	}
	conf, err := ClientStunnelConf(ref, refProxy)
	if err != nil {
		t.Fatal(err)
	}
	return confKeys(t, conf)
}

func FuzzClientStunnelConf(f *testing.F) {
	f.Add("10.0.0.1", 31000, "", "", "", "", "")
	f.Add("rsync.apps.example.com", 443, "rsync.apps.example.com", "proxy.example", "3128", "user", "pass word")
	f.Add("h\nexec = /bin/sh", 1, "", "", "", "", "")
	f.Add("h", 1, "s\r\nexecArgs = sh -c id", "", "", "", "")
	f.Add("h", 1, "", "proxy", "3128", "u", "p\nexec = /bin/sh")
	f.Add("h", 1, "", "proxy", "3128\nexec = /bin/sh", "u", "p")
	f.Add("h", 1, "", "proxy", "3128", "u\x00", "p")
	f.Fuzz(func(t *testing.T, host string, port int, sni, proxyHost, proxyPort, user, password string) {
		e := Endpoint{DestinationNamespace: "d", Host: host, Port: port, SNI: sni}
		var proxy *Proxy
		if proxyHost != "" {
			proxy = &Proxy{Host: proxyHost, Port: proxyPort, Username: user, Password: password}
		}
		conf, err := ClientStunnelConf(e, proxy)
		if err != nil {
			return
		}
		if got, want := confKeys(t, conf), referenceStunnel(t, e, proxy); !slices.Equal(got, want) {
			t.Fatalf("options %q, want %q:\n%s", got, want, conf)
		}
	})
}

func FuzzParseProxy(f *testing.F) {
	f.Add("http://proxy.example:3128")
	f.Add("http://user:secret@proxy.example:3128")
	f.Add("http://u:p4ss@proxy:31a28")
	f.Add("http://u:p%0Aexec%20%3D%20%2Fbin%2Fsh@proxy:3128")
	f.Add("http://u%0D%0Aexec=sh:p@proxy:3128")
	f.Add("http://u:p@[::1]:3128")
	f.Add("http://u:p@proxy%0Aexec:3128")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseProxy(raw)
		if err != nil {
			if pw := passwordOf(raw); len(pw) >= 4 && strings.Count(raw, pw) == 1 && !strings.Contains(proxyErrorText, pw) && strings.Contains(err.Error(), pw) {
				t.Fatalf("error %q shows the password %q", err, pw)
			}
			return
		}
		if p == nil {
			return
		}
		conf, err := ClientStunnelConf(Endpoint{Host: "10.0.0.1", Port: 443}, p)
		if err != nil {
			t.Fatalf("ParseProxy accepted %q but the configuration refuses it: %v", raw, err)
		}
		if got, want := confKeys(t, conf), referenceStunnel(t, Endpoint{}, p); !slices.Equal(got, want) {
			t.Fatalf("options %q, want %q:\n%s", got, want, conf)
		}
	})
}

// proxyErrorText is the fixed text of ParseProxy's errors (and of a redacted password): a
// "password" that is part of it proves nothing when it shows.
var proxyErrorText = errProxySyntax.Error() + " want http://[user:password@]host:port, not scheme and host " + ErrUnsafeValue.Error() +
	" the proxy host the proxy port the proxy user the proxy password contains a control character begins or ends with" +
	" white space is neither an IP address nor a DNS name is not a TCP port is not a number"

// passwordOf returns the password of a URL with user information (what stands between the
// first ":" and the last "@" of the authority, which "/", "?" or "#" ends), or "".
func passwordOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, ok := strings.Cut(rest[:at], ":")
	if !ok {
		return ""
	}
	return pw
}

func FuzzRsyncdConf(f *testing.F) {
	f.Add(Module("data"), PairUser("a", "b"), true)
	f.Add("m]\n[etc]\npath = /etc\n[x", "u", false)
	f.Add("m", "u\nread only = no", true)
	f.Add("m", "u\x00", true)
	f.Fuzz(func(t *testing.T, module, user string, root bool) {
		conf, err := RsyncdConf([]RsyncModule{{Name: module, User: user}}, root)
		if err != nil {
			return
		}
		want, err := RsyncdConf([]RsyncModule{{Name: "m", User: "u"}}, root)
		if err != nil {
			t.Fatal(err)
		}
		if got := confKeys(t, conf); !slices.Equal(got, confKeys(t, want)) {
			t.Fatalf("options %q, want %q:\n%s", got, confKeys(t, want), conf)
		}
		if !strings.Contains(conf, "\n["+module+"]\npath = "+DataRoot+"/"+module+"\nauth users = "+user+"\n") {
			t.Fatalf("the module is not the one asked for:\n%s", conf)
		}
	})
}

func FuzzRsyncSecrets(f *testing.F) {
	f.Add(PairUser("a", "b"), "c2VjcmV0")
	f.Add("u", "p\nroot:x")
	f.Add("u\nroot", "p")
	f.Fuzz(func(t *testing.T, user, password string) {
		out, err := RsyncSecrets([]PairAuth{{User: user, Password: password}})
		if err != nil {
			return
		}
		if out != user+":"+password+"\n" || strings.Count(out, "\n") != 1 {
			t.Fatalf("secrets file %q for one user", out)
		}
	})
}
