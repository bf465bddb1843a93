// Package transfer builds what a direct volume migration runs: a certificate authority made
// for each migration with a server and a client certificate, the rsync daemon and stunnel
// configurations, the rsync server and client pods, and it reads what rsync prints (progress,
// statistics, failures). Everything here is pure: no clients, no I/O besides crypto/rand.
//
// The data path of one PVC: the client pod on the source runs rsync against
// rsync://<pair user>@ferry-rsync-server/<md5(destPVC)>/; rsync does not open a socket itself but
// starts stunnel for each connection (RSYNC_CONNECT_PROG, stunnel in inetd mode), which
// connects over TLS to the server's endpoint (NodePort, ClusterIP or Route); the server pod's
// stunnel accepts on 6443 and forwards to the rsync daemon on its loopback.
//
// # Implementation considerations
//
//   - Peer verification on both sides. MTC generated one self-signed certificate, gave the
//     same certificate and key to both ends and verified nothing, so anything that reached the
//     endpoint could write into the volumes. Here each migration gets its own CA (whose
//     private key is discarded once the two certificates are signed), the server requires a
//     client certificate of that CA (requireCert, verifyChain), the client requires a server
//     certificate of that CA naming ServerName (verifyChain, checkHost), and each leaf has a
//     single extended key usage, so the client's certificate cannot pose as the server. A
//     client of another migration is refused by TLS, before rsync sees a byte
//     (transport_test.go runs real stunnel and rsync processes to prove it).
//   - ECDSA P-256 rather than MTC's RSA-4096: generating the keys takes microseconds instead
//     of seconds inside a reconcile, and every stunnel/OpenSSL in use supports it.
//   - The rsync passwords are a second factor behind TLS, and the boundary between tenants:
//     one client certificate serves every source namespace of a migration, so TLS alone would
//     let a pod in namespace A (which can read its namespace's Secret) write into the volumes
//     of namespace B. Each pair of a source and a destination namespace therefore has its own
//     rsync user and password (an HMAC of the pair keyed with the migration's 32 random bytes,
//     which stay in the host Secret; MTC used one password of 6 letters for everything);
//     each module admits only the user of the pair its PVC belongs to ("auth users"), and a
//     namespace's client Secret holds only its own pairs' passwords. Every module is "write
//     only": a client pushes, and can never read a destination volume back.
//   - stunnel in inetd mode started by rsync itself means there is no local listening port,
//     no "wait for the port" loop and no done-file handshake between two containers (MTC's
//     client pod had both): the client pod has one container whose exit code is rsync's. The
//     script appends stunnel's log to the output when rsync fails, so a refused certificate or
//     an unreachable endpoint is classified from the pod log alone (Classify).
//   - The rsync daemon runs as root, chrooted into each module ("use chroot = yes",
//     "munge symlinks = no", "numeric ids = yes"): outside a chroot a daemon sanitizes symlink
//     targets (absolute ones lose their leading slash) and maps owners by name. Modules are
//     reachable from the pod's loopback only; stunnel is the only way in.
//   - Progress comes from --info=progress2 (one whole-transfer line rewritten with \r) and the
//     statistics from --info=stats2; numbers are printed without --human-readable so that
//     they parse exactly.
//   - Sparse files stay sparse: the client script adds --sparse when the volume holds one (a
//     metadata walk with find). Not always: rsync --sparse writes in 1 KiB pieces and halves the
//     speed of large files (measured by make bench-transfer). With it, a non-sparse file full of
//     zeros becomes sparse on the destination (same content, fewer blocks). --partial (MTC's
//     default) lets a retry resume a large file instead of starting it again.
//   - Identity (security.go): as root, pods have a small set of capabilities (no privileged
//     mode): keeping owners, groups and modes needs CHOWN, FOWNER, FSETID and DAC_OVERRIDE, the
//     daemon's chroot SYS_CHROOT. Non-root pods meet the restricted Pod Security level: a
//     non-root user, its group as fsGroup (so the kubelet makes the destination writable and
//     the Secrets readable, mode 0440), no capabilities; the daemon then cannot chroot, so
//     absolute and ".." symlink targets are rewritten, and the volume root's own mode and time
//     cannot be set (the script accepts rsync's exit 23 when those are its only errors).
//   - The client lists the volume with find before rsync runs (one metadata walk, shared with
//     the sparse check) and prints the count, so that CheckSucceeded can refuse a success
//     that moved nothing of a volume holding data.
package transfer
