package controlplane

import (
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestNamedCertificate: a client that asks for the name of WithNamedCertificate (SNI) gets a
// certificate that verifies against NamedCABundle, while the default one still serves the
// admin client.
func TestNamedCertificate(t *testing.T) {
	const name = "api.named.test"
	cp, err := Start("named", WithNamedCertificate(name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if _, err := cp.Clientset.Discovery().ServerVersion(); err != nil {
		t.Fatalf("the default certificate: %v", err)
	}
	cfg := rest.CopyConfig(cp.Config)
	// The connection still goes to 127.0.0.1; only the name asked for and verified differs,
	// as through a proxy that resolves the name.
	cfg.ServerName, cfg.CAData = name, cp.NamedCABundle()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("the named certificate: %v", err)
	}
	cfg.CAData = cp.CABundle()
	if cs, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err == nil {
		t.Fatal("the named certificate verified against the default CA: the test proves nothing")
	}
}
