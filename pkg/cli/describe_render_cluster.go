package cli

import (
	"fmt"
	"time"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// describeClusterText renders `ferry describe cluster`. It never shows the token: it prints
// where the token Secret is, not what it holds (and the CLI never reads it for describe).
func describeClusterText(c *migv1.MigCluster, now time.Time) string {
	w := &descWriter{now: now}
	spec := c.Spec
	url := spec.URL
	if spec.IsHostCluster && url == "" {
		url = "(the cluster the operator runs on)"
	}
	ca := "not given (system trust store)"
	if len(spec.CABundle) > 0 {
		ca = fmt.Sprintf("given (%d bytes)", len(spec.CABundle))
	}
	if spec.Insecure {
		ca += "; not verified (insecure)"
	}
	secret := ""
	if !spec.IsHostCluster || spec.ServiceAccountSecretRef != nil {
		secret = descRef(spec.ServiceAccountSecretRef)
		if secret == "" {
			secret = "<not set>"
		} else {
			secret = "Secret " + secret + " (token not shown)"
		}
	}
	restartRestic := ""
	if spec.RestartRestic != nil {
		restartRestic = descYesNo(*spec.RestartRestic)
	}
	w.fields(0,
		descField{"Name", c.Name},
		descField{"Namespace", c.Namespace},
		descField{"Ready", descYesNo(conditions.IsTrue(c.Status.Conditions, migv1.Ready))},
		descField{"Host cluster", descYesNo(spec.IsHostCluster)},
		descField{"URL", url},
		descField{"Insecure", descYesNo(spec.Insecure)},
		descField{"CA bundle", ca},
		descField{"Service account token", secret},
		descField{"Exposed registry path", descOr(spec.ExposedRegistryPath, "<none>")},
		descField{"Registry path", c.Status.RegistryPath},
		descField{"Operator version", c.Status.OperatorVersion},
		descField{"Azure resource group", spec.AzureResourceGroup},
		descField{"Restart Restic", restartRestic},
	)
	w.blank()
	w.conditions(0, c.Status.Conditions)
	return w.String()
}
