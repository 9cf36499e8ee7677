package builtins

import (
	"net"
	"strconv"
)

// maxWorkerAddrs bounds the addresses a worker is given: it tries them in
// order, each up to its dial timeout, so a host with many interfaces must
// not make a worker that cannot connect take minutes to say so.
const maxWorkerAddrs = 8

// workerAddrs is what the workers are told to dial, host:port, in order.
// address= is taken as given. A LocalProvider's workers are on this host:
// loopback. Other providers' workers may run on any node, and which of
// this host's addresses a node can reach is not knowable from here (Parsl
// hands its workers every address too): every address of an interface
// that is up, global unicast first, then loopback, which serves blocks
// that share this host, as on a test cluster.
func (h *HighThroughputExecutor) workerAddrs(port int) []string {
	p := strconv.Itoa(port)
	if h.address != "" {
		return []string{net.JoinHostPort(h.address, p)}
	}
	loopback := net.JoinHostPort("127.0.0.1", p)
	if !h.provider.remote() {
		return []string{loopback}
	}
	var out []string
	for _, ip := range hostIPs() {
		if len(out) == maxWorkerAddrs-1 {
			break
		}
		out = append(out, net.JoinHostPort(ip.String(), p))
	}
	return append(out, loopback)
}

// hostIPs lists the global unicast addresses of this host's interfaces
// that are up, IPv4 first.
func hostIPs() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var v4, v6 []net.IP
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || !ipn.IP.IsGlobalUnicast() {
				continue
			}
			if ip4 := ipn.IP.To4(); ip4 != nil {
				v4 = append(v4, ip4)
			} else {
				v6 = append(v6, ipn.IP)
			}
		}
	}
	return append(v4, v6...)
}
