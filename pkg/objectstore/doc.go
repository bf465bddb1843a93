// Package objectstore holds what Ferry knows about the object storage providers of a MigStorage
// (aws and every S3-compatible store, gcp, azure): validation of the settings and of the
// credentials Secret with MTC's rules, a live test of the bucket, and builders for the Velero
// objects that use the storage (BackupStorageLocation, VolumeSnapshotLocation and the cloud
// credentials Secret). The MigStorage controller validates and tests; the MigPlan controller
// builds the Velero objects on each cluster.
//
// # Implementation considerations
//
//   - Validation returns sentences naming the MigStorage fields (awsBucketName, not MTC's Go
//     field names), so a condition message tells the user what to change. Beyond MTC it checks
//     that the GCP key is JSON and that an Azure apiTimeout, which MTC requires but Velero
//     defaults, parses when given.
//   - The S3 live test uses aws-sdk-go-v2 like Velero's AWS plugin: it writes a small object
//     with a random name under ferry-probe/ (apart from Velero's velero/ prefix), reads it back,
//     compares it and deletes it, each request bounded by a timeout, so an unreachable endpoint
//     is reported within seconds. Path-style addressing is used whenever a URL is set (as in
//     MTC) or awsS3ForcePathStyle asks for it. The SDK signs only with signature version 4:
//     awsSignatureVersion "1" cannot be reproduced (see testS3).
//   - Failures are classified into a *TestError whose message says what to fix ("access
//     denied: check aws-access-key-id/aws-secret-access-key", "bucket X does not exist",
//     "cannot reach <endpoint>"). Messages hold neither credentials (they are redacted should a
//     store echo them) nor anything that changes between runs, so a persisting failure keeps
//     one condition and one event.
//   - GCP and Azure have no live test here: their SDKs (cloud.google.com/go/storage, the Azure
//     ARM and blob clients) are not in Ferry's build and would add much code that no test here
//     can exercise. TestBucket returns ErrLiveTestNotSupported for them, which callers report
//     without failing the storage; validation still runs.
//   - Volume snapshot providers have no live test, as in MTC (it only validates them).
//   - The builders are pure functions of the MigStorage spec: names, namespaces and labels
//     are the caller's, which decides which cluster and plan the objects belong to. MTC's GCP
//     builder wrote into a nil config map (a panic) and under a key Velero ignores; here the map
//     exists and the KMS key goes to kmsKeyName.
package objectstore
