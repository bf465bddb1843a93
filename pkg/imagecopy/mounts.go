package imagecopy

import (
	"slices"
	"sync"
)

// maxMountRepos bounds the repositories remembered per blob: one that still holds it is
// enough, a few cover deletions.
const maxMountRepos = 4

// Mounts remembers which repositories of a registry hold a blob, so that a copy into another
// repository of that registry mounts the blob (one request, no data) instead of uploading it
// again. A Copier adds every blob it copies, skips or mounts; callers may add what they know
// (another migration's copies) and share one Mounts between Copiers. A hint that turns out
// wrong (the blob was deleted since) costs one refused mount, then the blob is uploaded.
//
// The zero Mounts is empty and ready; it is safe for concurrent use. Memory: about 200 bytes
// per blob remembered.
type Mounts struct {
	mu    sync.Mutex
	repos map[mountKey][]string
}

type mountKey struct{ registry, digest string }

// Add records that repository, in the registry at host registry, holds the blob digest.
func (m *Mounts) Add(registry, repository, digest string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.repos == nil {
		m.repos = map[mountKey][]string{}
	}
	k := mountKey{registry, digest}
	repos := slices.DeleteFunc(m.repos[k], func(r string) bool { return r == repository })
	// Newest last: it is the likeliest to still hold the blob.
	repos = append(repos, repository)
	if len(repos) > maxMountRepos {
		repos = repos[len(repos)-maxMountRepos:]
	}
	m.repos[k] = repos
}

// Lookup returns a repository of the registry, other than except, that holds the blob.
func (m *Mounts) Lookup(registry, digest, except string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repos := m.repos[mountKey{registry, digest}]
	for i := len(repos) - 1; i >= 0; i-- {
		if repos[i] != except {
			return repos[i], true
		}
	}
	return "", false
}
