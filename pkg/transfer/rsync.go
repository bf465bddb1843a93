package transfer

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// RsyncOptions are the rsync client options of a migration (MTC's rsync_opt_* settings).
type RsyncOptions struct {
	// Archive keeps links, permissions, times, owners, groups, devices and specials.
	Archive bool
	// HardLinks keeps hard links.
	HardLinks bool
	// Delete removes files on the destination that the source no longer has.
	Delete bool
	// Partial keeps partially transferred files so that a retry resumes them.
	Partial bool
	// BwLimit limits the bandwidth in KiB/s; 0 means no limit.
	BwLimit int
	// Extras are further options, each checked by ValidateExtra.
	Extras []string
}

// DefaultRsyncOptions are MTC's defaults: archive, hard links, delete and partial.
func DefaultRsyncOptions() RsyncOptions {
	return RsyncOptions{Archive: true, HardLinks: true, Delete: true, Partial: true}
}

// extraRule is how an allowed extra option takes a value: none, or one matching value.
type extraRule struct {
	value *regexp.Regexp // nil: the option takes no value
}

var (
	number  = regexp.MustCompile(`^[0-9]+$`)
	rate    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[kKmMgG]?$`)
	level   = regexp.MustCompile(`^[0-9]$`)
	pattern = regexp.MustCompile(`^[^\x00-\x1f\x7f]+$`)
)

// allowedExtras are the rsync options rsync_opt_extras may hold (MTC checked only their
// syntax). Each keeps the copy complete and Ferry's reading of rsync's output intact:
// bandwidth, compression, checksums, sparse files, extended attributes and ACLs, whole-file
// transfers, timeouts, and --exclude/--include filters, which are explicit choices of what
// not to migrate (the DVM warns while they are in effect, and CheckSucceeded fails a copy
// whose filters left out everything). Anything else is refused: options that let rsync
// exit 0 having written nothing or less (--dry-run, --existing, --max-size, --update,
// --size-only, ...), change the data (--chmod, --copy-links, --inplace, --append, ...),
// replace Ferry's connection, password, log or source (--rsh, --password-file, --log-file,
// --files-from, ...) or change the output Ferry parses (--human-readable, --info,
// --verbose, ...).
var allowedExtras = map[string]extraRule{
	"--bwlimit": {rate}, "--compress-level": {level}, "--timeout": {number}, "--contimeout": {number},
	"--exclude": {pattern}, "--include": {pattern},
	"--checksum": {}, "--sparse": {}, "--xattrs": {}, "--acls": {}, "--compress": {}, "--whole-file": {},
	"--ignore-times": {}, "--numeric-ids": {},
}

// allowedShortExtras are the single-letter forms of allowed options without a value; they
// may be combined ("-zc").
var allowedShortExtras = map[rune]string{
	'c': "--checksum", 'S': "--sparse", 'X': "--xattrs", 'A': "--acls", 'z': "--compress", 'W': "--whole-file", 'I': "--ignore-times",
}

// filterExtras are the allowed options that leave files out of the copy.
var filterExtras = []string{"--exclude", "--include"}

// ValidateExtra reports whether opt may be passed to rsync as an extra option: an option of
// allowedExtras ("--name" or "--name=value", as the option takes) or a group of
// allowedShortExtras letters ("-zc"). Its error quotes opt with Go escapes, so no control
// character reaches a condition or a log.
func ValidateExtra(opt string) error {
	if strings.IndexFunc(opt, unicode.IsControl) >= 0 {
		return fmt.Errorf("rsync option %q holds a control character", opt)
	}
	if long, ok := strings.CutPrefix(opt, "--"); ok {
		name, value, hasValue := strings.Cut(long, "=")
		rule, allowed := allowedExtras["--"+name]
		switch {
		case !allowed:
			return fmt.Errorf("rsync option %q is not allowed in rsync_opt_extras", opt)
		case rule.value == nil && hasValue:
			return fmt.Errorf("rsync option %q takes no value", opt)
		case rule.value != nil && (!hasValue || !rule.value.MatchString(value)):
			return fmt.Errorf("rsync option %q needs a valid value (--%s=...)", opt, name)
		}
		return nil
	}
	short, ok := strings.CutPrefix(opt, "-")
	if !ok || short == "" {
		return fmt.Errorf("rsync option %q is malformed: one option per word, --name=value or -x", opt)
	}
	for _, r := range short {
		if _, allowed := allowedShortExtras[r]; !allowed {
			return fmt.Errorf("rsync option %q is not allowed in rsync_opt_extras (%q)", opt, "-"+string(r))
		}
	}
	return nil
}

// ParseExtras splits rsync_opt_extras into options, returning the refused ones separately
// (for the DVM to report; they never reach rsync).
func ParseExtras(raw string) (valid []string, invalid []error) {
	for _, f := range strings.Fields(raw) {
		if err := ValidateExtra(f); err != nil {
			invalid = append(invalid, err)
			continue
		}
		valid = append(valid, f)
	}
	return valid, invalid
}

// Filters returns the options of extras that leave files out of the copy.
func Filters(extras []string) []string {
	var out []string
	for _, opt := range extras {
		name, _, _ := strings.Cut(opt, "=")
		if slices.Contains(filterExtras, name) {
			out = append(out, opt)
		}
	}
	return out
}

// Info is the rsync --info flags Ferry's progress and statistics parsing reads.
const Info = "--info=COPY2,DEL2,REMOVE2,SKIP2,FLIST2,PROGRESS2,STATS2"

// ClientArgs returns the rsync arguments that copy the source volume to module as the rsync
// user user (PairUser): the options, verify (--checksum), numeric owners, lost+found skipped.
// --sparse is added by ClientScript when the volume has a sparse file.
func ClientArgs(o RsyncOptions, user, module string, verify bool) []string {
	var args []string
	if o.Archive {
		args = append(args, "--recursive", "--links", "--perms", "--devices", "--specials", "--times", "--owner", "--group")
	}
	if o.HardLinks {
		args = append(args, "--hard-links")
	}
	if o.Delete {
		args = append(args, "--delete")
	}
	if o.Partial {
		args = append(args, "--partial")
	}
	if o.BwLimit > 0 {
		args = append(args, "--bwlimit="+strconv.Itoa(o.BwLimit))
	}
	args = append(args, "--numeric-ids", "--timeout=600", Info, "--exclude=lost+found")
	if verify {
		args = append(args, "--checksum")
	}
	args = append(args, o.Extras...)
	return append(args, DataRoot+"/source/", "rsync://"+user+"@"+ServerName+"/"+module+"/")
}

// ClientScript is the client container's program (sh -c). It runs rsync with the arguments
// it is given; rsync reaches the server through stunnel, started per connection by
// RSYNC_CONNECT_PROG. When rsync fails, stunnel's log follows, so that a refused or
// unreachable endpoint is visible in the pod log. The exit code is rsync's.
//
// The script first lists the volume with find (lost+found left out, as rsync leaves it) and
// prints how many entries it holds (EntriesMarker), so that a transfer that saw nothing of a
// volume holding data is caught (NothingMoved).
//
// --sparse is added only when the volume holds a sparse file (find's %S, allocated/size, is
// below 1: "0..." or "...e-..."), or when find cannot tell (an error counts as sparse): rsync
// --sparse writes in 1 KiB pieces, which halves its speed on large files, and keeping sparse
// files sparse is what matters (expanded, they may not fit the destination volume).
//
// A non-root rsync daemon cannot set the mode and time of the volume's root directory, which
// belongs to root (the kubelet gives it the pod's fsGroup): rsync then exits 23 though every
// file arrived. When those are its only errors, the script says so and exits 0; any other
// error keeps 23. rsync's errors are therefore printed after its output.
const ClientScript = `find ` + DataRoot + `/source/ -path ` + DataRoot + `/source/lost+found -prune -o -printf '%y %S\n' >` + WorkDir + `/entries 2>/dev/null
found=$?
echo "` + EntriesMarker + ` $(wc -l <` + WorkDir + `/entries)"
if [ "$found" -ne 0 ] || grep -q -e '^f 0' -e '^f .*e-' ` + WorkDir + `/entries; then
  echo "` + SparseMarker + `"
  set -- --sparse "$@"
fi
rsync "$@" 2>` + WorkDir + `/rsync.err
rc=$?
cat ` + WorkDir + `/rsync.err >&2
if [ "$rc" -eq 23 ] && ! grep -v -e 'failed to set permissions on "\."' -e 'failed to set times on "\."' -e '^rsync error: some files/attrs were not transferred' ` + WorkDir + `/rsync.err | grep -q .; then
  echo "` + RootDirMarker + `"
  rc=0
fi
if [ "$rc" -ne 0 ] && [ -s ` + WorkDir + `/stunnel.log ]; then
  echo "` + StunnelLogMarker + `"
  tail -n 20 ` + WorkDir + `/stunnel.log
fi
exit "$rc"
`

// EntriesMarker precedes the number of entries find saw on the source volume (its root
// included).
const EntriesMarker = "ferry: entries on the source volume:"

// SparseMarker is printed when the client keeps sparse files sparse (rsync --sparse).
const SparseMarker = "ferry: the volume has sparse files: rsync --sparse"

// RootDirMarker is printed when only the volume root's own attributes were not set.
const RootDirMarker = "ferry: the mode and time of the volume's root directory were not set (it belongs to another user); every file arrived"

// StunnelLogMarker introduces stunnel's log in a failed client's output.
const StunnelLogMarker = "--- stunnel log ---"

// ConnectProg is RSYNC_CONNECT_PROG: stunnel in inetd mode with the client configuration.
const ConnectProg = "stunnel " + ConfigDir + "/" + FileStunnelConf
