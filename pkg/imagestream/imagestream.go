package imagestream

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GVK is OpenShift's ImageStream kind; ListGVK its list.
var (
	GVK     = schema.GroupVersionKind{Group: "image.openshift.io", Version: "v1", Kind: "ImageStream"}
	ListGVK = schema.GroupVersionKind{Group: "image.openshift.io", Version: "v1", Kind: "ImageStreamList"}
)

// TagEvent is one image a tag pointed at (status.tags[].items[]).
type TagEvent struct {
	Created              string `json:"created,omitempty"`
	DockerImageReference string `json:"dockerImageReference,omitempty"`
	Image                string `json:"image,omitempty"`
	Generation           int64  `json:"generation,omitempty"`
}

// TagHistory is a tag's history, newest first (status.tags[]).
type TagHistory struct {
	Tag   string     `json:"tag"`
	Items []TagEvent `json:"items,omitempty"`
}

// Status is the part of an ImageStream's status image migration reads.
type Status struct {
	DockerImageRepository       string       `json:"dockerImageRepository,omitempty"`
	PublicDockerImageRepository string       `json:"publicDockerImageRepository,omitempty"`
	Tags                        []TagHistory `json:"tags,omitempty"`
}

// StatusOf decodes an ImageStream's status.
func StatusOf(obj *unstructured.Unstructured) (Status, error) {
	raw, found, err := unstructured.NestedMap(obj.Object, "status")
	if err != nil || !found {
		return Status{}, err
	}
	var st Status
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st); err != nil {
		return Status{}, fmt.Errorf("decode status of ImageStream %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return st, nil
}

// NewList returns an empty ImageStream list to List into.
func NewList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(ListGVK)
	return l
}

// New returns an empty ImageStream to Get into.
func New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK)
	return u
}

// IsNotServed says the cluster does not serve ImageStreams (no OpenShift image API).
func IsNotServed(err error) bool {
	var noMatch *meta.NoKindMatchError
	return meta.IsNoMatchError(err) || errors.As(err, &noMatch)
}

// RegistryHost is the registry part (host[:port]) of a repository such as
// status.dockerImageRepository ("image-registry.openshift-image-registry.svc:5000/ns/name"),
// or "" when it has no registry part.
func RegistryHost(repository string) string {
	host, _, found := strings.Cut(repository, "/")
	if !found || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return ""
	}
	return host
}
