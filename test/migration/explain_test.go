package migration_test

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/test/fixtures"
	"github.com/ferrymtc/ferry/test/migenv"
)

// explainedFromTheTerminal returns what a user at a terminal does after a migration failed
// with cause in the failed step: ferry describe names the step and the cause (the hook's own
// log line), and ferry must-gather writes an archive holding the migration, the operator's log
// and the hook's log, with no Secret value of the host cluster in it.
func explainedFromTheTerminal(step, cause string) func(m *migv1.MigMigration) {
	return func(m *migv1.MigMigration) {
		dir := GinkgoT().TempDir()
		term := newTerminal("ferry-explain")
		term.run("cd " + dir)
		ferry := fmt.Sprintf("%s --kubeconfig %s -n %s", ferryBinary(), env.DestinationKubeconfig, migenv.Namespace)
		// tee: the screen shows it, the file keeps what scrolled off the screen.
		term.command(fmt.Sprintf("%s describe migration %s | tee describe.txt", ferry, m.Name), time.Minute)
		described, err := os.ReadFile(filepath.Join(dir, "describe.txt"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(described)).To(ContainSubstring("Outcome:       Failed"))
		Expect(string(described)).To(MatchRegexp(`Failed step: ` + step + `\b.*`))
		Expect(string(described)).To(ContainSubstring(cause), "describe shows the hook's log line")

		term.command(fmt.Sprintf("%s must-gather -o gathered.tar.gz", ferry), 3*time.Minute)
		files, raw := readArchive(filepath.Join(dir, "gathered.tar.gz"))
		Expect(files).To(HaveKeyWithValue("host/"+migenv.Namespace+"/migmigration/"+m.Name+".yaml", ContainSubstring("kind: MigMigration")))
		Expect(files).To(HaveKeyWithValue(MatchRegexp(`^host/`+migenv.Namespace+`/pods/migration-controller-.*\.log$`), Not(BeEmpty())),
			"the operator's log is in the archive")
		Expect(files).To(ContainElement(ContainSubstring(cause)), "the hook's log is in the archive")
		for _, name := range []string{"source-token", "storage-creds"} {
			var secret corev1.Secret
			Expect(env.Destination.Client.Get(ctx, client.ObjectKey{Namespace: fixtures.SecretNamespace, Name: name}, &secret)).To(Succeed())
			for key, value := range secret.Data {
				Expect(string(raw)).NotTo(ContainSubstring(string(value)), "Secret %s's %s is in the archive", name, key)
			}
		}
	}
}

// readArchive returns the files of a .tar.gz and its whole decompressed stream.
func readArchive(path string) (map[string]string, []byte) {
	GinkgoHelper()
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	Expect(err).NotTo(HaveOccurred())
	raw, err := io.ReadAll(gz)
	Expect(err).NotTo(HaveOccurred())
	files := map[string]string{}
	tr := tar.NewReader(strings.NewReader(string(raw)))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		Expect(err).NotTo(HaveOccurred())
		data, err := io.ReadAll(tr)
		Expect(err).NotTo(HaveOccurred())
		files[hdr.Name] = string(data)
	}
	return files, raw
}
