package action

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// egressDenied lists the networks the private-address egress policy
// refuses besides the classes netip names (checked first): ranges a cloud
// or a VPN uses internally without calling them private.
var egressDenied = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},         // "this network": Linux dials 0.x as a local address
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},  // carrier-grade NAT, Tailscale and cloud internals
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},  // limited broadcast
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64-translated"}, // may reach a private IPv4 address through a gateway
}

// privateKind says why addr is refused by the private-address egress
// policy, "" when it is allowed: loopback, private (RFC 1918, fc00::/7),
// link-local (the cloud metadata service at 169.254.169.254 among them),
// unspecified, multicast, and the ranges of egressDenied.
func privateKind(addr netip.Addr) string {
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsMulticast():
		return "multicast"
	}
	for _, d := range egressDenied {
		if d.prefix.Contains(addr) {
			return d.what
		}
	}
	return ""
}

// EgressError is the failure of a connection to an address the http
// actions' egress policy refuses (HTTPOptions.DenyPrivate).
type EgressError struct {
	Addr netip.Addr
	// Kind says which class of address it is: loopback, private,
	// link-local, unspecified, multicast, ...
	Kind string
}

func (e *EgressError) Error() string {
	return fmt.Sprintf("%s is a %s address, which the http egress policy denies (--http-deny-private)", e.Addr, e.Kind)
}

// denyPrivateControl runs after the name is resolved, just before each
// connection is made, on the very address being dialed: checking the name,
// or an earlier lookup of it, would let DNS rebinding through (a name that
// resolves to a public address once and to 127.0.0.1 the next time).
func denyPrivateControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("http egress policy: cannot check address %q: %w", address, err)
	}
	if kind := privateKind(ap.Addr()); kind != "" {
		return &EgressError{Addr: ap.Addr().Unmap(), Kind: kind}
	}
	return nil
}

// denyPrivateClient sends requests only to public addresses. Its transport
// uses no proxy: through a proxy the address dialed is the proxy's, and
// the policy could not see where a request really goes.
var denyPrivateClient = func() *http.Client {
	t := sharedTransport.Clone()
	t.Proxy = nil
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: denyPrivateControl}
	t.DialContext = d.DialContext
	return &http.Client{Transport: t}
}()
