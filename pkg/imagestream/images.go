package imagestream

import (
	"slices"
	"strings"
)

// LocalImage is an image stored in the cluster's internal registry that an ImageStream
// references: the repository it is stored under (without the registry host) and its
// manifest digest, and the tags that must point at it after a copy (the newest image of
// each tag).
type LocalImage struct {
	Repository string
	Digest     string
	Tags       []string
}

// LocalImages lists the images of st stored in the internal registry at host, oldest first,
// each digest once. Older images of a tag are kept (by digest only), so that a tag's history
// and references by digest still resolve after a copy; the newest image of each tag carries
// the tag. Images elsewhere (external registries) are not listed: they stay where they are.
func LocalImages(st Status, host string) []LocalImage {
	if host == "" {
		return nil
	}
	var out []LocalImage
	index := map[string]int{}
	for _, tag := range st.Tags {
		// Oldest first, so that the newest image of a tag is listed (and copied) last.
		for i := len(tag.Items) - 1; i >= 0; i-- {
			item := tag.Items[i]
			repo, digest, ok := localReference(item, host)
			if !ok {
				continue
			}
			key := repo + "@" + digest
			n, seen := index[key]
			if !seen {
				n = len(out)
				index[key] = n
				out = append(out, LocalImage{Repository: repo, Digest: digest})
			}
			if i == 0 && !slices.Contains(out[n].Tags, tag.Tag) {
				out[n].Tags = append(out[n].Tags, tag.Tag)
			}
		}
	}
	return out
}

// localReference splits a tag event whose dockerImageReference is in the registry at host
// into its repository and digest.
func localReference(item TagEvent, host string) (repo, digest string, ok bool) {
	rest, found := strings.CutPrefix(item.DockerImageReference, host+"/")
	if !found {
		return "", "", false
	}
	repo, digest, found = strings.Cut(rest, "@")
	if !found {
		digest = item.Image
		repo, _, _ = strings.Cut(rest, ":")
	}
	if repo == "" || !strings.HasPrefix(digest, "sha256:") {
		return "", "", false
	}
	return repo, digest, true
}
