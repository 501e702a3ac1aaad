package dane

import (
	"context"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// fakeResolver is an in-process Resolver for unit tests: records per name and type, CNAMEs,
// per-name authenticity and failures, and a count of lookups.
type fakeResolver struct {
	mu       sync.Mutex
	rrs      map[string][]dns.RR // key: lower(name)|type
	cnames   map[string]string
	insecure map[string]bool  // names whose answers are not authentic
	fail     map[string]error // key: lower(name)|type -> sentinel
	calls    []string
}

func newFake() *fakeResolver {
	return &fakeResolver{rrs: map[string][]dns.RR{}, cnames: map[string]string{}, insecure: map[string]bool{}, fail: map[string]error{}}
}

func key(name string, t uint16) string {
	return strings.ToLower(dns.Fqdn(name)) + "|" + dns.TypeToString[t]
}

// add parses zone-file lines ("name TTL IN TYPE data").
func (f *fakeResolver) add(lines ...string) *fakeResolver {
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			panic(err)
		}
		h := rr.Header()
		if cn, ok := rr.(*dns.CNAME); ok {
			f.cnames[strings.ToLower(h.Name)] = cn.Target
			continue
		}
		f.rrs[key(h.Name, h.Rrtype)] = append(f.rrs[key(h.Name, h.Rrtype)], rr)
	}
	return f
}

func (f *fakeResolver) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.ToLower(dns.Fqdn(name))+" "+dns.TypeToString[qtype])
	if err := CheckName(name); err != nil {
		return nil, &LookupError{Name: name, Type: qtype, Rcode: -1, Err: err}
	}
	cur := dns.Fqdn(name)
	ans := &Answer{QName: cur, QType: qtype, Authentic: true, Exchanges: 1}
	seen := map[string]bool{}
	for {
		lc := strings.ToLower(cur)
		if err, ok := f.fail[key(cur, qtype)]; ok {
			return nil, &LookupError{Name: cur, Type: qtype, Rcode: dns.RcodeServerFailure, Err: err}
		}
		ans.Authentic = ans.Authentic && !f.insecure[lc]
		if qtype == dns.TypeCNAME {
			if t, ok := f.cnames[lc]; ok {
				ans.Name = cur
				ans.Records = []dns.RR{&dns.CNAME{Hdr: dns.RR_Header{Name: cur, Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: t}}
				return ans, nil
			}
		}
		t, ok := f.cnames[lc]
		if !ok || qtype == dns.TypeCNAME {
			break
		}
		if seen[strings.ToLower(t)] || len(seen) > maxHops {
			return nil, &LookupError{Name: name, Type: qtype, Err: ErrCNAMELoop}
		}
		seen[strings.ToLower(t)] = true
		ans.CNAMEs = append(ans.CNAMEs, Hop{Owner: cur, Target: t, Authentic: !f.insecure[lc]})
		cur = t
	}
	ans.Name = cur
	ans.Records = f.rrs[key(cur, qtype)]
	if len(ans.Records) > 0 {
		return ans, nil
	}
	for k := range f.rrs {
		if strings.HasPrefix(k, strings.ToLower(cur)+"|") {
			return ans, &LookupError{Name: cur, Type: qtype, Err: ErrNoData, Authentic: ans.Authentic}
		}
	}
	return ans, &LookupError{Name: cur, Type: qtype, Rcode: dns.RcodeNameError, Err: ErrNXDomain, Authentic: ans.Authentic}
}
