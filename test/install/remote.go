package install

import (
	"context"
	"fmt"

	"github.com/ferrymtc/ferry/test/controlplane"
)

// Side is the part a remote cluster plays in migrations: the overlay of config/rbac/remote
// that gives its token what that side needs.
type Side string

// The sides of config/rbac/remote.
const (
	Source      Side = "source"
	Destination Side = "destination"
)

// RemoteToken prepares cp as a remote cluster the way the README tells users to: it applies
// config/rbac/remote/<side> (Ferry's ClusterRoles, the migration-controller ServiceAccount and
// its bindings) and returns a token of that ServiceAccount from the TokenRequest API, as
// `kubectl create token` does. The token can do only what the side's roles allow.
func RemoteToken(ctx context.Context, cp *controlplane.ControlPlane, side Side) (string, error) {
	objs, err := BuildAndApply(ctx, cp.Client, "config/rbac/remote/"+string(side))
	if err != nil {
		return "", err
	}
	for _, u := range objs {
		if u.GetKind() == "ServiceAccount" {
			return cp.MintToken(ctx, u.GetNamespace(), u.GetName(), "")
		}
	}
	return "", fmt.Errorf("config/rbac/remote/%s has no ServiceAccount", side)
}
