package mighook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Image reference grammar of github.com/distribution/reference (v0.6.0, regexp.go):
//
//	reference        := name [ ":" tag ] [ "@" digest ]
//	name             := [domain '/'] remote-name
//	domain           := host [':' port-number]
//	host             := domain-name | '[' IPv6address ']'
//	remote-name      := path-component ['/' path-component]*
//	path-component   := alpha-numeric [separator alpha-numeric]*
//	alpha-numeric    := /[a-z0-9]+/
//	separator        := /[_.]|__|[-]+/
//	tag              := /[\w][\w.-]{0,127}/
//	digest           := algorithm ":" /[0-9a-fA-F]{32,}/
const (
	alphanumeric        = `[a-z0-9]+`
	separator           = `(?:[._]|__|[-]+)`
	domainNameComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domainName          = domainNameComponent + `(?:\.` + domainNameComponent + `)*`
	ipv6Address         = `\[(?:[a-fA-F0-9:]+)\]`
	domainAndPort       = `(?:` + domainName + `|` + ipv6Address + `)(?::[0-9]+)?`
	pathComponent       = alphanumeric + `(?:` + separator + alphanumeric + `)*`
	remoteName          = pathComponent + `(?:/` + pathComponent + `)*`
	tagPattern          = `[\w][\w.-]{0,127}`
	digestPattern       = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`
	// maxRemoteNameLength is distribution's RepositoryNameTotalLengthMax.
	maxRemoteNameLength = 255
)

// referenceRegexp captures the domain (may be empty) and the remote name of a reference.
var referenceRegexp = regexp.MustCompile(`^(?:(` + domainAndPort + `)/)?(` + remoteName + `)` +
	`(?::` + tagPattern + `)?(?:@` + digestPattern + `)?$`)

// validImage reports whether image is a valid container image reference, such as
// "quay.io/konveyor/hook-runner:latest" or "busybox@sha256:<hex>".
func validImage(image string) bool {
	m := referenceRegexp.FindStringSubmatch(image)
	return m != nil && len(m[2]) <= maxRemoteNameLength
}

// errNotBase64 says the playbook is not valid base64.
var errNotBase64 = errors.New("not valid base64")

// checkPlaybook decodes a base64 playbook and, when parse is set, requires that it is YAML
// holding a non-empty list (the plays). The error is fit for a condition message.
func checkPlaybook(playbook string, parse bool) error {
	data, err := base64.StdEncoding.DecodeString(playbook)
	if err != nil {
		return errNotBase64
	}
	if !parse {
		return nil
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
		return fmt.Errorf("it is not valid YAML: %s", strings.TrimSuffix(msg, "."))
	}
	plays, ok := doc.([]any)
	switch {
	case !ok:
		return fmt.Errorf("its YAML is %s, not a list of plays", yamlKind(doc))
	case len(plays) == 0:
		return errors.New("its list of plays is empty")
	}
	return nil
}

// yamlKind names the kind of a decoded YAML document for messages.
func yamlKind(doc any) string {
	switch doc.(type) {
	case nil:
		return "empty"
	case map[string]any:
		return "a mapping"
	default:
		return "a scalar"
	}
}
