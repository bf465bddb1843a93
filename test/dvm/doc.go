// Package dvm holds the end-to-end tests of DirectVolumeMigrations: two real control planes
// with process nodes (pods run as host processes, with the host's rsync and stunnel), the
// operator as its own process (test/migenv), and volumes whose host directories the tests
// fill and compare byte for byte and attribute for attribute (tree_test.go).
package dvm
