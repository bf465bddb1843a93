package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
)

// requestCounts is how many requests API servers have served, by verb and resource
// (apiserver_request_total of their /metrics), summed over the clusters read.
type requestCounts map[string]float64

func countRequests(ctx context.Context, clusters ...kubernetes.Interface) (requestCounts, error) {
	counts := requestCounts{}
	for _, cs := range clusters {
		raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("API server metrics: %w", err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("API server metrics: %w", err)
		}
		family := families["apiserver_request_total"]
		if family == nil {
			return nil, fmt.Errorf("API server metrics lack apiserver_request_total")
		}
		for _, m := range family.GetMetric() {
			var verb, resource, subresource string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "verb":
					verb = l.GetValue()
				case "resource":
					resource = l.GetValue()
				case "subresource":
					subresource = l.GetValue()
				}
			}
			if subresource != "" {
				resource += "/" + subresource
			}
			counts[verb+" "+resource] += m.GetCounter().GetValue()
		}
	}
	return counts, nil
}

// requestReport prints how many requests the API servers served between before and after,
// per plan, and the kinds of request that were most of them.
func requestReport(n int, before, after requestCounts) {
	type count struct {
		what string
		n    float64
	}
	var counts []count
	var total float64
	for what, v := range after {
		if d := v - before[what]; d > 0 {
			counts = append(counts, count{what, d})
			total += d
		}
	}
	slices.SortFunc(counts, func(a, b count) int { return int(b.n - a.n) })
	fmt.Printf("%d plan(s): API requests %.0f (%.0f per plan), most:", n, total, total/float64(n))
	for _, c := range counts[:min(len(counts), 12)] {
		fmt.Printf(" %s %.0f;", c.what, c.n)
	}
	fmt.Println()
	fmt.Printf("concurrent_%d_api_requests_per_plan %.0f\n", n, total/float64(n))
}
