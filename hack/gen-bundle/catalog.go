package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/operator-framework/api/pkg/operators/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The schemas of a file-based catalog (operator-registry's alpha/declcfg and
// alpha/property), written out here rather than imported; see main.go.

type fbcPackage struct {
	Schema         string   `json:"schema"`
	Name           string   `json:"name"`
	DefaultChannel string   `json:"defaultChannel"`
	Icon           *fbcIcon `json:"icon,omitempty"`
	Description    string   `json:"description,omitempty"`
}

type fbcIcon struct {
	Data      []byte `json:"base64data"`
	MediaType string `json:"mediatype"`
}

type fbcChannel struct {
	Schema  string            `json:"schema"`
	Name    string            `json:"name"`
	Package string            `json:"package"`
	Entries []fbcChannelEntry `json:"entries"`
}

type fbcChannelEntry struct {
	Name     string   `json:"name"`
	Replaces string   `json:"replaces,omitempty"`
	Skips    []string `json:"skips,omitempty"`
}

type fbcBundle struct {
	Schema        string          `json:"schema"`
	Name          string          `json:"name"`
	Package       string          `json:"package"`
	Image         string          `json:"image"`
	Properties    []fbcProperty   `json:"properties"`
	RelatedImages []fbcRelatedImg `json:"relatedImages,omitempty"`
}

type fbcProperty struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

type fbcRelatedImg struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type fbcPackageProp struct {
	PackageName string `json:"packageName"`
	Version     string `json:"version"`
}

type fbcGVKProp struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// fbcCSVMetadata is the olm.csv.metadata property: what catalog clients show about a
// bundle without pulling its image (opm render writes it for registry+v1 bundles).
type fbcCSVMetadata struct {
	Annotations               map[string]string                  `json:"annotations,omitempty"`
	APIServiceDefinitions     v1alpha1.APIServiceDefinitions     `json:"apiServiceDefinitions,omitempty"`
	CustomResourceDefinitions v1alpha1.CustomResourceDefinitions `json:"crdDescriptions,omitempty"`
	Description               string                             `json:"description,omitempty"`
	DisplayName               string                             `json:"displayName,omitempty"`
	InstallModes              []v1alpha1.InstallMode             `json:"installModes,omitempty"`
	Keywords                  []string                           `json:"keywords,omitempty"`
	Labels                    map[string]string                  `json:"labels,omitempty"`
	Links                     []v1alpha1.AppLink                 `json:"links,omitempty"`
	Maintainers               []v1alpha1.Maintainer              `json:"maintainers,omitempty"`
	Maturity                  string                             `json:"maturity,omitempty"`
	MinKubeVersion            string                             `json:"minKubeVersion,omitempty"`
	NativeAPIs                []metav1.GroupVersionKind          `json:"nativeAPIs,omitempty"`
	Provider                  v1alpha1.AppLink                   `json:"provider,omitempty"`
}

// catalog is the package's file-based catalog: its documents in the order they are written.
type catalog struct {
	pkg     fbcPackage
	channel fbcChannel
	bundle  fbcBundle
}

// buildCatalog returns the catalog of the one bundle, as `opm render` of the bundle image
// plus a package and a channel document would write it.
func buildCatalog(csv *v1alpha1.ClusterServiceVersion) (catalog, error) {
	props := []fbcProperty{}
	add := func(typ string, v any) error {
		raw, err := compactJSON(v)
		if err != nil {
			return err
		}
		props = append(props, fbcProperty{Type: typ, Value: raw})
		return nil
	}
	if err := add("olm.package", fbcPackageProp{PackageName: packageName, Version: csv.Spec.Version.String()}); err != nil {
		return catalog{}, err
	}
	for _, o := range csv.Spec.CustomResourceDefinitions.Owned {
		group := o.Name[strings.Index(o.Name, ".")+1:]
		if err := add("olm.gvk", fbcGVKProp{Group: group, Kind: o.Kind, Version: o.Version}); err != nil {
			return catalog{}, err
		}
	}
	meta := fbcCSVMetadata{
		Annotations:               csv.Annotations,
		APIServiceDefinitions:     csv.Spec.APIServiceDefinitions,
		CustomResourceDefinitions: csv.Spec.CustomResourceDefinitions,
		Description:               csv.Spec.Description,
		DisplayName:               csv.Spec.DisplayName,
		InstallModes:              csv.Spec.InstallModes,
		Keywords:                  csv.Spec.Keywords,
		Labels:                    csv.Labels,
		Links:                     csv.Spec.Links,
		Maintainers:               csv.Spec.Maintainers,
		Maturity:                  csv.Spec.Maturity,
		MinKubeVersion:            csv.Spec.MinKubeVersion,
		NativeAPIs:                csv.Spec.NativeAPIs,
		Provider:                  csv.Spec.Provider,
	}
	if err := add("olm.csv.metadata", meta); err != nil {
		return catalog{}, err
	}
	// opm orders properties by type, then value.
	slices.SortStableFunc(props, func(a, b fbcProperty) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(string(a.Value), string(b.Value))
	})
	var related []fbcRelatedImg
	for _, r := range csv.Spec.RelatedImages {
		related = append(related, fbcRelatedImg{Name: r.Name, Image: r.Image})
	}
	ico := csv.Spec.Icon[0]
	icoData, err := base64.StdEncoding.DecodeString(ico.Data)
	if err != nil {
		return catalog{}, err
	}
	return catalog{
		pkg: fbcPackage{
			Schema: "olm.package", Name: packageName, DefaultChannel: channel,
			Icon:        &fbcIcon{Data: icoData, MediaType: ico.MediaType},
			Description: csv.Annotations["description"],
		},
		channel: fbcChannel{
			Schema: "olm.channel", Name: channel, Package: packageName,
			// The first bundle replaces nothing; the next one sets Replaces: csvName.
			Entries: []fbcChannelEntry{{Name: csv.Name}},
		},
		bundle: fbcBundle{
			Schema: "olm.bundle", Name: csv.Name, Package: packageName, Image: bundleImage,
			Properties: props, RelatedImages: related,
		},
	}, nil
}

// compactJSON marshals v as opm does: compact, and without escaping <, > and & (the
// categories annotation holds "&").
func compactJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
