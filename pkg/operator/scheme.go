package operator

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ferrymtc/ferry/pkg/scheme"
)

// NewScheme returns the scheme of the operator: core Kubernetes, Ferry and Velero types.
func NewScheme() *runtime.Scheme { return scheme.New() }
