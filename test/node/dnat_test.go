package node

import (
	"strings"
	"testing"
)

func TestNatRules(t *testing.T) {
	rules := natRules([]dnatService{
		{key: "b/web:http", clusterIPs: []string{"10.0.0.20"}, port: 80, nodePort: 30080,
			endpoints: []string{"10.244.1.7:8080", "10.244.2.3:8080", "10.244.1.5:8080"}},
		{key: "a/idle:", clusterIPs: []string{"10.0.0.9"}, port: 443},
		{key: "a/one:", clusterIPs: []string{"10.0.0.10"}, port: 6443, endpoints: []string{"10.244.1.9:6443"}},
	})
	web, one, idle := serviceChain("b/web:http"), serviceChain("a/one:"), serviceChain("a/idle:")
	for _, want := range []string{
		"-A PREROUTING -j FERRY-SERVICES\n",
		"-A OUTPUT -j FERRY-SERVICES\n",
		"-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\n",
		"-A FERRY-SERVICES -d 10.0.0.20/32 -p tcp -m tcp --dport 80 -j " + web + "\n",
		"-A FERRY-SERVICES -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j " + web + "\n",
		"-A " + web + " -j MARK --set-xmark 0x4000/0x4000\n" +
			"-A " + web + " -p tcp -m statistic --mode random --probability 0.33333333333 -j DNAT --to-destination 10.244.1.5:8080\n" +
			"-A " + web + " -p tcp -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.1.7:8080\n" +
			"-A " + web + " -p tcp -j DNAT --to-destination 10.244.2.3:8080\n",
		"-A " + one + " -p tcp -j DNAT --to-destination 10.244.1.9:6443\n",
	} {
		if !strings.Contains(rules, want) {
			t.Errorf("rules lack\n%s\ngot:\n%s", want, rules)
		}
	}
	if strings.Contains(rules, idle) || strings.Contains(rules, "10.0.0.9") {
		t.Errorf("a Service without endpoints got rules:\n%s", rules)
	}
	if !strings.HasPrefix(rules, "*nat\n") || !strings.HasSuffix(rules, "COMMIT\n") {
		t.Errorf("not one nat table in restore form:\n%s", rules)
	}
	if len(web) > 28 {
		t.Errorf("chain name %q is longer than iptables allows", web)
	}
}

func TestKernelServed(t *testing.T) {
	for _, tc := range []struct {
		what      string
		target    svcTarget
		endpoints []string
		want      bool
	}{
		{"pod endpoints", svcTarget{"ns", "web", "http"}, []string{"10.244.1.5:8080", "10.100.0.2:30000"}, true},
		{"no endpoints yet", svcTarget{"ns", "web", "http"}, nil, true},
		{"the API server", svcTarget{"default", "kubernetes", "https"}, []string{"10.0.0.254:6443"}, false},
		{"a host loopback server", svcTarget{"ns", "s3", ""}, []string{"10.244.1.5:9000", "127.0.0.1:9000"}, false},
	} {
		if got := kernelServed(tc.target, tc.endpoints); got != tc.want {
			t.Errorf("%s: kernelServed = %v, want %v", tc.what, got, tc.want)
		}
	}
}
