package policy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Client names the Postfix delivery agent behind a transport: the SMTP client smtp(8) or its
// LMTP personality lmtp(8). It is also the prefix of that client's parameters (smtp_tls_...,
// lmtp_tls_...).
type Client string

// The two clients.
const (
	SMTP Client = "smtp"
	LMTP Client = "lmtp"
)

// ErrNextHop is wrapped by every error about a malformed next-hop destination.
var ErrNextHop = errors.New("invalid next-hop destination")

// NextHop is one destination that the SMTP or LMTP client connects to: one element of the
// next-hop list that the queue manager hands it (a relayhost list and smtp_fallback_relay are
// split into several), parsed as smtp(8) parses it.
type NextHop struct {
	// Nexthop is the element exactly as configured: "example.com", "[mx.example.net]:587",
	// "inet:lmtp.example:24", "unix:private/dovecot-lmtp".
	Nexthop string `json:"nexthop"`
	// Key is the smtp_tls_policy_maps lookup key: Nexthop verbatim, brackets and port
	// included, with an LMTP "inet:" or "unix:" prefix removed.
	Key string `json:"key"`
	// Domain is the next-hop domain that the "nexthop" and "dot-nexthop" match strategies use:
	// Key without brackets and port ("mx.example.net", "192.0.2.1"). For an LMTP UNIX-domain
	// socket it is $myhostname.
	Domain string `json:"domain"`
	// Service is the port as written ("587", "submission"), or the client's default
	// (smtp_tcp_port, lmtp_tcp_port) when the next hop names none.
	Service string `json:"service,omitempty"`
	// Port is the TCP port; 0 for a UNIX-domain socket.
	Port int `json:"port,omitempty"`
	// MX reports whether the client looks up MX records for Domain (SMTP, not bracketed, DNS
	// lookups enabled). Otherwise it connects to the address records of Domain.
	MX bool `json:"mx"`
	// Unix reports an LMTP UNIX-domain socket; Path is its pathname.
	Unix bool   `json:"unix,omitempty"`
	Path string `json:"path,omitempty"`
	// Fallback reports that the element came from smtp_fallback_relay.
	Fallback bool `json:"fallback,omitempty"`
	// Client is the delivery agent: smtp or lmtp.
	Client Client `json:"client"`
}

// knownTCPPorts is Postfix's known_tcp_ports default, which it applies before asking the
// system's services database.
var knownTCPPorts = map[string]int{"lmtp": 24, "smtp": 25, "smtps": 465, "submissions": 465, "submission": 587}

// NextHopOptions carries what ParseNextHop needs beyond the string.
type NextHopOptions struct {
	// DefaultService is smtp_tcp_port or lmtp_tcp_port ("smtp", "24").
	DefaultService string
	// MyHostname is $myhostname, the match name of LMTP UNIX-domain destinations.
	MyHostname string
	// DNS is false when the client's DNS lookups are disabled (smtp_dns_support_level =
	// disabled, or smtp_host_lookup without dns): then there are no MX lookups.
	DNS bool
	// SMTPUTF8 is smtputf8_enable: UTF-8 host names are then valid and converted to A-labels
	// for their validity check.
	SMTPUTF8 bool
}

// ParseNextHop parses one next-hop list element the way smtp(8) does (host_port(3) and its
// port lookup). Errors wrap ErrNextHop and use Postfix's words ("missing \"]\" in server
// description: [x", "bad network port: 99999 for destination: x:99999").
func ParseNextHop(client Client, s string, opt NextHopOptions) (NextHop, error) {
	nh := NextHop{Nexthop: s, Key: s, Client: client}
	dest := s
	if client == LMTP {
		switch {
		case strings.HasPrefix(dest, "unix:"):
			nh.Unix, nh.Path = true, dest[5:]
			nh.Key, nh.Domain = nh.Path, opt.MyHostname
			if nh.Path == "" {
				return nh, fmt.Errorf("%w: empty UNIX-domain socket path in %q", ErrNextHop, s)
			}
			return nh, nil
		case strings.HasPrefix(dest, "inet:"):
			dest = dest[5:]
			nh.Key = dest
		}
	}
	host, service, err := hostPort(dest, opt.DefaultService)
	if err != nil {
		return nh, fmt.Errorf("%w: %s in server description: %s", ErrNextHop, err, s)
	}
	nh.Domain, nh.Service = host, service
	port, err := servicePort(service)
	if err != nil {
		return nh, fmt.Errorf("%w: %s", ErrNextHop, portError(err, service, s))
	}
	nh.Port = port
	nh.MX = client == SMTP && opt.DNS && !strings.HasPrefix(dest, "[")
	return nh, nil
}

type portErr struct{ msg string }

func (e portErr) Error() string { return e.msg }

func portError(err error, service, dest string) string {
	if err.Error() == "range" {
		return fmt.Sprintf("bad network port: %s for destination: %s", service, dest)
	}
	return fmt.Sprintf("unknown service: %s/tcp", service)
}

// servicePort turns a service into a port number as smtp_parse_destination does: a known
// name (known_tcp_ports), or digits in 1..65535.
func servicePort(service string) (int, error) {
	if p, ok := knownTCPPorts[service]; ok {
		return p, nil
	}
	if allDigits(service) {
		n, err := strconv.Atoi(service)
		if err != nil || n == 0 || n >= 65536 {
			return 0, portErr{"range"}
		}
		return n, nil
	}
	// Like getservbyname(3), fall back to the system's services database (/etc/services).
	if p, err := net.LookupPort("tcp", service); err == nil && p > 0 {
		return p, nil
	}
	return 0, portErr{"unknown"}
}

// hostPort is Postfix's host_port(3) with no default host: "[host]:port", "[host]:", "[host]",
// "[ipv6:addr]:port", "host:port", "host:", "host".
func hostPort(buf, defService string) (host, service string, err error) {
	if strings.HasPrefix(buf, "[") {
		rest := buf[1:]
		ipv6 := len(rest) >= 5 && strings.EqualFold(rest[:5], "ipv6:")
		if ipv6 {
			rest = rest[5:]
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", errors.New(`missing "]"`)
		}
		host, rest = rest[:end], rest[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", "", errors.New(`garbage after "]"`)
		}
		if rest != "" {
			rest = rest[1:]
		}
		if ipv6 {
			if a, e := netip.ParseAddr(host); e != nil || !a.Is6() {
				return "", "", errors.New("malformed IPv6 address")
			}
		}
		service = rest
		if service == "" {
			service = defService
		}
	} else if i := strings.LastIndexByte(buf, ':'); i >= 0 {
		host, service = buf[:i], buf[i+1:]
		if service == "" {
			service = defService
		}
	} else {
		host, service = buf, defService
	}
	if host == "" {
		return "", "", errors.New("missing host information")
	}
	if service == "" {
		return "", "", errors.New("missing service information")
	}
	if !validUTF8Hostname(host, true) && !validHostAddr(host) {
		return "", "", errors.New("valid hostname or network address required")
	}
	if service != defService && service[0] >= '0' && service[0] <= '9' && !allDigits(service) {
		return "", "", errors.New("garbage after numerical service")
	}
	return host, service, nil
}

// validHostAddr is valid_hostaddr(3): an IPv4 or IPv6 address literal.
func validHostAddr(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// validUTF8Hostname is valid_utf8_hostname(3): with utf8 on, a non-ASCII name is converted to
// A-labels first; then valid_hostname(3).
func validUTF8Hostname(name string, utf8 bool) bool {
	if !isASCII(name) {
		if !utf8 {
			return false
		}
		a, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return false
		}
		name = a
	}
	ok, _ := pfValidHostname(name)
	return ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SplitNextHopList splits a next-hop list ("[a]:587, [b]:587") on commas and whitespace, as
// smtp(8) does before it tries each element in turn.
func SplitNextHopList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' })
}

// ValidHostname reports whether name is a syntactically valid host name as Postfix's
// valid_utf8_hostname() judges it: labels of letters, digits, '_' and inner hyphens, at most
// 63 bytes each, no empty label or trailing dot, not all-numeric, at most 255 bytes; with utf8
// (smtputf8_enable) a non-ASCII name is judged after A-label conversion, without it a
// non-ASCII name is invalid. Only such keys get parent-domain policy lookups (PolicyKeys).
func ValidHostname(name string, utf8 bool) bool { return validUTF8Hostname(name, utf8) }

// PolicyKeys returns the smtp_tls_policy_maps lookup keys for a next-hop key, in the order
// Postfix tries them: the key itself, then, only when the key is a syntactically valid host
// name (no brackets, no port, no trailing dot, not numeric), each parent domain with a leading
// dot: "a.b.example.com", ".b.example.com", ".example.com", ".com".
func PolicyKeys(key string, smtputf8 bool) []string {
	keys := []string{key}
	if !validUTF8Hostname(key, smtputf8) {
		return keys
	}
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			keys = append(keys, key[i:])
		}
	}
	return keys
}
