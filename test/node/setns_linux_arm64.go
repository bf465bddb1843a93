package node

// sysSetns is setns(2)'s number; the syscall package does not export it.
const sysSetns = 268
