package cli

import (
	"fmt"
	"io"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// printBlockers prints the conditions that keep an object from being Ready, or all of its
// conditions when none blocks (so that a timeout still shows what the controller said).
func printBlockers(out io.Writer, list migv1.Conditions) {
	shown := 0
	for _, c := range list {
		if conditions.IsBlocker(c) {
			_, _ = fmt.Fprintf(out, "  %s (%s, %s): %s\n", c.Type, c.Category, c.Reason, c.Message)
			shown++
		}
	}
	if shown > 0 {
		return
	}
	if len(list) == 0 {
		_, _ = fmt.Fprintln(out, "  (no conditions yet: is the Ferry operator running?)")
	}
	for _, c := range list {
		_, _ = fmt.Fprintf(out, "  %s=%s (%s, %s): %s\n", c.Type, c.Status, c.Category, c.Reason, c.Message)
	}
}
