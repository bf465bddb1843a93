package main

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// grants are the rules an install gives the operator's ServiceAccount, as a CSV carries them.
type grants struct {
	// cluster are granted cluster-wide (CSV clusterPermissions).
	cluster []rbacv1.PolicyRule
	// namespaced are granted in the operator's namespace (CSV permissions).
	namespaced []rbacv1.PolicyRule
	// roles names the roles the rules came from ("ClusterRole/ferry-manager"), aggregated
	// ClusterRoles and their members alike.
	roles []string
}

// uses reports whether the rules of role kind/name are part of g.
func (g grants) uses(kind, name string) bool {
	return slices.Contains(g.roles, kind+"/"+name)
}

// rbacObjects indexes the RBAC objects of a kustomize build.
type rbacObjects struct {
	clusterRoles map[string]rbacv1.ClusterRole
	roles        map[string]rbacv1.Role
	clusterBinds []rbacv1.ClusterRoleBinding
	roleBinds    []rbacv1.RoleBinding
}

// operatorGrants returns what objs (config/default) grant the ServiceAccount sa of namespace
// ns. Not only config/rbac/role.yaml's ferry-manager: config/default also binds the operator
// to the roles of both migration sides and of rollbacks (config/rbac/host_bindings.yaml),
// because the host cluster is one side of most migrations, and an OLM install without them
// could not migrate to or from the cluster it runs on. A CSV cannot reference roles, so every
// bound role is expanded into its rules here, aggregated ClusterRoles (ferry-rollback) into
// the rules of the members the build contains.
func operatorGrants(objs []*unstructured.Unstructured, ns, sa string) (grants, error) {
	idx, err := indexRBAC(objs)
	if err != nil {
		return grants{}, err
	}
	var g grants
	for _, b := range idx.clusterBinds {
		if !bindsServiceAccount(b.Subjects, "", ns, sa) {
			continue
		}
		rules, names, err := idx.clusterRoleRules(b.RoleRef.Name, nil)
		if err != nil {
			return grants{}, fmt.Errorf("ClusterRoleBinding %s: %w", b.Name, err)
		}
		g.cluster = appendNew(g.cluster, rules...)
		g.roles = append(g.roles, names...)
	}
	for _, b := range idx.roleBinds {
		if b.Namespace != ns || !bindsServiceAccount(b.Subjects, b.Namespace, ns, sa) {
			continue
		}
		var rules []rbacv1.PolicyRule
		var names []string
		switch b.RoleRef.Kind {
		case "Role":
			r, ok := idx.roles[b.RoleRef.Name]
			if !ok {
				return grants{}, fmt.Errorf("RoleBinding %s: Role %s is not in the build", b.Name, b.RoleRef.Name)
			}
			rules, names = r.Rules, []string{"Role/" + r.Name}
		case "ClusterRole":
			if rules, names, err = idx.clusterRoleRules(b.RoleRef.Name, nil); err != nil {
				return grants{}, fmt.Errorf("RoleBinding %s: %w", b.Name, err)
			}
		default:
			return grants{}, fmt.Errorf("RoleBinding %s: unknown roleRef kind %q", b.Name, b.RoleRef.Kind)
		}
		g.namespaced = appendNew(g.namespaced, rules...)
		g.roles = append(g.roles, names...)
	}
	if len(g.cluster) == 0 && len(g.namespaced) == 0 {
		return grants{}, fmt.Errorf("nothing binds ServiceAccount %s/%s", ns, sa)
	}
	return g, nil
}

func indexRBAC(objs []*unstructured.Unstructured) (rbacObjects, error) {
	idx := rbacObjects{clusterRoles: map[string]rbacv1.ClusterRole{}, roles: map[string]rbacv1.Role{}}
	for _, u := range objs {
		var err error
		switch u.GetKind() {
		case "ClusterRole":
			var r rbacv1.ClusterRole
			err = into(u, &r)
			idx.clusterRoles[r.Name] = r
		case "Role":
			var r rbacv1.Role
			err = into(u, &r)
			idx.roles[r.Name] = r
		case "ClusterRoleBinding":
			var b rbacv1.ClusterRoleBinding
			err = into(u, &b)
			idx.clusterBinds = append(idx.clusterBinds, b)
		case "RoleBinding":
			var b rbacv1.RoleBinding
			err = into(u, &b)
			idx.roleBinds = append(idx.roleBinds, b)
		}
		if err != nil {
			return rbacObjects{}, err
		}
	}
	// Bindings in name order, so the rules' order does not depend on kustomize's.
	slices.SortFunc(idx.clusterBinds, func(a, b rbacv1.ClusterRoleBinding) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(idx.roleBinds, func(a, b rbacv1.RoleBinding) int { return strings.Compare(a.Name, b.Name) })
	return idx, nil
}

// clusterRoleRules returns the effective rules of ClusterRole name: its own, or for an
// aggregated role those of every ClusterRole its selectors match, as the API server's
// aggregation controller computes them. seen stops aggregation cycles.
func (idx rbacObjects) clusterRoleRules(name string, seen []string) ([]rbacv1.PolicyRule, []string, error) {
	if slices.Contains(seen, name) {
		return nil, nil, fmt.Errorf("ClusterRole %s aggregates itself", name)
	}
	role, ok := idx.clusterRoles[name]
	if !ok {
		return nil, nil, fmt.Errorf("ClusterRole %s is not in the build", name)
	}
	if role.AggregationRule == nil {
		return role.Rules, []string{"ClusterRole/" + name}, nil
	}
	var rules []rbacv1.PolicyRule
	members := []string{"ClusterRole/" + name}
	inside := append(slices.Clone(seen), name)
	for _, member := range slices.Sorted(maps.Keys(idx.clusterRoles)) {
		match, err := matchesAny(role.AggregationRule.ClusterRoleSelectors, idx.clusterRoles[member].Labels)
		if err != nil {
			return nil, nil, fmt.Errorf("ClusterRole %s: %w", name, err)
		}
		if member == name || !match {
			continue
		}
		r, names, err := idx.clusterRoleRules(member, inside)
		if err != nil {
			return nil, nil, err
		}
		rules = appendNew(rules, r...)
		members = append(members, names...)
	}
	if len(rules) == 0 {
		return nil, nil, fmt.Errorf("aggregated ClusterRole %s has no members in the build", name)
	}
	return rules, members, nil
}

// matchesAny reports whether a role labelled l is matched by one of selectors. An empty
// selector matches every ClusterRole of the cluster, most of which no build contains, so it
// cannot be resolved here and is an error.
func matchesAny(selectors []metav1.LabelSelector, l map[string]string) (bool, error) {
	for _, s := range selectors {
		sel, err := metav1.LabelSelectorAsSelector(&s)
		if err != nil {
			return false, err
		}
		if sel.Empty() {
			return false, fmt.Errorf("an empty aggregation selector matches roles outside the build")
		}
		if sel.Matches(labels.Set(l)) {
			return true, nil
		}
	}
	return false, nil
}

// bindsServiceAccount reports whether subjects name ServiceAccount ns/sa. A RoleBinding's
// ServiceAccount subject without a namespace means the binding's own (defaultNS).
func bindsServiceAccount(subjects []rbacv1.Subject, defaultNS, ns, sa string) bool {
	for _, s := range subjects {
		subjectNS := s.Namespace
		if subjectNS == "" {
			subjectNS = defaultNS
		}
		if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && subjectNS == ns {
			return true
		}
	}
	return false
}

// bindsOnly reports whether every subject of a binding in namespace bindingNS is
// ServiceAccount ns/sa.
func bindsOnly(subjects []rbacv1.Subject, bindingNS, ns, sa string) bool {
	for _, s := range subjects {
		if !bindsServiceAccount([]rbacv1.Subject{s}, bindingNS, ns, sa) {
			return false
		}
	}
	return len(subjects) > 0
}

// appendNew appends the rules not already in dst: the roles of both migration sides share
// most rules, and one copy of each is enough.
func appendNew(dst []rbacv1.PolicyRule, rules ...rbacv1.PolicyRule) []rbacv1.PolicyRule {
	for _, r := range rules {
		if !slices.ContainsFunc(dst, func(d rbacv1.PolicyRule) bool { return reflect.DeepEqual(d, r) }) {
			dst = append(dst, r)
		}
	}
	return dst
}
