package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// bundleAnnotations are bundle/metadata/annotations.yaml's: the registry+v1 format, where
// the manifests and metadata are, and the package and channels the bundle belongs to.
func bundleAnnotations() map[string]string {
	return map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1":       "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1":       "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":        "metadata/",
		"operators.operatorframework.io.bundle.package.v1":         packageName,
		"operators.operatorframework.io.bundle.channels.v1":        channel,
		"operators.operatorframework.io.bundle.channel.default.v1": channel,
	}
}

// bundleDockerfile builds the bundle image the catalog names (bundleImage). Its labels
// repeat the annotations, as OLM reads them from either.
func bundleDockerfile() []byte {
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "# docker build -f bundle/bundle.Dockerfile -t %s bundle/\n", bundleImage)
	b.WriteString("FROM scratch\n")
	ann := bundleAnnotations()
	for _, k := range slices.Sorted(maps.Keys(ann)) {
		fmt.Fprintf(&b, "LABEL %s=%s\n", k, ann[k])
	}
	b.WriteString("COPY manifests /manifests/\n")
	b.WriteString("COPY metadata /metadata/\n")
	return []byte(b.String())
}
