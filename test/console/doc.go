// Package console is the web console's browser test: headless Chromium (Debian's chromium,
// driven with chromedp) against the console as installed from config/console on the
// destination (host) cluster of test/migenv, reached through a loopback port forwarded to its
// pod (install.DeployConsole; pod IPs live in the node's network namespace). Through the UI it
// logs in with a token, adds the source cluster and a replication repository, builds a plan
// with a namespace mapping and a PVC rename, sees the operator refuse a stage of the renamed
// PVC (as MTC, Ferry copies a renamed PVC only in a state migration) on the migration's page
// and cancels it there, keeps the PVC's name, runs a stage and a cutover and waits for the
// volume's bar to reach 100%, and reads a failed migration's cause (a hook that exits
// non-zero). Each page is saved as a PNG under FERRY_ARTIFACTS (or the test's temporary
// directory, printed in the log), at 1280×800 and, for the migration page, 420 pixels wide.
//
// The host MigCluster is the one test/migenv registers (MTC's console does not add the host
// either: the operator's samples do); the source cluster and the repository are added through
// the console under their own names.
package console
