package dnssec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolver asks a (validating) DNS resolver for records. Implementations follow CNAME chains and
// report DNSSEC authenticity on every answer; failures are *LookupError values wrapping one of
// the sentinels below, so callers can tell SERVFAIL (a bogus zone, an unreachable server) from
// NXDOMAIN and NODATA.
type Resolver interface {
	// Lookup asks for the qtype records of name (an absolute name; a trailing dot is added when
	// missing). For NXDOMAIN and NODATA the *Answer is returned alongside the error, so its
	// Authentic flag still tells whether the denial was validated.
	Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error)
}

// Hop is one CNAME step of an answer.
type Hop struct {
	// Owner is the alias (the CNAME record's owner) and Target the name it points to.
	Owner, Target string
	// Authentic is true when the message carrying this CNAME was validated.
	Authentic bool
}

// Answer is what one Lookup found.
type Answer struct {
	// QName and QType are what was asked (QName fully qualified).
	QName string
	QType uint16
	// Name is the owner of Records: QName, or the last CNAME target.
	Name string
	// Records holds the RRs of type QType owned by Name.
	Records []dns.RR
	// CNAMEs lists the alias chain from QName to Name, in order.
	CNAMEs []Hop
	// Authentic is true when every message that contributed was validated by a resolver whose
	// AD bit is believed (RFC 6840 §5.8; see TrustAD).
	Authentic bool
	// Rcode is the DNS response code of the last message.
	Rcode int
	// Exchanges counts the round trips made (a TCP retry after truncation counts too).
	Exchanges int
	// UsedTCP is true when a truncated UDP answer was retried over TCP.
	UsedTCP bool
}

// Lookup failure sentinels; match them with errors.Is on a *LookupError.
var (
	// ErrServFail is SERVFAIL: the resolver could not answer, for a DNSSEC-aware resolver
	// also because the answer failed validation (a bogus zone).
	ErrServFail = errors.New("server failure (SERVFAIL)")
	// ErrNXDomain is NXDOMAIN: the name does not exist.
	ErrNXDomain = errors.New("no such domain (NXDOMAIN)")
	// ErrNoData is NODATA: the name exists but has no records of the type asked.
	ErrNoData = errors.New("no records of the requested type (NODATA)")
	// ErrRefused is REFUSED, NOTIMP or FORMERR: the server would not answer the query.
	ErrRefused = errors.New("query refused or not implemented")
	// ErrTimeout is no usable answer from any server before the deadline.
	ErrTimeout = errors.New("no answer from any name server")
	// ErrCNAMELoop is a CNAME chain that comes back to a name already seen.
	ErrCNAMELoop = errors.New("CNAME loop")
	// ErrCNAMEChain is a CNAME chain longer than the limit (16 hops).
	ErrCNAMEChain = errors.New("CNAME chain too long")
	// ErrNameTooLong is a name over 255 octets in wire form; it is never asked.
	ErrNameTooLong = errors.New("domain name longer than 255 octets")
	// ErrBadName is a name that is not a valid domain name; it is never asked.
	ErrBadName = errors.New("invalid domain name")
	// ErrMalformedReply is a response that cannot be used: a wrong question section, a
	// response truncated even over TCP, or records that cannot be decoded.
	ErrMalformedReply = errors.New("malformed or unexpected name server reply")
)

// LookupError is a failed lookup: the name and type asked, the response code (-1 when there
// was none) and the reason (one of the sentinels, possibly joined with a transport error).
type LookupError struct {
	Name  string // the name asked when the lookup failed
	Type  uint16 // the query type
	Rcode int    // DNS response code, -1 when there was no response
	Err   error  // one of the sentinels, possibly joined with a transport error
	// Authentic is true when a negative answer (NXDOMAIN, NODATA) was validated.
	Authentic bool
}

// Error renders the failure as Postfix's dns_lookup does ("Host or domain name not found. Name
// service error for name=<name> type=<type>: Host not found, try again"), so it can be used in
// "warning: DANE TLSA lookup problem: <error>".
func (e *LookupError) Error() string {
	name := strings.TrimSuffix(e.Name, ".")
	t := dns.TypeToString[e.Type]
	switch {
	case errors.Is(e.Err, ErrNameTooLong), errors.Is(e.Err, ErrBadName):
		return fmt.Sprintf("Name service error for %s: invalid host or domain name", name)
	case errors.Is(e.Err, ErrMalformedReply), errors.Is(e.Err, ErrCNAMELoop), errors.Is(e.Err, ErrCNAMEChain):
		return fmt.Sprintf("Name service error for name=%s type=%s: Malformed or unexpected name server reply (%v)", name, t, e.Err)
	}
	return fmt.Sprintf("Host or domain name not found. Name service error for name=%s type=%s: %s", name, t, e.hText())
}

// hText is the resolver h_errno text Postfix's dns_strerror gives.
func (e *LookupError) hText() string {
	switch {
	case errors.Is(e.Err, ErrNXDomain):
		return "Host not found"
	case errors.Is(e.Err, ErrNoData):
		return "Host found but no data record of requested type"
	case errors.Is(e.Err, ErrRefused):
		return "Non-recoverable error"
	}
	return "Host not found, try again"
}

// Unwrap returns the reason.
func (e *LookupError) Unwrap() error { return e.Err }

// NotFound reports Postfix's DNS_NOTFOUND: NXDOMAIN or NODATA (as opposed to a lookup error).
func (e *LookupError) NotFound() bool {
	return errors.Is(e.Err, ErrNXDomain) || errors.Is(e.Err, ErrNoData)
}

// IsNotFound reports whether err is a NXDOMAIN or NODATA lookup failure.
func IsNotFound(err error) bool {
	var le *LookupError
	return errors.As(err, &le) && le.NotFound()
}

// TrustAD says when the AD bit of a response is believed.
type TrustAD int

const (
	// TrustADLoopback believes AD only from a server on a loopback address (the default:
	// a local validating resolver such as unbound).
	TrustADLoopback TrustAD = iota
	// TrustADAlways believes AD from any server, as glibc does with "options trust-ad".
	// It is also what Postfix itself does: dns_lookup.c adds RES_TRUSTAD to its DNSSEC
	// queries, so smtp(8) believes the AD bit of whatever resolver resolv.conf names. The
	// loopback default is stricter than Postfix when the resolver is remote.
	TrustADAlways
	// TrustADNever never believes AD: every answer is insecure.
	TrustADNever
)

// Client is a Resolver that talks to recursive servers with miekg/dns: each query sets RD, AD
// and an EDNS0 OPT record with the DO bit; a truncated UDP response is retried over TCP; the
// servers are tried in order until one gives a usable answer. A Client is safe for
// concurrent use and must not be copied after its first Lookup: it keeps idle UDP sockets to
// loopback servers for the next questions (a local validating resolver such as unbound;
// servers elsewhere get a new socket, and source port, per question). Close closes them.
type Client struct {
	// Servers are "host:port" addresses of recursive resolvers.
	Servers []string
	// UDPSize is the EDNS0 UDP payload size advertised; 0 means 1232.
	UDPSize uint16
	// Timeout bounds each exchange when the context has no earlier deadline; 0 means 5s.
	Timeout time.Duration
	// TrustAD is the rule for believing the AD bit.
	TrustAD TrustAD

	idle udpPool
}

// udpPool keeps idle UDP sockets per loopback server. A check asks several questions (MX,
// A, AAAA, TLSA) and a batch thousands; a socket per question was a quarter of a check's
// CPU. A socket is kept only after an exchange that succeeded, so no late answer to an
// earlier question waits on it (and miekg/dns skips answers whose ID is not the query's).
type udpPool struct {
	mu   sync.Mutex
	idle map[string][]*dns.Conn
}

// maxIdleUDP bounds the idle sockets kept per server.
const maxIdleUDP = 16

func (p *udpPool) get(server string) *dns.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[server]
	if len(l) == 0 {
		return nil
	}
	co := l[len(l)-1]
	p.idle[server] = l[:len(l)-1]
	return co
}

func (p *udpPool) put(server string, co *dns.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[string][]*dns.Conn{}
	}
	if len(p.idle[server]) >= maxIdleUDP {
		co.Close()
		return
	}
	p.idle[server] = append(p.idle[server], co)
}

// Close closes the idle sockets the Client keeps; it can be used again afterwards.
func (c *Client) Close() error {
	c.idle.mu.Lock()
	defer c.idle.mu.Unlock()
	var errs []error
	for _, l := range c.idle.idle {
		for _, co := range l {
			errs = append(errs, co.Close())
		}
	}
	c.idle.idle = nil
	return errors.Join(errs...)
}

// Concurrent reports that Lookup may be called from several goroutines at once (see
// LookupHostFamilies).
func (c *Client) Concurrent() bool { return true }

// maxHops bounds CNAME chains (Postfix and most resolvers stop well before this).
const maxHops = 16

// MaxNameLen is the longest presentation-form domain name accepted (RFC 1035 limits a name to
// 255 octets in wire form, which is at most 253 characters plus the trailing dot).
const MaxNameLen = 254

// CheckName validates an absolute or relative domain name: RFC 1035 syntax for labels and at
// most 255 octets in wire form.
func CheckName(name string) error {
	if name == "" {
		return ErrBadName
	}
	fq := dns.Fqdn(name)
	if len(fq) > MaxNameLen+1 || wireLen(fq) > 255 {
		return ErrNameTooLong
	}
	if _, ok := dns.IsDomainName(fq); !ok {
		return ErrBadName
	}
	return nil
}

func wireLen(fq string) int {
	if fq == "." {
		return 1
	}
	// Each label costs its length plus one; escapes make this an upper bound, which is
	// enough to reject oversize names early.
	return len(fq) + 1
}

// Lookup implements Resolver.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	fq := dns.Fqdn(name)
	if err := CheckName(name); err != nil {
		return nil, &LookupError{Name: fq, Type: qtype, Rcode: -1, Err: err}
	}
	ans := &Answer{QName: fq, QType: qtype, Name: fq, Authentic: true, Rcode: -1}
	seen := map[string]bool{strings.ToLower(fq): true}
	cur := fq
	for {
		msg, server, tcp, n, err := c.exchange(ctx, cur, qtype)
		ans.Exchanges += n
		ans.UsedTCP = ans.UsedTCP || tcp
		if err != nil {
			return nil, &LookupError{Name: cur, Type: qtype, Rcode: -1, Err: err}
		}
		ans.Rcode = msg.Rcode
		ad := msg.AuthenticatedData && c.believeAD(server)
		ans.Authentic = ans.Authentic && ad
		followed := false
		res := walkAnswer(msg, cur, qtype)
		for _, h := range res.hops {
			if len(ans.CNAMEs) >= maxHops {
				return nil, &LookupError{Name: fq, Type: qtype, Rcode: msg.Rcode, Err: ErrCNAMEChain}
			}
			if seen[strings.ToLower(h.Target)] {
				return nil, &LookupError{Name: fq, Type: qtype, Rcode: msg.Rcode, Err: fmt.Errorf("%w: %s -> %s", ErrCNAMELoop, h.Owner, h.Target)}
			}
			seen[strings.ToLower(h.Target)] = true
			ans.CNAMEs = append(ans.CNAMEs, Hop{Owner: h.Owner, Target: h.Target, Authentic: ad})
			followed = true
		}
		cur = res.name
		ans.Name = cur
		switch msg.Rcode {
		case dns.RcodeSuccess:
		case dns.RcodeNameError:
			return ans, &LookupError{Name: cur, Type: qtype, Rcode: msg.Rcode, Err: ErrNXDomain, Authentic: ans.Authentic}
		case dns.RcodeServerFailure:
			return nil, &LookupError{Name: cur, Type: qtype, Rcode: msg.Rcode, Err: ErrServFail}
		case dns.RcodeRefused, dns.RcodeNotImplemented, dns.RcodeFormatError:
			return nil, &LookupError{Name: cur, Type: qtype, Rcode: msg.Rcode, Err: fmt.Errorf("%w: %s", ErrRefused, dns.RcodeToString[msg.Rcode])}
		default:
			return nil, &LookupError{Name: cur, Type: qtype, Rcode: msg.Rcode, Err: fmt.Errorf("%w: rcode %s", ErrServFail, dns.RcodeToString[msg.Rcode])}
		}
		if len(res.records) > 0 {
			ans.Records = res.records
			return ans, nil
		}
		// A resolver that did not chase the alias itself: ask for the target, unless the
		// message already proves the target has no data (an SOA in the authority section).
		if followed && !hasSOA(msg) {
			continue
		}
		return ans, &LookupError{Name: cur, Type: qtype, Rcode: msg.Rcode, Err: ErrNoData, Authentic: ans.Authentic}
	}
}

type walked struct {
	name    string
	records []dns.RR
	hops    []Hop
}

// walkAnswer follows the CNAME chain inside one message starting at name.
func walkAnswer(msg *dns.Msg, name string, qtype uint16) walked {
	w := walked{name: name}
	used := make([]bool, len(msg.Answer))
	for steps := 0; steps <= len(msg.Answer); steps++ {
		var next string
		for i, rr := range msg.Answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, w.name) || h.Class != dns.ClassINET {
				continue
			}
			if h.Rrtype == qtype {
				w.records = append(w.records, rr)
				used[i] = true
			} else if cn, ok := rr.(*dns.CNAME); ok && next == "" && !used[i] {
				next = cn.Target
				used[i] = true
			}
		}
		if len(w.records) > 0 || next == "" {
			return w
		}
		w.hops = append(w.hops, Hop{Owner: w.name, Target: next})
		w.name = next
	}
	return w
}

func hasSOA(msg *dns.Msg) bool {
	for _, rr := range msg.Ns {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

func (c *Client) believeAD(server string) bool {
	switch c.TrustAD {
	case TrustADAlways:
		return true
	case TrustADNever:
		return false
	}
	return isLoopback(server)
}

func isLoopback(server string) bool {
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		host = server
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// exchange sends one query to the servers in turn; it returns the first usable response,
// the server that gave it, whether TCP was used, and the number of exchanges made.
func (c *Client) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, string, bool, int, error) {
	if len(c.Servers) == 0 {
		return nil, "", false, 0, fmt.Errorf("%w: no name servers configured", ErrTimeout)
	}
	size := c.UDPSize
	if size == 0 {
		size = 1232
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = true
	q.AuthenticatedData = true
	q.SetEdns0(size, true)
	var errs []error
	n := 0
	var last *dns.Msg
	var lastServer string
	var lastTCP bool
	for _, server := range c.Servers {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		resp, tcp, k, err := c.exchangeOne(ctx, q, server, size, timeout)
		n += k
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", server, err))
			continue
		}
		if !questionMatches(resp, name, qtype) {
			errs = append(errs, fmt.Errorf("%s: %w: question section does not match", server, ErrMalformedReply))
			continue
		}
		last, lastServer, lastTCP = resp, server, tcp
		if resp.Rcode == dns.RcodeServerFailure || resp.Rcode == dns.RcodeRefused {
			continue // try the next server, as the stub resolver does
		}
		return resp, server, tcp, n, nil
	}
	if last != nil {
		return last, lastServer, lastTCP, n, nil
	}
	return nil, "", false, n, errors.Join(append([]error{ErrTimeout}, errs...)...)
}

func (c *Client) exchangeOne(ctx context.Context, q *dns.Msg, server string, size uint16, timeout time.Duration) (*dns.Msg, bool, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	udp := &dns.Client{Net: "udp", UDPSize: size, Timeout: timeout}
	var resp *dns.Msg
	var err error
	if isLoopback(server) {
		co := c.idle.get(server)
		if co == nil {
			co, err = udp.DialContext(ctx, server)
		}
		if err == nil {
			resp, _, err = udp.ExchangeWithConnContext(ctx, q, co)
			if err == nil {
				c.idle.put(server, co)
			} else {
				co.Close()
			}
		}
	} else {
		resp, _, err = udp.ExchangeContext(ctx, q, server)
	}
	if err == nil && resp != nil && !resp.Truncated {
		return resp, false, 1, nil
	}
	if err != nil && (resp == nil || !resp.Truncated) {
		if ctx.Err() != nil {
			return nil, false, 1, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
		return nil, false, 1, err
	}
	tcp := &dns.Client{Net: "tcp", Timeout: timeout}
	resp, _, err = tcp.ExchangeContext(ctx, q, server)
	if err != nil {
		if ctx.Err() != nil {
			return nil, true, 2, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
		return nil, true, 2, fmt.Errorf("%w: TCP retry after truncation: %w", ErrMalformedReply, err)
	}
	if resp.Truncated {
		return nil, true, 2, fmt.Errorf("%w: truncated TCP response", ErrMalformedReply)
	}
	return resp, true, 2, nil
}

func questionMatches(m *dns.Msg, name string, qtype uint16) bool {
	return m != nil && len(m.Question) == 1 && m.Question[0].Qtype == qtype &&
		strings.EqualFold(m.Question[0].Name, name)
}
