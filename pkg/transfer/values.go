package transfer

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ErrUnsafeValue is wrapped by the errors of values that cannot go into a stunnel or rsyncd
// configuration, a Secret key or a shell command line. The errors name the value, never
// show it: it may be a password.
var ErrUnsafeValue = errors.New("unsafe value")

// CheckValue refuses a value bound for a configuration file line ("option = value") that
// holds a control character (CR, LF, NUL, any other C0 or C1 control, DEL) or white space at
// either end: a line break would end the option and let the rest add options of its own (an
// stunnel "exec" runs a program), and the parsers trim the ends.
func CheckValue(what, v string) error {
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %s contains a control character", ErrUnsafeValue, what)
	}
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("%w: %s begins or ends with white space", ErrUnsafeValue, what)
	}
	return nil
}

// checkToken refuses anything but a plain token (letters, digits, ".", "_", "-", starting
// with a letter or digit): rsync module names and users, which sit in section headers,
// option values and URLs.
func checkToken(what, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is empty", ErrUnsafeValue, what)
	}
	for i, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '_' || r == '-')
		if !ok {
			return fmt.Errorf("%w: %s %q is not a plain name", ErrUnsafeValue, what, v)
		}
	}
	return nil
}

// checkNamespace refuses a namespace that is not a DNS-1123 label: namespaces name Secret
// and ConfigMap keys and reach RSYNC_CONNECT_PROG, which rsync runs with /bin/sh -c.
func checkNamespace(what, v string) error {
	if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
		return fmt.Errorf("%w: %s %q is not a namespace name: %s", ErrUnsafeValue, what, v, strings.Join(errs, "; "))
	}
	return nil
}

// checkHost refuses a host that is neither an IP address nor a DNS name.
func checkHost(what, v string) error {
	if net.ParseIP(v) != nil {
		return nil
	}
	if len(validation.IsDNS1123Subdomain(strings.ToLower(v))) > 0 {
		if err := CheckValue(what, v); err != nil {
			return err
		}
		return fmt.Errorf("%w: %s %q is neither an IP address nor a DNS name", ErrUnsafeValue, what, v)
	}
	return nil
}

// checkPort refuses a port outside 1-65535.
func checkPort(what string, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%w: %s %s is not a TCP port", ErrUnsafeValue, what, strconv.Itoa(port))
	}
	return nil
}
