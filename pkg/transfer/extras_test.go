package transfer

import (
	"strings"
	"testing"
)

// TestValidateExtra: rsync_opt_extras is an allowlist. What it lets through keeps the copy
// complete and Ferry's reading of rsync's output intact; what it refuses would make a
// transfer "succeed" having written nothing or less (dry runs, size and existence filters,
// --update), change the data (--chmod, --copy-links, --inplace/--append), break Ferry's
// contract (the connection program, the password, the log format) or its parsing
// (--human-readable, --info, --verbose).
func TestValidateExtra(t *testing.T) {
	allowed := []string{
		"--bwlimit=100", "--bwlimit=2m", "--checksum", "-c", "--sparse", "-S", "--xattrs", "-X", "--acls", "-A",
		"--compress", "-z", "--compress-level=9", "--whole-file", "-W", "--ignore-times", "-I", "--numeric-ids",
		"--timeout=300", "--contimeout=30", "--exclude=*.tmp", "--exclude=cache/", "--include=keep/***", "-zc", "-XA",
	}
	refused := []string{
		// nothing, or less, is written while rsync exits 0
		"-n", "--dry-run", "--existing", "--ignore-existing", "--max-size=0", "--min-size=1g", "--update", "-u",
		"--list-only", "--size-only", "--max-delete=0", "--safe-links", "-zn", "--one-file-system", "-x",
		// the data changes
		"--chmod=777", "--chown=0:0", "--copy-links", "-L", "--inplace", "--append", "--delete-excluded", "--no-perms",
		"--fake-super", "--super", "--usermap=0:1000",
		// Ferry's contract: the connection, the password, the log, the source
		"-e", "-essh", "-e=ssh", "--rsh=ssh", "--password-file=/x", "--port=22", "--address=1.2.3.4", "--log-file=/tmp/x",
		"--daemon", "--config=/x", "--remove-source-files", "--files-from=/etc/passwd", "--exclude-from=/x",
		"--write-batch=/x", "--only-write-batch=/x", "--read-batch=/x",
		// Ferry's parsing of the output
		"--human-readable", "-h", "--info=progress0", "--info=stats0", "--progress", "-v", "--verbose", "-q", "--quiet",
		// malformed or smuggled
		"", "-", "--", "bwlimit=1", "--bwlimit", "--bwlimit=", "--bwlimit=1;reboot", "--compress-level=10", "--timeout=x",
		"--exclude=", "--exclude=a\nb", "--exclude=a\x00", "--exclude=a\x1b[2J", "$(reboot)", "-c;reboot", "--checksum=yes",
	}
	for _, opt := range allowed {
		if err := ValidateExtra(opt); err != nil {
			t.Errorf("ValidateExtra(%q) = %v, want allowed", opt, err)
		}
	}
	for _, opt := range refused {
		if err := ValidateExtra(opt); err == nil {
			t.Errorf("ValidateExtra(%q) allowed it", opt)
		} else if opt != "" && strings.ContainsAny(opt, "\n\x00\x1b") && strings.ContainsAny(err.Error(), "\n\x00\x1b") {
			t.Errorf("ValidateExtra(%q): the error %q carries the control characters", opt, err)
		}
	}
}

func TestParseExtrasReportsWhatItLeavesOut(t *testing.T) {
	valid, invalid := ParseExtras("--bwlimit=100 --info=all -z --rsh=sh $(reboot) --log-file=/x --exclude=*.tmp -n")
	if strings.Join(valid, " ") != "--bwlimit=100 -z --exclude=*.tmp" {
		t.Errorf("valid %q", valid)
	}
	var names []string
	for _, err := range invalid {
		names = append(names, err.Error())
	}
	if len(invalid) != 5 || !strings.Contains(strings.Join(names, "|"), `"-n"`) {
		t.Errorf("invalid %q", names)
	}
}
