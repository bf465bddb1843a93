// Package repo finds the root of the Ferry checkout a tool or test runs in, so that the image
// builder, the local clusters and the suites all read bin/, config/ and the sources from the
// same place whatever directory `go test` or `go run` starts them in.
//
// The root is the nearest directory upwards that holds both PROJECT and go.mod: go.mod alone
// also marks nested modules (bin/'s tool builds), and PROJECT alone is not a Go module.
package repo
