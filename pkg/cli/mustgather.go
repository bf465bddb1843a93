package cli

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// mustGatherFlags are the flags of `ferry must-gather`.
type mustGatherFlags struct {
	dest  string
	since time.Duration
	tail  int64
}

func newMustGatherCommand(o *Options) *cobra.Command {
	f := &mustGatherFlags{}
	cmd := &cobra.Command{
		Use:   "must-gather",
		Short: "Collect the migration objects, events and logs of every cluster into one archive",
		Long: `must-gather writes one .tar.gz archive with what a bug report or a support case needs,
the equivalent of MTC's must-gather image:

  From the host cluster: every Ferry (MTC) object of the migration namespace (MigCluster,
  MigStorage, MigPlan, MigMigration, MigHook, MigAnalytic, DirectVolumeMigration,
  DirectVolumeMigrationProgress, DirectImageMigration, DirectImageStreamMigration,
  MigrationController), Velero's objects and the Events of that namespace, the logs of the
  operator's pods, and the Secrets of that namespace and those the objects reference, as
  metadata only (names and keys, never values).

  From every MigCluster (the host and each remote cluster, reached with the MigCluster's
  token): Velero's objects, Events and server pod logs in Velero's namespace, and the Events
  and the logs of the rsync transfer pods and hook pods of the plans' namespaces.

A cluster that cannot be reached within 15 seconds is listed in errors.txt and the rest
is collected. No credential is written: Secret values become "<redacted N bytes>", and
tokens, keys and passwords in other objects and in logs are replaced too.

Layout: <cluster>/<namespace>/<kind>/<name>.yaml, <cluster>/<namespace>/events.yaml,
<cluster>/<namespace>/pods/<pod>/<container>.log, summary.txt and errors.txt.`,
		Example: `  # Write must-gather-<UTC time>.tar.gz in the current directory
  ferry must-gather

  # Into a directory, with the last hour of logs, at most 5000 lines per container
  ferry must-gather -o /tmp/case-1234 --since 1h --tail 5000

  # To a given file
  ferry must-gather -o /tmp/case-1234.tar.gz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMustGather(cmd.Context(), o, f)
		},
	}
	cmd.Flags().StringVarP(&f.dest, "dest-dir", "o", "",
		"directory to write the archive to (created if missing), or the archive's path if it ends in .tar.gz or .tgz (default: the current directory)")
	cmd.Flags().DurationVar(&f.since, "since", 0, "only logs newer than this, e.g. 1h (default: all the logs the nodes kept)")
	cmd.Flags().Int64Var(&f.tail, "tail", -1, "at most this many lines of log per container, -1 for all")
	return cmd
}

// runMustGather gathers into a hidden temporary file next to the destination and renames it
// at the end, so that an interrupted gather never leaves a truncated archive under the
// final name.
func runMustGather(ctx context.Context, o *Options, f *mustGatherFlags) error {
	now := time.Now().UTC()
	dest := archivePath(f.dest, now)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("create the destination directory: %w", err)
	}
	g, err := newGatherer(ctx, o, logLimits{since: f.since, tail: f.tail})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".must-gather-*.partial")
	if err != nil {
		return fmt.Errorf("create the archive: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // after the rename, there is nothing to remove
	g.arc = newArchive(tmp, now)
	g.run(ctx)
	if err := g.arc.close(g.summaryHeader()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write the archive: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the archive: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("write the archive: %w", err)
	}
	if n := len(g.arc.errors); n > 0 {
		_, _ = fmt.Fprintf(o.ErrOut, "%d item(s) could not be collected: see errors.txt in the archive.\n", n)
	}
	o.println(dest)
	return nil
}

// archivePath is where the archive goes: dest itself when it names a .tar.gz or .tgz file,
// else must-gather-<UTC time>.tar.gz in dest (the current directory when empty).
func archivePath(dest string, now time.Time) string {
	name := "must-gather-" + now.Format("20060102T150405Z") + ".tar.gz"
	switch {
	case dest == "":
		return name
	case strings.HasSuffix(dest, ".tar.gz"), strings.HasSuffix(dest, ".tgz"):
		return dest
	default:
		return filepath.Join(dest, name)
	}
}

// archive writes the gathered files into a tar.gz stream. Every file passes through its
// scrubber. Like a bufio.Writer, it keeps the first write error and ignores later writes,
// so that collection code need not check every call; close reports the error.
type archive struct {
	gz       *gzip.Writer
	tw       *tar.Writer
	now      time.Time
	scrubber *secretScrubber
	written  map[string]bool
	files    []string
	notes    []string
	skipped  []string
	errors   []string
	err      error
}

func newArchive(w io.Writer, now time.Time) *archive {
	gz := gzip.NewWriter(w)
	return &archive{gz: gz, tw: tar.NewWriter(gz), now: now, scrubber: newSecretScrubber(), written: map[string]bool{}}
}

// addText writes a text file (a log, errors.txt) with scrubText applied.
func (a *archive) addText(name string, data []byte) {
	a.addFile(name, []byte(scrubText(string(data))))
}

// addFile writes one file, with the known Secret values replaced. A path already written is
// skipped: the host cluster is both the host and a MigCluster, and Velero's namespace is
// often the migration namespace, so the same object can be collected twice.
func (a *archive) addFile(name string, data []byte) {
	if a.err != nil || a.written[name] {
		return
	}
	data = a.scrubber.scrub(data)
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: a.now, Typeflag: tar.TypeReg}
	if err := a.tw.WriteHeader(hdr); err != nil {
		a.err = err
		return
	}
	if _, err := a.tw.Write(data); err != nil {
		a.err = err
		return
	}
	a.written[name] = true
	a.files = append(a.files, name)
}

// addObject writes an unstructured object (or a List) as YAML, redacted and without
// managedFields, which kubectl hides too: they say which fields each client set, pages of
// noise in a bug report.
func (a *archive) addObject(name string, obj map[string]any) {
	clean := redactObject(obj)
	withoutManagedFields(clean)
	data, err := yaml.Marshal(clean)
	if err != nil {
		a.fail("%s: %v", name, err)
		return
	}
	a.addFile(name, data)
}

// withoutManagedFields removes metadata.managedFields from obj and the items of a List.
func withoutManagedFields(obj map[string]any) {
	delete(nestedMap(obj, "metadata"), "managedFields")
	items, _ := obj["items"].([]any)
	for _, item := range items {
		if m, ok := item.(map[string]any); ok {
			withoutManagedFields(m)
		}
	}
}

// fail records what could not be collected, for errors.txt.
func (a *archive) fail(format string, args ...any) {
	a.errors = append(a.errors, fmt.Sprintf(format, args...))
}

// skip records what was deliberately not collected (a kind the token may not read, or that
// the cluster does not serve): expected with least-privilege tokens, so not an error.
func (a *archive) skip(format string, args ...any) {
	a.skipped = append(a.skipped, fmt.Sprintf(format, args...))
}

// note records a line for the summary (which clusters were reached).
func (a *archive) note(format string, args ...any) {
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
}

// close writes errors.txt (when something failed) and summary.txt, and ends the stream.
func (a *archive) close(header string) error {
	if len(a.errors) > 0 {
		a.addText("errors.txt", []byte(strings.Join(a.errors, "\n")+"\n"))
	}
	a.addText("summary.txt", []byte(a.summary(header)))
	if a.err != nil {
		return a.err
	}
	if err := a.tw.Close(); err != nil {
		return err
	}
	return a.gz.Close()
}

// summary lists the clusters, the files collected, and what was skipped or failed.
func (a *archive) summary(header string) string {
	var b strings.Builder
	b.WriteString(header)
	section := func(title string, lines []string) {
		_, _ = fmt.Fprintf(&b, "\n%s (%d):\n", title, len(lines))
		for _, l := range lines {
			_, _ = fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	section("Clusters", a.notes)
	files := append([]string(nil), a.files...)
	sort.Strings(files)
	section("Files", files)
	section("Skipped", a.skipped)
	section("Errors (also in errors.txt)", a.errors)
	return b.String()
}

// archiveName joins path elements into an archive path, each made safe: an object name
// cannot hold a slash, but nothing is taken on trust from a cluster.
func archiveName(elems ...string) string {
	safe := make([]string, len(elems))
	for i, e := range elems {
		e = strings.NewReplacer("/", "_", "\\", "_").Replace(e)
		if e == "" || e == "." || e == ".." {
			e = "_" + e
		}
		safe[i] = e
	}
	return path.Join(safe...)
}
