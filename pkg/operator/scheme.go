package operator

import (
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// NewScheme returns the scheme of the operator: core Kubernetes, Ferry and Velero types.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(migv1.AddToScheme(s))
	utilruntime.Must(velerov1.AddToScheme(s))
	return s
}
