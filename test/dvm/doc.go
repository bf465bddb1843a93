// Package dvm holds the end-to-end tests of DirectVolumeMigrations: two real control planes
// with process nodes (pods run as host processes, with the host's rsync and stunnel), the
// operator as its own process (test/migenv), and volumes whose host directories the tests
// fill and compare byte for byte and attribute for attribute (tree_test.go).
//
// Specs that change settings create the MigrationController and delete it when they end
// (useMigrationController), so that the others run with the defaults in any order. Transfer
// objects are gone when a DVM ends; specs that check them (the Service's type, the address
// the clients were given) watch them while it runs (recordTransferObjects). The proxy specs
// run tinyproxy as a pod of the source cluster and read its log through the pod log API.
package dvm
