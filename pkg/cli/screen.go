package cli

import (
	"fmt"
	"io"
	"strings"
)

// screen shows successive frames of the live view. On a terminal it redraws the frame in
// place (cursor up, clear line: plain ANSI escapes every terminal and tmux understand; a
// TUI framework would own the terminal and the input, which a command that only prints
// does not need). Elsewhere (a pipe, a CI log) it prints each line that changed, once.
type screen struct {
	out     io.Writer
	tty     bool
	drawn   int
	printed map[string]string
}

func newScreen(out io.Writer, tty bool) *screen {
	return &screen{out: out, tty: tty, printed: map[string]string{}}
}

func (s *screen) draw(lines []string) {
	if s.tty {
		var b strings.Builder
		if s.drawn > 0 {
			_, _ = fmt.Fprintf(&b, "\x1b[%dA", s.drawn)
		}
		for _, l := range lines {
			b.WriteString("\r\x1b[2K" + l + "\n")
		}
		for i := len(lines); i < s.drawn; i++ {
			b.WriteString("\r\x1b[2K\n")
		}
		s.drawn = max(len(lines), s.drawn)
		_, _ = io.WriteString(s.out, b.String())
		return
	}
	for _, l := range lines {
		key := lineKey(l)
		if s.printed[key] != l {
			s.printed[key] = l
			_, _ = fmt.Fprintln(s.out, l)
		}
	}
}

// done ends the live frame; what follows is printed below it.
func (s *screen) done() {}

// lineKey identifies a line across frames: its first two words (state and step, or the PVC
// and its bar), so a plain-output line is printed again only when it changed.
func lineKey(l string) string {
	f := strings.Fields(l)
	switch {
	case len(f) == 0:
		return ""
	case strings.HasPrefix(f[0], "["):
		if len(f) > 1 {
			return "step " + f[1]
		}
	case f[0] == "Migration":
		return "header"
	}
	return f[0]
}
