package images

import "regexp"

// repositories are the images' repositories, as Ferry's defaults name them
// (config/manager's image, settings.DefaultTransferImage) and as Velero's are called.
var repositories = map[string]string{
	Manager:      "ferry",
	Transfer:     "ferry-transfer",
	Velero:       "velero",
	VeleroPlugin: "velero-plugin-for-aws",
}

// defaultReferences are the references the shipped configuration uses for the images
// (config/manager, settings.DefaultTransferImage); Velero's are upstream's names.
var defaultReferences = map[string]string{
	Manager:      "ghcr.io/ferrymtc/ferry:latest",
	Transfer:     "quay.io/ferrymtc/ferry-transfer:latest",
	Velero:       "docker.io/velero/velero",
	VeleroPlugin: "docker.io/velero/velero-plugin-for-aws",
}

// Repository is the repository name of the image called name (one of Names), without a
// registry: "ferry" for the manager.
func Repository(name string) string { return repositories[name] }

// DefaultReference is where the shipped configuration expects the image called name.
func DefaultReference(name string) string { return defaultReferences[name] }

// notTag matches what a tag may not hold.
var notTag = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag is the tag b's images are pushed under: the tree's version (git describe), made a
// valid tag.
func (b *Builder) Tag() string { return notTag.ReplaceAllString(b.version, "-") }
