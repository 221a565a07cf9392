package handlers

import (
	"fmt"
	"net/netip"
	"strings"
)

// IPSet is a list of addresses and prefixes; Any admits everything ("*").
type IPSet struct {
	Any      bool
	Prefixes []netip.Prefix
}

// ParseIPSet reads comma-separated IPs and CIDRs; "*" admits all.
func ParseIPSet(list string) (IPSet, error) {
	var set IPSet
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			continue
		case item == "*":
			set.Any = true
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return IPSet{}, fmt.Errorf("handlers: %q is not an IP or CIDR", item)
			}
			set.Prefixes = append(set.Prefixes, p.Masked())
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				return IPSet{}, fmt.Errorf("handlers: %q is not an IP or CIDR", item)
			}
			set.Prefixes = append(set.Prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return set, nil
}

// Contains reports whether ip (text) is in the set.
func (s IPSet) Contains(ip string) bool {
	if s.Any {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.Prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Loopback is 127.0.0.0/8 and ::1, admitted in sandbox mode.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// WithLoopback returns the set plus the loopback ranges.
func (s IPSet) WithLoopback() IPSet {
	return IPSet{Any: s.Any, Prefixes: append(append([]netip.Prefix{}, s.Prefixes...), loopback...)}
}

// String lists the set as configured.
func (s IPSet) String() string {
	if s.Any {
		return "*"
	}
	parts := make([]string, len(s.Prefixes))
	for i, p := range s.Prefixes {
		if p.IsSingleIP() {
			parts[i] = p.Addr().String()
		} else {
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ",")
}

// ClientIP returns the address a request came from. X-Forwarded-For is believed
// only when the direct peer is a trusted proxy, and then only as far as the chain
// of trusted proxies goes: the rightmost address that is not a trusted proxy is
// the client, so a client cannot spoof its address by sending the header itself.
// The result never shares memory with forwardedFor, which is usually a Fiber
// string aliasing fasthttp's reused buffer: it may be kept after the handler.
func ClientIP(remote, forwardedFor string, trusted IPSet) string {
	if forwardedFor == "" || !trusted.Contains(remote) || (len(trusted.Prefixes) == 0 && !trusted.Any) {
		return remote
	}
	hops := strings.Split(forwardedFor, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			return remote // a malformed chain is not believed
		}
		if !trusted.Contains(hop) {
			return strings.Clone(hop)
		}
	}
	return strings.Clone(strings.TrimSpace(hops[0]))
}
