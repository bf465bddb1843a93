# Ferry operator image: a static manager binary on a distroless base, run as non-root.
# `make images` (hack/images) builds the same image without a container engine, on its own
# base layer (the nonroot user, no CA bundle: the manager compiles in its roots); its tests
# check that ENTRYPOINT and USER here match what it builds.
FROM golang:1.26 AS builder
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY pkg/ pkg/
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o manager ./cmd/manager

FROM gcr.io/distroless/static:nonroot
COPY --from=builder /workspace/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
