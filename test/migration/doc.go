// Package migration holds the end-to-end tests of MigMigrations: real control planes, a real
// S3 server, real Velero servers and the operator as its own process (see test/migenv). Each
// test migrates its own namespaces with its own plan, as users would, and checks what users
// check: objects on the destination, replicas on both sides, conditions and the pipeline.
package migration
