// Package images builds Ferry's container images without a container engine (there is none
// on the project's machines): `make images` (hack/images/build) writes them as OCI image
// layouts, the e2e suites (test/install) push the manager image to the local clusters'
// registries and run it, and its tests build every image twice and run what is inside.
//
//	b, err := images.New(ctx, images.Options{Logf: t.Logf})
//	img, err := b.Manager(ctx) // or Transfer, Velero, VeleroPlugin; b.Build(ctx, name)
//	err = images.WriteLayout("bin/images/manager", images.DefaultReference(images.Manager), img)
//
// The images:
//
//   - manager (ghcr.io/ferrymtc/ferry, config/manager's image): ./cmd/manager built static
//     (CGO_ENABLED=0, -trimpath) at /manager, its ENTRYPOINT; also the tunnel agents'
//     image. The Dockerfile at the root builds the same with a container engine.
//   - transfer (settings.DefaultTransferImage): rsync, stunnel4 and what pkg/transfer's client
//     script runs (dash as /bin/sh, coreutils, grep, findutils), from Debian .deb files of
//     this machine's apt sources (`apt-get download`, checked against the index's SHA-256,
//     read with dpkg-deb), with the shared libraries their ELF files need (DT_NEEDED, found
//     in their dependencies) and the dynamic loader, on a merged-/usr root; no entrypoint,
//     /var/run/ferry-transfer. hack/images/transfer/Dockerfile is its container-engine twin.
//   - velero and velero-plugin-for-aws: the pinned static builds of `make velero` as
//     upstream lays them out: /velero (ENTRYPOINT), and /plugins/velero-plugin-for-aws with
//     an entrypoint that copies it into /target (Velero's install runs it as an init
//     container), by hack/images/copier at /bin/cp.
//
// Every image runs as 65532:65532 (distroless's nonroot; /etc/passwd and /etc/group name it),
// and carries the OCI labels source, revision (the commit, "-dirty" for a changed tree),
// version (git describe; Velero's version for its images), title, licenses and created; the
// transfer image also lists its packages' versions (LabelPackages).
//
// # Reproducibility
//
// An image is a function of its inputs: every time in it (file times, history, config) is
// SOURCE_DATE_EPOCH or else the commit's time, layer tars list their entries sorted with
// fixed owners and no names or access times, gzip runs at its default level with an empty
// header, and binaries are built with -trimpath. Two builds of one tree give one digest
// (the tests check it for each image). For the transfer image the inputs include the Debian
// packages of the day: apt's candidates change with security updates, and Debian's archive
// keeps no old versions to pin to; the versions are in its labels and the .deb files stay
// in bin/images/cache/debs, so rebuilds on one machine agree.
//
// # Trade-offs
//
//   - No base image is pulled (the machines reach no image registry): the base is a layer
//     written here (the nonroot user, /tmp, /root, /home/nonroot), the "pinned base" being
//     this source. The manager needs no CA bundle from a base: it compiles in Mozilla's roots
//     (golang.org/x/crypto/x509roots/fallback), which apply only where the system has none.
//   - The transfer image holds Debian's packages whole (but for documentation, keeping each
//     copyright file) rather than single files picked by hand: what a package ships is what
//     its maintainers tested together (stunnel's engines, glibc's gconv and NSS modules).
//     Dependencies that provide no library an ELF file needs are left out (perl, systemd,
//     netbase, openssl's CLI of stunnel4's Depends, for scripts and services a container
//     does not run), which keeps it at 15 MiB instead of a Debian slim base's 30.
//     libgcc-s1 is named explicitly: glibc loads it at run time for thread exit.
//   - Images are built for this machine's architecture only; an index of several would need
//     cross-built binaries and .deb files of other architectures.
//   - The manager binary is built once per Builder (go build relinks every time; the Go build
//     cache keeps the compiled packages); test/install builds one image per test binary.
package images
