package migenv

// Host names that stand for the clusters' servers, for tests of the operator's proxy
// settings. Go never proxies loopback addresses or localhost, and every server here listens
// on 127.0.0.1, so a connection that a proxy must carry, or that noProxy must exempt, has to
// name its server.
const (
	// SourceAPIHost is a name of the source API server, whose certificate (signed by
	// Source.NamedCABundle) is valid for it. The pods of both nodes resolve it to their
	// loopback, where the API server's port is forwarded; a test cuts the destination's pods
	// off that port (Node.BlockLoopbackPort) to leave a proxy on the source the only way.
	SourceAPIHost = "source-api.test"
	// StorageHost is a name of the S3 server that the destination's pods (the operator's)
	// resolve to their loopback, where the S3 port is forwarded: as an in-cluster name of an
	// object store would, one that noProxy lists. Velero, a host process, keeps 127.0.0.1.
	StorageHost = "s3.storage.test"
)
