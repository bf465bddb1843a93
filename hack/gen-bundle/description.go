package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// olmNotes follow README's introduction in the CSV's description: what differs, or needs
// saying, when OLM installs Ferry instead of config/default.
const olmNotes = `## Installing with OLM

Install Ferry into **openshift-migration**, the namespace MTC uses: the examples refer to it,
and Ferry looks for Velero there unless the MigrationController's velero_namespace names
another. Ferry honours its own objects (MigCluster,
MigStorage, MigPlan, MigMigration, ...) only in the namespace it runs in, so the only
supported install mode is OwnNamespace. Whoever may write those objects there has the
operator's power over every registered cluster: grant that like cluster-admin.

After installing, create the MigrationController (the operator's settings), then a MigCluster
per cluster, a MigStorage, a MigPlan and MigMigrations. Each cluster of a migration needs
Velero with the plugin of the object store; remote clusters need the roles and service
account of ` + "`config/rbac/remote`" + ` from the source repository.

The operator's service account gets what ` + "`config/default`" + ` grants it: Ferry's own API, the
roles of a migration's source and destination (the host cluster is one side of most
migrations) and the rollback role, which may delete objects of any kind a restore created.`

// description returns the CSV's description: README's first paragraph, then olmNotes.
func description(root string) (string, error) {
	intro, err := readmeIntro(filepath.Join(root, "README.md"))
	if err != nil {
		return "", err
	}
	return intro + "\n\n" + unwrap(olmNotes), nil
}

// readmeIntro returns the first paragraph after README's title, its lines joined: the CSV
// is read in a browser, where the source's hard wraps mean nothing.
func readmeIntro(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var para []string
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if len(para) == 0 && (line == "" || strings.HasPrefix(line, "# ")) {
			continue // the title and the blank lines around it
		}
		if line == "" || strings.HasPrefix(line, "#") {
			break // the end of the paragraph, or a heading: no introduction
		}
		para = append(para, line)
	}
	if len(para) == 0 {
		return "", fmt.Errorf("%s: no introduction under the title", path)
	}
	return strings.Join(para, " "), nil
}

// unwrap joins the hard-wrapped lines of each paragraph of s, keeping headings and blank
// lines between paragraphs.
func unwrap(s string) string {
	paras := strings.Split(s, "\n\n")
	for i, p := range paras {
		paras[i] = strings.ReplaceAll(p, "\n", " ")
	}
	return strings.Join(paras, "\n\n")
}
