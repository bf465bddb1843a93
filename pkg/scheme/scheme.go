// Package scheme builds the runtime scheme Ferry's binaries share: core Kubernetes, Ferry's
// (MTC's) API and Velero's. The operator and the ferry CLI use the same one, so an object the
// operator writes is one the CLI can read; it lives apart from pkg/operator so that the CLI
// does not link the controllers.
package scheme

import (
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// New returns a scheme with core Kubernetes, Ferry and Velero types.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(migv1.AddToScheme(s))
	utilruntime.Must(velerov1.AddToScheme(s))
	return s
}
