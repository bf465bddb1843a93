package cli

import (
	"fmt"
	"io"
	"strings"
)

// screen shows successive frames of the live view. On a terminal it redraws the frame in
// place (cursor up, clear line: plain ANSI escapes every terminal and tmux understand; a
// TUI framework would own the terminal and the input, which a command that only prints
// does not need). Lines are cut to the terminal's width: a line the terminal wrapped would
// take two rows, and moving the cursor up by the number of lines would then leave old rows
// behind. Elsewhere (a pipe, a CI log) it prints each line that changed, once.
type screen struct {
	out io.Writer
	tty bool
	// width returns the terminal's columns now (it may be resized), 0 when unknown.
	width   func() int
	drawn   int
	printed map[string]string
}

func newScreen(out io.Writer, tty bool, width func() int) *screen {
	if width == nil {
		width = func() int { return 0 }
	}
	return &screen{out: out, tty: tty, width: width, printed: map[string]string{}}
}

// fit cuts l to at most width-1 columns (the last column is left empty: some terminals wrap
// when it is written), ending a cut line with "…". Lines are ASCII but for that ellipsis and
// names, so a rune is taken for a column.
func fit(l string, width int) string {
	if width < 2 {
		return l
	}
	runes := []rune(l)
	if len(runes) < width {
		return l
	}
	return string(runes[:width-2]) + "…"
}

func (s *screen) draw(lines []string) {
	if s.tty {
		var b strings.Builder
		if s.drawn > 0 {
			_, _ = fmt.Fprintf(&b, "\x1b[%dA", s.drawn)
		}
		width := s.width()
		for _, l := range lines {
			b.WriteString("\r\x1b[2K" + fit(l, width) + "\n")
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
