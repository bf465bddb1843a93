package permissions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// reviewConcurrency bounds how many SelfSubjectAccessReviews run at once against one cluster.
const reviewConcurrency = 8

// Permission is one verb on one resource, as a SelfSubjectAccessReview asks it.
type Permission struct {
	Group, Resource, Subresource, Verb string
}

// String reads like kubectl's `auth can-i` arguments: "create restores.velero.io",
// "get pods/log".
func (p Permission) String() string {
	r := p.Resource
	if p.Group != "" {
		r += "." + p.Group
	}
	if p.Subresource != "" {
		r += "/" + p.Subresource
	}
	return p.Verb + " " + r
}

// Expand lists every permission of rules, once each, in rule order.
func Expand(rules []Rule) []Permission {
	var out []Permission
	for _, r := range rules {
		for _, g := range r.Groups {
			for _, res := range r.Resources {
				resource, sub, _ := strings.Cut(res, "/")
				for _, v := range r.Verbs {
					p := Permission{Group: g, Resource: resource, Subresource: sub, Verb: v}
					if !slices.Contains(out, p) {
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// Missing asks the cluster, with one SelfSubjectAccessReview per permission (a few at a
// time), which of the rules' permissions the client's identity lacks cluster-wide, and
// returns them in rule order. An error means the cluster could not answer.
func Missing(ctx context.Context, cs kubernetes.Interface, rules []Rule) ([]Permission, error) {
	perms := Expand(rules)
	allowed := make([]bool, len(perms))
	errs := make([]error, len(perms))
	sem := make(chan struct{}, reviewConcurrency)
	var wg sync.WaitGroup
	for i, p := range perms {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: p.Verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource},
			}}
			resp, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				errs[i] = fmt.Errorf("review %s: %w", p, err)
				return
			}
			allowed[i] = resp.Status.Allowed
		}()
	}
	wg.Wait()
	var missing []Permission
	for i, p := range perms {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if !allowed[i] {
			missing = append(missing, p)
		}
	}
	return missing, nil
}
