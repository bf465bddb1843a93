package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	"github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrymtc/ferry/pkg/settings"
)

// csvInputs is what the CSV is assembled from.
type csvInputs struct {
	deployment  appsv1.Deployment
	grants      grants
	crds        []crdFile
	examples    examples
	description string
}

// buildCSV assembles the ClusterServiceVersion.
func buildCSV(in csvInputs) (*v1alpha1.ClusterServiceVersion, error) {
	owned, internal, err := ownedDescriptions(in.crds)
	if err != nil {
		return nil, err
	}
	containers := in.deployment.Spec.Template.Spec.Containers
	if len(containers) != 1 {
		return nil, fmt.Errorf("deployment %s: want one container (the manager), found %d", in.deployment.Name, len(containers))
	}
	// config/manager's image after kustomize's images transformer: the same image
	// `make deploy` runs. A release pins it there (kustomize edit set image) before
	// `make bundle`; until then it is the moving :latest tag.
	operatorImage := containers[0].Image
	internalJSON, err := json.Marshal(internal)
	if err != nil {
		return nil, err
	}
	sa := in.deployment.Spec.Template.Spec.ServiceAccountName
	csv := &v1alpha1.ClusterServiceVersion{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.ClusterServiceVersionAPIVersion, Kind: v1alpha1.ClusterServiceVersionKind},
		ObjectMeta: metav1.ObjectMeta{
			Name: csvName,
			// No createdAt: a timestamp would make every run differ from the committed bundle.
			Annotations: map[string]string{
				"alm-examples":   in.examples.almExamples,
				"capabilities":   capabilities,
				"categories":     categories,
				"containerImage": operatorImage,
				"description":    shortDescription,
				"repository":     repositoryURL,
				"support":        providerName,
				"operatorframework.io/initialization-resource":    in.examples.initialization,
				"operatorframework.io/suggested-namespace":        suggestedNamespace,
				"operators.operatorframework.io/internal-objects": string(internalJSON),
			},
		},
		Spec: v1alpha1.ClusterServiceVersionSpec{
			DisplayName:    displayName,
			Description:    in.description,
			Version:        version.OperatorVersion{Version: semver.MustParse(bundleVersion)},
			Maturity:       maturity,
			MinKubeVersion: minKubeVersion,
			Keywords:       keywords,
			Maintainers:    []v1alpha1.Maintainer{{Name: providerName, Email: maintainerEmail}},
			Provider:       v1alpha1.AppLink{Name: providerName, URL: repositoryURL},
			Links:          links,
			Icon:           []v1alpha1.Icon{{Data: base64.StdEncoding.EncodeToString(icon), MediaType: "image/svg+xml"}},
			InstallModes:   installModes,
			InstallStrategy: v1alpha1.NamedInstallStrategy{
				StrategyName: v1alpha1.InstallStrategyNameDeployment,
				StrategySpec: v1alpha1.StrategyDetailsDeployment{
					DeploymentSpecs: []v1alpha1.StrategyDeploymentSpec{{
						Name:  in.deployment.Name,
						Spec:  in.deployment.Spec,
						Label: in.deployment.Labels,
					}},
					ClusterPermissions: permissionsFor(sa, in.grants.cluster),
					Permissions:        permissionsFor(sa, in.grants.namespaced),
				},
			},
			CustomResourceDefinitions: v1alpha1.CustomResourceDefinitions{Owned: owned},
			// What a disconnected cluster must mirror: the operator, and the images of the pods
			// it starts by default (rsync transfers and Ansible hooks; the MigrationController
			// can name others).
			RelatedImages: []v1alpha1.RelatedImage{
				{Name: containers[0].Name, Image: operatorImage},
				{Name: "rsync-transfer", Image: settings.DefaultTransferImage},
				{Name: "hook-runner", Image: settings.DefaultHookRunnerImage},
			},
		},
	}
	return csv, nil
}

func permissionsFor(sa string, rules []rbacv1.PolicyRule) []v1alpha1.StrategyDeploymentPermissions {
	if len(rules) == 0 {
		return nil
	}
	return []v1alpha1.StrategyDeploymentPermissions{{ServiceAccountName: sa, Rules: rules}}
}

// ownedDescriptions returns the CSV's owned CRD entries, in ownedCRDs' order, and the names
// of the internal ones. Every CRD must be described and every description must have a CRD.
func ownedDescriptions(crds []crdFile) ([]v1alpha1.CRDDescription, []string, error) {
	byKind := map[string]crdFile{}
	for _, f := range crds {
		byKind[f.crd.Spec.Names.Kind] = f
	}
	var owned []v1alpha1.CRDDescription
	internal := []string{}
	for _, o := range ownedCRDs {
		f, ok := byKind[o.kind]
		if !ok {
			return nil, nil, fmt.Errorf("descriptors.go describes %s, which has no CRD in %s", o.kind, crdsDir)
		}
		delete(byKind, o.kind)
		v := f.crd.Spec.Versions[0]
		schema := v.Schema.OpenAPIV3Schema
		desc := v1alpha1.CRDDescription{
			Name:        f.crd.Name,
			Version:     v.Name,
			Kind:        o.kind,
			DisplayName: o.displayName,
			Description: oneLine(schema.Description),
		}
		var err error
		if desc.SpecDescriptors, err = specDescriptors(schema, o.kind, o.spec); err != nil {
			return nil, nil, err
		}
		if desc.StatusDescriptors, err = statusDescriptors(schema, o.kind, o.status); err != nil {
			return nil, nil, err
		}
		owned = append(owned, desc)
		if o.internal {
			internal = append(internal, f.crd.Name)
		}
	}
	for kind := range byKind {
		return nil, nil, fmt.Errorf("%s has a CRD but no entry in descriptors.go", kind)
	}
	return owned, internal, nil
}

func specDescriptors(schema *apiextensionsv1.JSONSchemaProps, kind string, ds []descriptor) ([]v1alpha1.SpecDescriptor, error) {
	var out []v1alpha1.SpecDescriptor
	for _, d := range ds {
		desc, err := describe(schema, kind, "spec", d)
		if err != nil {
			return nil, err
		}
		out = append(out, v1alpha1.SpecDescriptor{Path: d.path, DisplayName: d.displayName, Description: desc, XDescriptors: d.x})
	}
	return out, nil
}

func statusDescriptors(schema *apiextensionsv1.JSONSchemaProps, kind string, ds []descriptor) ([]v1alpha1.StatusDescriptor, error) {
	var out []v1alpha1.StatusDescriptor
	for _, d := range ds {
		desc, err := describe(schema, kind, "status", d)
		if err != nil {
			return nil, err
		}
		out = append(out, v1alpha1.StatusDescriptor{Path: d.path, DisplayName: d.displayName, Description: desc, XDescriptors: d.x})
	}
	return out, nil
}

// describe returns the schema description of d (or of d.describedBy) under section ("spec"
// or "status") of kind's schema; a path the schema lacks is an error.
func describe(schema *apiextensionsv1.JSONSchemaProps, kind, section string, d descriptor) (string, error) {
	for _, p := range []string{d.path, d.describedBy} {
		if p == "" {
			continue
		}
		if _, ok := schemaAt(schema, section+"."+p); !ok {
			return "", fmt.Errorf("%s: descriptor path %s.%s is not in the CRD schema", kind, section, p)
		}
	}
	from := d.path
	if d.describedBy != "" {
		from = d.describedBy
	}
	s, _ := schemaAt(schema, section+"."+from)
	if s.Description == "" {
		return "", fmt.Errorf("%s: %s.%s has no description in the CRD schema (a doc comment in api/)", kind, section, from)
	}
	return oneLine(s.Description), nil
}

// oneLine joins a doc comment's lines: controller-gen keeps the source's line breaks.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
