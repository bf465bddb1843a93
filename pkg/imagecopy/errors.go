package imagecopy

import (
	"errors"
	"fmt"
)

// Side is the end of a copy a registry is on.
type Side string

// The two ends of a copy.
const (
	Source      Side = "source"
	Destination Side = "destination"
)

// stage is what a failed request was for; Classify reads some codes differently by stage (a
// 404 reading a source manifest means the image is gone).
type stage int

const (
	stagePing stage = iota
	stageReadManifest
	stageCheck
	stageBlob
	stageWriteManifest
)

// Error is a failed operation on one registry, with what it was about: every error a copy
// returns is one of these (or several, joined with errors.Join), so that Classify can name
// the registry, the repository and the image.
type Error struct {
	Side       Side
	Registry   string
	Repository string
	// Image is the digest of the image whose copy failed, empty when the failure is not about
	// one image (an unreachable registry).
	Image string
	// Op is what was being done, in words ("read the manifest", "copy blob sha256:...").
	Op  string
	Err error

	stage stage
}

func (e *Error) Error() string {
	where := fmt.Sprintf("%s registry %s", e.Side, e.Registry)
	if e.Repository != "" {
		where += ", repository " + e.Repository
	}
	if e.Image != "" {
		where += ", image " + e.Image
	}
	return fmt.Sprintf("%s: %s: %v", where, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors that the copy itself detects.
var (
	// errStalled cancels a blob whose data stopped flowing for Copier.StallTimeout.
	errStalled = errors.New("no data moved for too long")
	// errDigestMismatch is content that does not hash to the digest it was asked for.
	errDigestMismatch = errors.New("content does not match its digest")
	// errUnsupported is a manifest of a kind this package does not copy.
	errUnsupported = errors.New("unsupported manifest")
)

// withImage returns err with image set on the Error inside it (when it names none), so that
// a blob's failure names each image it failed.
func withImage(err error, image string) error {
	var e *Error
	if !errors.As(err, &e) || e.Image != "" {
		return err
	}
	c := *e
	c.Image = image
	return &c
}
