// Command ferry is Ferry's command-line tool (see pkg/cli); installed as kubectl-ferry or
// oc-ferry it is also a kubectl/oc plugin.
package main

import (
	"os"

	"github.com/ferrymtc/ferry/pkg/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
