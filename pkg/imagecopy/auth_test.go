package imagecopy

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ferrymtc/ferry/pkg/imagecopy/registrytest"
)

// htpasswdEntry is the htpasswd line of user "migration" with password "sha256~token", as
// the registry requires it: bcrypt, made with golang.org/x/crypto/bcrypt (cost 4). A fixed
// line rather than a hash made here, because x/crypto is in the module graph but not a
// requirement of this module.
const htpasswdEntry = "migration:$2a$04$8/tbVA0LwnRbqzGafIMQp.YvtsI96a7YjhDgqgzDJCRhz8fSMfdWu\n"

// TestCopyWithTLSAndCredentials copies between two registries that serve TLS with
// certificates of their own CAs and require a password, with right and wrong settings.
func TestCopyWithTLSAndCredentials(t *testing.T) {
	const user, password = "migration", "sha256~token"
	users := []byte(htpasswdEntry)
	srcReg := startRegistry(t, registrytest.Options{TLS: true, Htpasswd: users})
	dstReg := startRegistry(t, registrytest.Options{TLS: true, Htpasswd: users})
	in := newPusher(t, srcReg, &authn.Basic{Username: user, Password: password})
	out := newPusher(t, dstReg, &authn.Basic{Username: user, Password: password})
	digest := in.image("ns/app", "v1", imageOf(t, false, layers(t, 3, types.DockerLayer)...))

	good := func(r *registrytest.Registry) Endpoint {
		return Endpoint{Host: r.Host, Username: user, Password: password, CABundle: r.CA}
	}
	with := func(r *registrytest.Registry, change func(*Endpoint)) Endpoint {
		ep := good(r)
		change(&ep)
		return ep
	}
	for i, tc := range []struct {
		name     string
		src, dst Endpoint
		reason   string // empty: the copy succeeds
		mentions string
	}{
		{"credentials and CAs", good(srcReg), good(dstReg), "", ""},
		{"insecure, no CA", with(srcReg, func(ep *Endpoint) { ep.CABundle, ep.Insecure = nil, true }),
			with(dstReg, func(ep *Endpoint) { ep.CABundle, ep.Insecure = nil, true }), "", ""},
		{"wrong password at the source", with(srcReg, func(ep *Endpoint) { ep.Password = "wrong" }), good(dstReg),
			ReasonAuthentication, "source registry " + srcReg.Host},
		{"wrong password at the destination", good(srcReg), with(dstReg, func(ep *Endpoint) { ep.Password = "wrong" }),
			ReasonAuthentication, "destination registry " + dstReg.Host},
		{"no credentials", good(srcReg), with(dstReg, func(ep *Endpoint) { ep.Password = "" }),
			ReasonAuthentication, "destination registry " + dstReg.Host},
		{"the destination's CA not given", good(srcReg), with(dstReg, func(ep *Endpoint) { ep.CABundle = nil }),
			ReasonTLS, "destination registry " + dstReg.Host},
		{"the CA of another registry", with(srcReg, func(ep *Endpoint) { ep.CABundle = dstReg.CA }), good(dstReg),
			ReasonTLS, "source registry " + srcReg.Host},
		{"plain HTTP to a TLS registry", with(srcReg, func(ep *Endpoint) { ep.PlainHTTP = true }), good(dstReg),
			ReasonTLS, "source registry " + srcReg.Host},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dstRepo := fmt.Sprintf("ns2/case%d", i)
			res, err := (&Copier{}).Copy(t.Context(), mustRegistry(t, tc.src), "ns/app", digest, mustRegistry(t, tc.dst), dstRepo, "v1")
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("copy: %v", err)
				}
				if res.Images != 1 || !bytes.Equal(out.manifest(dstRepo, "v1"), in.manifest("ns/app", digest)) {
					t.Errorf("result %+v: the destination does not hold the image", res)
				}
				return
			}
			f := Classify(err)
			t.Log(f.Message)
			if f.Reason != tc.reason || !strings.Contains(f.Message, tc.mentions) {
				t.Errorf("classified %+v, want %s mentioning %q; error: %v", f, tc.reason, tc.mentions, err)
			}
			if out.manifest(dstRepo, digest) != nil {
				t.Error("a failed copy wrote the image")
			}
		})
	}
}
