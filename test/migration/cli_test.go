package migration_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ferrymtc/ferry/test/install"
	"github.com/ferrymtc/ferry/test/migenv"
)

// terminal is a tmux session of 200x50 running a shell, as a person at a terminal has.
type terminal struct {
	session string
	ran     int
}

func newTerminal(name string) *terminal {
	GinkgoHelper()
	t := &terminal{session: name}
	Expect(exec.Command("tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "50").Run()).To(Succeed())
	DeferCleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return t
}

// run types command and Enter.
func (t *terminal) run(command string) {
	GinkgoHelper()
	Expect(exec.Command("tmux", "send-keys", "-t", t.session, command, "Enter").Run()).To(Succeed())
}

// command clears the screen, runs command and waits until it exits with exit code 0; it
// returns the screens seen while it ran. Each command line echoes a numbered marker with its
// exit code, so that a previous command's marker is never taken for this one's.
func (t *terminal) command(command string, timeout time.Duration) []string {
	GinkgoHelper()
	return t.begin(command)(timeout)
}

// begin starts command like command does and returns what waits for its exit code 0.
func (t *terminal) begin(command string) func(timeout time.Duration) []string {
	GinkgoHelper()
	t.ran++
	n := t.ran
	t.run(fmt.Sprintf("clear; %s; echo EXIT%d=$?", command, n))
	return func(timeout time.Duration) []string {
		GinkgoHelper()
		seen := t.waitFor(fmt.Sprintf(`EXIT%d=[0-9]`, n), timeout)
		Expect(t.screen()).To(ContainSubstring(fmt.Sprintf("EXIT%d=0", n)), "%s exits 0", command)
		return seen
	}
}

// screen is what the terminal shows now.
func (t *terminal) screen() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", t.session).Output()
	Expect(err).NotTo(HaveOccurred())
	return string(out)
}

// waitFor waits until the screen matches pattern and returns the screens seen on the way.
func (t *terminal) waitFor(pattern string, timeout time.Duration) []string {
	GinkgoHelper()
	var seen []string
	Eventually(func() string {
		s := t.screen()
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		return s
	}).WithTimeout(timeout).WithPolling(200*time.Millisecond).Should(MatchRegexp(pattern), "screens: %v", seen)
	return seen
}

// migrateWithTheCLI runs a whole migration from a terminal with ferry: cluster add, plan
// create with a PVC rename, stage, cutover --watch (default in a terminal), and checks the
// live view's bars move and end at 100%, then the exit code.
func migrateWithTheCLI() {
	const name = "cli"
	appWithVolume(name, 1)
	bin := ferryBinary()
	dir := tokenDir()
	// The bundle trusts the API server and the cluster's registry, as fixtures.WithRegistries's does.
	ca := append(append(append([]byte(nil), env.Source.CABundle()...), '\n'), env.SourceRegistry.CAPEM...)
	Expect(os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o600)).To(Succeed())

	term := newTerminal("ferry-e2e")
	ferry := fmt.Sprintf("%s --kubeconfig %s -n %s", bin, env.DestinationKubeconfig, migenv.Namespace)
	term.run("cd " + dir)
	term.command(fmt.Sprintf("%s cluster add cli-source --url %s --token-file token --ca-bundle ca.crt --exposed-registry-path %s",
		ferry, env.Source.URL(), env.SourceRegistry.Address), 3*time.Minute)
	Expect(term.screen()).To(ContainSubstring("MigCluster cli-source is Ready."))

	term.command(fmt.Sprintf("%s plan create cli --source cli-source --namespaces %s:%s-new --verify", ferry, name, name), 3*time.Minute)
	Expect(term.screen()).To(ContainSubstring("MigPlan cli is Ready."))
	Expect(term.screen()).To(MatchRegexp(`cli/data \(1Gi\): copy \(storage class \S+, copy method filesystem, verified\)`))

	term.command(fmt.Sprintf("%s stage cli --name cli-stage", ferry), 5*time.Minute)
	Expect(term.screen()).To(MatchRegexp(`Migration cli-stage: Succeeded(WithWarnings)?\.`))

	screens := term.command(fmt.Sprintf("%s cutover cli --name cli-cutover", ferry), 5*time.Minute)
	final := term.screen()
	Expect(final).To(MatchRegexp(`Migration cli-cutover: Succeeded(WithWarnings)?\.`))
	Expect(final).To(MatchRegexp(`cli/data\s+\[#{24}\] 100%`), "the volume's bar ends full")
	Expect(final).To(MatchRegexp(`\[done\]\s+DirectVolume`))
	Expect(final).To(MatchRegexp(`\[done\]\s+Restore`))
	live := 0
	for _, s := range screens {
		if strings.Contains(s, "[running]") {
			live++
		}
	}
	Expect(live).To(BeNumerically(">=", 2), "the view changed while the migration ran: %v", screens)
	Expect(checksums(destinationDataDir(name+"-new"))).To(HaveKey("file-03"), "the volume is copied")
}

var ferryBuild struct {
	once sync.Once
	path string
	err  error
}

// ferryBinary builds the ferry CLI once for the suite.
func ferryBinary() string {
	GinkgoHelper()
	ferryBuild.once.Do(func() {
		// Into bin/ (git-ignored), not a spec's temporary directory, which goes with the spec.
		ferryBuild.path = filepath.Join(repoRoot(), "bin", "ferry-e2e")
		build := exec.Command("go", "build", "-o", ferryBuild.path, "./cmd/ferry")
		build.Dir = repoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			ferryBuild.err = fmt.Errorf("build ferry: %w\n%s", err, out)
		}
	})
	Expect(ferryBuild.err).NotTo(HaveOccurred())
	return ferryBuild.path
}

// tokenDir is a new directory holding the file token: a least-privilege token of the
// source cluster, as an admin hands it to ferry cluster add.
func tokenDir() string {
	GinkgoHelper()
	token, err := install.RemoteToken(ctx, env.Source, install.Source)
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600)).To(Succeed())
	return dir
}

// repoRoot is the repository's root, two levels above this package.
func repoRoot() string {
	wd, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	return filepath.Join(wd, "..", "..")
}
