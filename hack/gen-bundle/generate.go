package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// installDir is the kustomization `make deploy` applies; the bundle installs the same thing.
const installDir = "config/default"

// generate writes the bundle into bundleDir and the catalog into catalogDir, reading the
// repository at root.
func generate(root, bundleDir, catalogDir string) error {
	bundle, catalog, err := render(root)
	if err != nil {
		return err
	}
	return write(bundleDir, bundle, catalogDir, catalog)
}

// render produces every generated file in memory: the bundle's by path relative to the
// bundle directory, the catalog's relative to the catalog directory.
func render(root string) (bundle, catalog output, err error) {
	install, err := kustomizeBuild(root, installDir)
	if err != nil {
		return nil, nil, err
	}
	crds, err := loadCRDs(root)
	if err != nil {
		return nil, nil, err
	}
	dep, err := operatorDeployment(install)
	if err != nil {
		return nil, nil, err
	}
	g, err := operatorGrants(install, dep.Namespace, dep.Spec.Template.Spec.ServiceAccountName)
	if err != nil {
		return nil, nil, err
	}
	extra, err := bundleObjects(install, crds, dep, g)
	if err != nil {
		return nil, nil, err
	}
	ex, err := loadExamples(root)
	if err != nil {
		return nil, nil, err
	}
	desc, err := description(root)
	if err != nil {
		return nil, nil, err
	}
	csv, err := buildCSV(csvInputs{deployment: dep, grants: g, crds: crds, examples: ex, description: desc})
	if err != nil {
		return nil, nil, err
	}
	cat, err := buildCatalog(csv)
	if err != nil {
		return nil, nil, err
	}

	bundle = output{}
	if err := bundle.addYAML("manifests/"+packageName+".clusterserviceversion.yaml", csv, "status"); err != nil {
		return nil, nil, err
	}
	for _, f := range crds {
		bundle["manifests/"+f.name] = f.raw
	}
	for _, u := range extra {
		if err := bundle.addYAML("manifests/"+manifestName(u), u.Object); err != nil {
			return nil, nil, err
		}
	}
	if err := bundle.addYAML("metadata/annotations.yaml", map[string]any{"annotations": bundleAnnotations()}); err != nil {
		return nil, nil, err
	}
	bundle["bundle.Dockerfile"] = bundleDockerfile()

	catalog = output{}
	if err := catalog.addYAMLDocs(filepath.Join(packageName, "catalog.yaml"), cat.pkg, cat.channel, cat.bundle); err != nil {
		return nil, nil, err
	}
	return bundle, catalog, nil
}

// operatorDeployment returns the install's one Deployment, the operator.
func operatorDeployment(install []*unstructured.Unstructured) (appsv1.Deployment, error) {
	deps := ofKind(install, "Deployment")
	if len(deps) != 1 {
		return appsv1.Deployment{}, fmt.Errorf("%s: want one Deployment (the operator), found %d", installDir, len(deps))
	}
	var dep appsv1.Deployment
	if err := into(deps[0], &dep); err != nil {
		return appsv1.Deployment{}, err
	}
	return dep, nil
}

// bundleObjects sorts the install's objects into what the CSV already carries, what OLM
// creates itself, and what the bundle must ship as manifests (returned, without namespace:
// OLM creates them in the install namespace). A kind the generator does not know is an
// error, so that an addition to config/default cannot silently miss the bundle.
func bundleObjects(install []*unstructured.Unstructured, crds []crdFile, dep appsv1.Deployment, g grants) ([]*unstructured.Unstructured, error) {
	var ship []*unstructured.Unstructured
	var crdNames []string
	sa := dep.Spec.Template.Spec.ServiceAccountName
	for _, u := range install {
		switch u.GetKind() {
		case "Namespace":
			// OLM installs into the OperatorGroup's namespace, which exists already.
		case "Deployment":
			// The CSV's install strategy.
		case "CustomResourceDefinition":
			crdNames = append(crdNames, u.GetName())
		case "ServiceAccount":
			// OLM creates the ServiceAccounts the CSV's permissions name; the bundle validator
			// rejects a bundle that also ships one.
			if u.GetName() != sa {
				return nil, fmt.Errorf("%s: ServiceAccount %s is not the operator's; a CSV cannot create it", installDir, u.GetName())
			}
		case "ClusterRoleBinding", "RoleBinding":
			// Folded into the CSV's permissions; bindings of anything else have no CSV form.
			var b rbacv1.RoleBinding // a ClusterRoleBinding has the same fields
			if err := into(u, &b); err != nil {
				return nil, err
			}
			if !bindsOnly(b.Subjects, b.Namespace, dep.Namespace, sa) {
				return nil, fmt.Errorf("%s: %s %s binds more than the operator's ServiceAccount", installDir, u.GetKind(), u.GetName())
			}
		case "ClusterRole", "Role":
			// Bound roles are in the CSV's permissions. An unbound one (such as
			// ferry-pv-resizing, which users bind to opt in) ships as is, so that README's
			// instructions to bind it hold for an OLM install too.
			if !g.uses(u.GetKind(), u.GetName()) {
				ship = append(ship, stripNamespace(u))
			}
		case "Service":
			ship = append(ship, stripNamespace(u))
		default:
			return nil, fmt.Errorf("%s: the generator does not know how to bundle %s %s", installDir, u.GetKind(), u.GetName())
		}
	}
	var baseNames []string
	for _, f := range crds {
		baseNames = append(baseNames, f.crd.Name)
	}
	slices.Sort(crdNames)
	slices.Sort(baseNames)
	if !slices.Equal(crdNames, baseNames) {
		return nil, fmt.Errorf("the CRDs of %s (%s) differ from %s (%s)", installDir, strings.Join(crdNames, ", "), crdsDir, strings.Join(baseNames, ", "))
	}
	return ship, nil
}

func stripNamespace(u *unstructured.Unstructured) *unstructured.Unstructured {
	u = u.DeepCopy()
	unstructured.RemoveNestedField(u.Object, "metadata", "namespace")
	return u
}
