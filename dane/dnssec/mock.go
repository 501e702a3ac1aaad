package dnssec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Security is the DNSSEC status of a zone, as a validating resolver finds it.
type Security int

const (
	// Secure is a signed zone with a chain of trust from the resolver's trust anchor: answers
	// carry the AD bit (Answer.Authentic). It is a MockResolver's default.
	Secure Security = iota
	// Insecure is a zone proven to be unsigned (its delegation has no DS record): answers
	// come without the AD bit.
	Insecure
	// Bogus is a zone whose signatures do not validate (expired signatures, a DS that names
	// no key): a validating resolver answers SERVFAIL and hands out no data at all.
	Bogus
)

// String returns "secure", "insecure" or "bogus".
func (s Security) String() string {
	switch s {
	case Secure:
		return "secure"
	case Insecure:
		return "insecure"
	case Bogus:
		return "bogus"
	}
	return fmt.Sprintf("Security(%d)", int(s))
}

// MockResolver is an in-memory Resolver for the tests of code that makes DNSSEC-aware
// lookups: it answers from records it was given, as a validating recursive resolver in front
// of them would. The zero value is ready to use and knows no names: every lookup is a
// validated NXDOMAIN. A MockResolver is safe for concurrent use; it must not be copied after
// first use.
//
// Records are kept by owner name and type (Add, AddRR); names compare without regard to case.
// A CNAME makes its owner an alias: lookups of any other type follow it, and each step is
// reported as a Hop; a lookup of type CNAME returns the CNAME record itself. When the name
// reached has no records of the type asked, the answer is NODATA (ErrNoData) if the name
// exists (it owns other records, or names below it do: an empty non-terminal) and NXDOMAIN
// (ErrNXDomain) otherwise.
//
// DNSSEC status is a property of zones (SetSecurity): a name takes the status of the closest
// enclosing name that was given one, and is Secure when none was. Insecure names make
// answers (and the CNAME hops they own) unauthenticated; Bogus names make lookups fail with
// ErrServFail. Fail forces a failure for one name.
//
// Every lookup answers at once in a single exchange; Queries lists the lookups made.
type MockResolver struct {
	mu       sync.Mutex
	rrs      map[mockKey][]dns.RR // the records of a name and type (never CNAME)
	cnames   map[string]*dns.CNAME
	security map[string]Security
	fails    map[mockKey]error // Type 0 (dns.TypeNone): every type
	queries  []string
}

// mockKey is a lower-case fully qualified name and a type.
type mockKey struct {
	name  string
	qtype uint16
}

func mockName(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// Add parses zone-file lines ("mx.example.com. 300 IN A 192.0.2.10"; owners should be
// absolute) and adds their records. Nothing is added when a line does not parse.
func (m *MockResolver) Add(lines ...string) error {
	rrs := make([]dns.RR, 0, len(lines))
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			return fmt.Errorf("dnssec: mock record %q: %w", l, err)
		}
		if rr == nil {
			return fmt.Errorf("dnssec: mock record %q: no record", l)
		}
		rrs = append(rrs, rr)
	}
	m.AddRR(rrs...)
	return nil
}

// MustAdd is Add for literal records: it panics when a line does not parse, and returns m so
// that a MockResolver can be built in one expression.
func (m *MockResolver) MustAdd(lines ...string) *MockResolver {
	if err := m.Add(lines...); err != nil {
		panic(err)
	}
	return m
}

// AddRR adds records. A CNAME replaces any earlier CNAME of the same owner.
func (m *MockResolver) AddRR(rrs ...dns.RR) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		h := rr.Header()
		owner := mockName(h.Name)
		if cn, ok := rr.(*dns.CNAME); ok {
			if m.cnames == nil {
				m.cnames = map[string]*dns.CNAME{}
			}
			m.cnames[owner] = cn
			continue
		}
		if m.rrs == nil {
			m.rrs = map[mockKey][]dns.RR{}
		}
		k := mockKey{owner, h.Rrtype}
		m.rrs[k] = append(m.rrs[k], rr)
	}
}

// SetSecurity gives zone and every name below it the status s, except names below a longer
// name with a status of its own. SetSecurity(".", Insecure) makes every other name insecure.
func (m *MockResolver) SetSecurity(zone string, s Security) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.security == nil {
		m.security = map[string]Security{}
	}
	m.security[mockName(zone)] = s
}

// Fail makes every lookup of name for qtype (dns.TypeNone, 0, for every type) fail with err,
// also when name is reached through a CNAME. err is usually a sentinel: ErrServFail (an
// unreachable or broken authoritative server), ErrNXDomain, ErrNoData, ErrRefused or
// ErrTimeout (returned at once, as if no server had answered). The lookup returns a
// *LookupError wrapping err; for NXDOMAIN and NODATA its Answer too, as Client does. A nil
// err removes the failure.
func (m *MockResolver) Fail(name string, qtype uint16, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := mockKey{mockName(name), qtype}
	if err == nil {
		delete(m.fails, k)
		return
	}
	if m.fails == nil {
		m.fails = map[mockKey]error{}
	}
	m.fails[k] = err
}

// Queries returns the lookups made so far, in order, as "<name>. <TYPE>" with the name in
// lower case ("_25._tcp.mx.example.com. TLSA").
func (m *MockResolver) Queries() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.queries...)
}

// Lookup implements Resolver.
func (m *MockResolver) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fq := dns.Fqdn(name)
	m.queries = append(m.queries, strings.ToLower(fq)+" "+dns.TypeToString[qtype])
	if err := CheckName(name); err != nil {
		return nil, &LookupError{Name: fq, Type: qtype, Rcode: -1, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &LookupError{Name: fq, Type: qtype, Rcode: -1, Err: fmt.Errorf("%w: %w", ErrTimeout, err)}
	}
	ans := &Answer{QName: fq, QType: qtype, Name: fq, Authentic: true, Rcode: dns.RcodeSuccess, Exchanges: 1}
	cur := fq
	seen := map[string]bool{mockName(fq): true}
	for {
		lc := mockName(cur)
		if err := m.failure(lc, qtype); err != nil {
			return m.failed(ans, cur, err)
		}
		sec := m.securityOf(lc)
		if sec == Bogus {
			return nil, &LookupError{Name: cur, Type: qtype, Rcode: dns.RcodeServerFailure, Err: ErrServFail}
		}
		ans.Authentic = ans.Authentic && sec == Secure
		cn, alias := m.cnames[lc]
		if alias && qtype == dns.TypeCNAME {
			ans.Records = []dns.RR{dns.Copy(cn)}
			return ans, nil
		}
		if !alias || qtype == dns.TypeCNAME {
			break
		}
		if len(ans.CNAMEs) >= maxHops {
			return nil, &LookupError{Name: fq, Type: qtype, Rcode: dns.RcodeSuccess, Err: ErrCNAMEChain}
		}
		if seen[mockName(cn.Target)] {
			return nil, &LookupError{Name: fq, Type: qtype, Rcode: dns.RcodeSuccess, Err: fmt.Errorf("%w: %s -> %s", ErrCNAMELoop, cur, cn.Target)}
		}
		seen[mockName(cn.Target)] = true
		ans.CNAMEs = append(ans.CNAMEs, Hop{Owner: cur, Target: cn.Target, Authentic: sec == Secure})
		cur = cn.Target
		ans.Name = cur
	}
	lc := mockName(cur)
	for _, rr := range m.rrs[mockKey{lc, qtype}] {
		ans.Records = append(ans.Records, dns.Copy(rr))
	}
	if len(ans.Records) > 0 {
		return ans, nil
	}
	if m.exists(lc) {
		return ans, &LookupError{Name: cur, Type: qtype, Rcode: dns.RcodeSuccess, Err: ErrNoData, Authentic: ans.Authentic}
	}
	ans.Rcode = dns.RcodeNameError
	return ans, &LookupError{Name: cur, Type: qtype, Rcode: dns.RcodeNameError, Err: ErrNXDomain, Authentic: ans.Authentic}
}

// failure is the forced failure of name for qtype, or nil.
func (m *MockResolver) failure(name string, qtype uint16) error {
	if err, ok := m.fails[mockKey{name, qtype}]; ok {
		return err
	}
	return m.fails[mockKey{name, dns.TypeNone}]
}

// failed turns a forced failure at name into what Client would return: the answer so far
// with NXDOMAIN and NODATA, no answer otherwise.
func (m *MockResolver) failed(ans *Answer, name string, err error) (*Answer, error) {
	le := &LookupError{Name: name, Type: ans.QType, Rcode: -1, Err: err}
	switch {
	case errors.Is(err, ErrNXDomain):
		le.Rcode = dns.RcodeNameError
	case errors.Is(err, ErrNoData):
		le.Rcode = dns.RcodeSuccess
	case errors.Is(err, ErrServFail):
		le.Rcode = dns.RcodeServerFailure
		return nil, le
	case errors.Is(err, ErrRefused):
		le.Rcode = dns.RcodeRefused
		return nil, le
	default:
		return nil, le
	}
	ans.Name, ans.Rcode = name, le.Rcode
	ans.Authentic = ans.Authentic && m.securityOf(mockName(name)) == Secure
	le.Authentic = ans.Authentic
	return ans, le
}

// securityOf is the status of the closest enclosing name that has one.
func (m *MockResolver) securityOf(name string) Security {
	for n := name; ; {
		if s, ok := m.security[n]; ok {
			return s
		}
		if n == "." {
			return Secure
		}
		_, n, _ = strings.Cut(n, ".")
		if n == "" {
			n = "."
		}
	}
}

// exists reports whether name owns records or a CNAME, or is an empty non-terminal.
func (m *MockResolver) exists(name string) bool {
	below := func(owner string) bool {
		return owner == name || name == "." || strings.HasSuffix(owner, "."+name)
	}
	for k := range m.rrs {
		if below(k.name) {
			return true
		}
	}
	for owner := range m.cnames {
		if below(owner) {
			return true
		}
	}
	return false
}
