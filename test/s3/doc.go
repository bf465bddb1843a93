// Package s3 starts a real S3-compatible server (versitygw, built from the pinned sources by
// `make s3server`) on the loopback interface for integration tests, and creates buckets in it.
//
//	srv, err := s3.Start(s3.Options{})
//	...
//	defer srv.Stop()
//	err = srv.CreateBucket(ctx, "backups")
//	// srv.Endpoint, srv.AccessKey, srv.SecretKey and srv.Region go into a MigStorage.
//
// # Implementation considerations
//
//   - versitygw is a real S3 protocol implementation (signature V4, S3 error codes such as
//     InvalidAccessKeyId and NoSuchBucket), so tests see what a user's store would answer,
//     unlike a hand-written fake. Its posix backend keeps buckets as directories of a temporary
//     directory that Stop removes; it needs extended attributes (ext4 and tmpfs have them).
//   - The binary is found without configuration: FERRY_S3_BIN (a directory) if set, else bin/s3
//     in the repository that contains the working directory, like test/controlplane. When it is
//     missing the error says how to build it; tests that need it fail rather than skip.
//   - The server binds 127.0.0.1 only. The port is chosen by binding port 0 and releasing it,
//     which leaves a short race with other processes; Start retries on another port when the
//     server exits before answering.
//   - With Options.TLS the server serves HTTPS with a certificate for 127.0.0.1 signed by a
//     throw-away CA (Server.CABundle), so tests can exercise custom CA bundles and insecure
//     connections.
//   - Credentials are random unless given, so that a test cannot pass by accident with
//     well-known defaults. They are passed on the command line: acceptable for a test server
//     holding throw-away data.
package s3
