package transfer

import (
	"regexp"
	"strconv"
	"strings"
)

// Progress is the last progress line of rsync --info=progress2: bytes moved so far in this
// attempt, percent of the whole transfer, rate and elapsed time as rsync prints them.
type Progress struct {
	Bytes   int64
	Percent int
	Rate    string
	Elapsed string
}

// progressLine matches "   1,234,567  45%   12.34MB/s    0:00:01 (xfr#3, to-chk=5/10)".
var progressLine = regexp.MustCompile(`^\s*([\d,.]+[kKMGTP]?)\s+(\d{1,3})%\s+(\S+/s)\s+(\d+:\d{2}:\d{2})`)

// segments splits rsync output at carriage returns and newlines: progress2 rewrites its line
// with \r, so each update is a segment.
func segments(out string) []string {
	return strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' })
}

// ParseProgress returns the last progress update in rsync output, and whether there was one.
func ParseProgress(out string) (Progress, bool) {
	segs := segments(out)
	for i := len(segs) - 1; i >= 0; i-- {
		m := progressLine.FindStringSubmatch(segs[i])
		if m == nil {
			continue
		}
		pct, _ := strconv.Atoi(m[2])
		return Progress{Bytes: parseCount(m[1]), Percent: min(pct, 100), Rate: m[3], Elapsed: m[4]}, true
	}
	return Progress{}, false
}

// Stats are rsync's --info=stats2 summary of one run.
type Stats struct {
	Files                   int64
	CreatedFiles            int64
	DeletedFiles            int64
	RegularFilesTransferred int64
	TotalFileSize           int64
	TransferredFileSize     int64
	LiteralData             int64
	MatchedData             int64
	BytesSent               int64
	BytesReceived           int64
}

// ParseStats reads the statistics rsync prints at the end of a run, and whether they were
// there (a run that failed early prints none).
func ParseStats(out string) (Stats, bool) {
	var s Stats
	fields := map[string]*int64{
		"Number of files":                     &s.Files,
		"Number of created files":             &s.CreatedFiles,
		"Number of deleted files":             &s.DeletedFiles,
		"Number of regular files transferred": &s.RegularFilesTransferred,
		"Total file size":                     &s.TotalFileSize,
		"Total transferred file size":         &s.TransferredFileSize,
		"Literal data":                        &s.LiteralData,
		"Matched data":                        &s.MatchedData,
		"Total bytes sent":                    &s.BytesSent,
		"Total bytes received":                &s.BytesReceived,
	}
	found := false
	for _, line := range segments(out) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		if p, known := fields[key]; known {
			number, _, _ := strings.Cut(strings.TrimSpace(value), " ")
			*p = parseCount(number)
			found = true
		}
	}
	return s, found
}

// StatsLines returns the statistics lines of rsync output, for a short log message.
func StatsLines(out string) []string {
	var lines []string
	for _, line := range segments(out) {
		t := strings.TrimSpace(line)
		for _, prefix := range []string{"Number of regular files transferred:", "Total file size:", "Total transferred file size:", "Literal data:", "sent ", "total size is"} {
			if strings.HasPrefix(t, prefix) {
				lines = append(lines, t)
				break
			}
		}
	}
	return lines
}

// parseCount reads "1,234,567" (or rsync's human form "1.23M") as a number of bytes.
func parseCount(s string) int64 {
	s = strings.ReplaceAll(s, ",", "")
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'M':
			mult, s = 1<<20, s[:n-1]
		case 'G':
			mult, s = 1<<30, s[:n-1]
		case 'T':
			mult, s = 1<<40, s[:n-1]
		case 'P':
			mult, s = 1<<50, s[:n-1]
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v * mult
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return int64(f * float64(mult))
}

// LastLines returns the last n non-empty segments of rsync output, each at most width
// characters: a short message for status.
func LastLines(out string, n, width int) string {
	segs := segments(out)
	var keep []string
	for i := len(segs) - 1; i >= 0 && len(keep) < n; i-- {
		t := strings.TrimSpace(segs[i])
		if t == "" {
			continue
		}
		if len(t) > width {
			t = t[:width]
		}
		keep = append([]string{t}, keep...)
	}
	return strings.Join(keep, "\n")
}
