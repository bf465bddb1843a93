package node

import (
	"net"
)

// kubeletHost is the address the kubelet API listens on: the host's first global unicast
// IPv4 address (eth0's, say), else 127.0.0.1. The API server's node proxy
// (/api/v1/nodes/<node>/proxy/..., which volume statistics are read through) refuses loopback
// and link-local addresses, while its log requests do not; a global address serves both.
// localPeersOnly keeps other machines out.
func kubeletHost() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// localPeersOnly accepts connections from this machine only (their source address is the
// listening address), closing others: the kubelet API of a process node has no
// authentication.
type localPeersOnly struct{ net.Listener }

func (l localPeersOnly) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		remote, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		local, _, _ := net.SplitHostPort(c.LocalAddr().String())
		if remote == local || net.ParseIP(remote).IsLoopback() {
			return c, nil
		}
		_ = c.Close()
	}
}
