package dnssec

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ResolvConf is what matters in /etc/resolv.conf for DANE lookups.
type ResolvConf struct {
	// Nameservers are "addr:53" addresses, at most three, in file order (as glibc uses them).
	Nameservers []string
	// TrustAD is "options trust-ad": glibc then passes the AD bit through to applications.
	TrustAD bool
	// EDNS0 is "options edns0".
	EDNS0 bool
	// Search is the search list ("search" or "domain"; the last one wins, as in glibc).
	Search []string
	// Timeout and Attempts are "options timeout:n" and "attempts:n" (glibc defaults 5s, 2).
	Timeout  time.Duration
	Attempts int
	// Ndots is "options ndots:n" (default 1).
	Ndots int
	// Diagnostics lists every line or option that was ignored, as "line N: why".
	Diagnostics []string
}

// ParseResolvConf reads resolv.conf(5) text. It never fails on content: unusable lines are
// reported in Diagnostics; only a read error is returned.
func ParseResolvConf(r io.Reader) (*ResolvConf, error) {
	rc := &ResolvConf{Timeout: 5 * time.Second, Attempts: 2, Ndots: 1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	diag := func(format string, a ...any) {
		rc.Diagnostics = append(rc.Diagnostics, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, a...))
	}
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		f := strings.Fields(t)
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				diag("nameserver without an address")
				continue
			}
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				diag("nameserver %q is not an IP address", f[1])
				continue
			}
			if len(rc.Nameservers) >= 3 {
				diag("more than 3 nameservers: %s ignored", f[1])
				continue
			}
			rc.Nameservers = append(rc.Nameservers, net.JoinHostPort(a.WithZone("").String(), "53"))
		case "search", "domain":
			rc.Search = append([]string(nil), f[1:]...)
		case "options":
			for _, o := range f[1:] {
				k, v, hasV := strings.Cut(o, ":")
				n, nerr := strconv.Atoi(v)
				switch {
				case k == "trust-ad":
					rc.TrustAD = true
				case k == "edns0":
					rc.EDNS0 = true
				case k == "ndots" && hasV && nerr == nil && n >= 0:
					rc.Ndots = min(n, 15)
				case k == "timeout" && hasV && nerr == nil && n >= 0:
					rc.Timeout = time.Duration(min(n, 30)) * time.Second
				case k == "attempts" && hasV && nerr == nil && n >= 0:
					rc.Attempts = min(n, 5)
				case k == "rotate" || k == "single-request" || k == "single-request-reopen" ||
					k == "use-vc" || k == "no-tld-query" || k == "no-reload" || k == "no-aaaa" || k == "inet6" ||
					k == "debug" || k == "insecure1" || k == "insecure2":
					diag("option %q has no effect on DANE lookups", o)
				default:
					diag("unknown or malformed option %q ignored", o)
				}
			}
		case "sortlist":
			diag("sortlist has no effect on DANE lookups")
		default:
			diag("unknown keyword %q ignored", f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading resolv.conf: %w", err)
	}
	if len(rc.Nameservers) == 0 {
		rc.Nameservers = []string{"127.0.0.1:53"}
		rc.Diagnostics = append(rc.Diagnostics, "no nameserver line: using 127.0.0.1 as glibc does")
	}
	return rc, nil
}

// Client returns a Client for these servers. With trust-ad the AD bit is believed from any
// server; otherwise only from loopback servers (override Client.TrustAD to change that:
// Postfix itself sets RES_TRUSTAD and believes any configured resolver, which is what
// smtpclient.Check does).
func (rc *ResolvConf) Client() *Client {
	c := &Client{Servers: append([]string(nil), rc.Nameservers...), Timeout: rc.Timeout}
	if rc.TrustAD {
		c.TrustAD = TrustADAlways
	}
	return c
}
