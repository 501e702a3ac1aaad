package dnssec

import (
	"context"
	"errors"
	"net/netip"
	"sort"
	"sync"

	"github.com/miekg/dns"
)

// MXHost is one exchange of an MX RRset.
type MXHost struct {
	Preference uint16 // lower is preferred
	Name       string // the exchange's host name (fully qualified)
}

// MXResult is an MX lookup with its DNSSEC status.
type MXResult struct {
	// Domain is the nexthop domain asked (fully qualified); Owner is the MX RRset's owner,
	// which differs when Domain is a CNAME (Postfix's mx->qname and mx->rname).
	Domain, Owner string
	// Hosts are sorted by preference (stable for equal preferences).
	Hosts []MXHost
	// Authentic is true when the MX RRset (and any CNAME leading to it) was validated.
	Authentic bool
	// NoMX is true when the domain exists but has no MX records: Postfix then uses the
	// domain's own address records, and there is no MX RRset for DANE purposes.
	NoMX bool
	// NullMX is true for a single "0 ." record (RFC 7505): the domain accepts no mail.
	NullMX bool
	// CNAMEs is the alias chain from Domain to Owner.
	CNAMEs []Hop
}

// LookupMX looks up domain's MX RRset with DNSSEC. NODATA gives NoMX with a nil error; NXDOMAIN,
// SERVFAIL (for example a bogus zone) and other failures are returned as *LookupError.
func LookupMX(ctx context.Context, r Resolver, domain string) (*MXResult, error) {
	ans, err := r.Lookup(ctx, domain, dns.TypeMX)
	if err != nil {
		var le *LookupError
		if errors.As(err, &le) && errors.Is(err, ErrNoData) && ans != nil {
			return &MXResult{Domain: ans.QName, Owner: ans.Name, NoMX: true, Authentic: ans.Authentic, CNAMEs: ans.CNAMEs}, nil
		}
		return nil, err
	}
	res := &MXResult{Domain: ans.QName, Owner: ans.Name, Authentic: ans.Authentic, CNAMEs: ans.CNAMEs}
	for _, rr := range ans.Records {
		if mx, ok := rr.(*dns.MX); ok {
			res.Hosts = append(res.Hosts, MXHost{Preference: mx.Preference, Name: mx.Mx})
		}
	}
	sort.SliceStable(res.Hosts, func(i, j int) bool { return res.Hosts[i].Preference < res.Hosts[j].Preference })
	if len(res.Hosts) == 1 && res.Hosts[0].Name == "." {
		res.NullMX = true
	}
	return res, nil
}

// Host is a server's address lookup with its DNSSEC status: the input TLSA lookups need.
type Host struct {
	// QName is the name looked up (the MX exchange or [host]); RName the owner of the address
	// records (its CNAME target, or QName).
	QName, RName string
	// Addrs are the IPv4 addresses, then the IPv6 addresses, in answer order.
	Addrs []netip.Addr
	// Secure is true when the address records were validated (Postfix's dnssec_valid).
	Secure bool
	// CNAMEs is the alias chain from QName to RName.
	CNAMEs []Hop
}

// LookupHost asks for A and AAAA records of name with DNSSEC. The host is secure only when
// every answer with records was validated. It fails only when neither lookup answered, with
// the error Postfix reports (see LookupHostFamilies).
func LookupHost(ctx context.Context, r Resolver, name string) (*Host, error) {
	return LookupHostFamilies(ctx, r, name, Families{})
}

// ConcurrentResolver is a Resolver whose Lookup may be called from several goroutines at
// once, when Concurrent reports true; LookupHostFamilies then asks for A and AAAA together.
type ConcurrentResolver interface {
	Resolver
	Concurrent() bool
}

// Families says which address families a host lookup asks for, as Postfix's
// inet_protocols does: with "ipv4" alone smtp(8) never sends an AAAA query, so an AAAA
// failure cannot fail the host. The zero value asks for both.
type Families struct {
	NoIPv4, NoIPv6 bool
}

// LookupHostFamilies is LookupHost for the families f: a family left out is not queried.
// Asking for neither is an error.
func LookupHostFamilies(ctx context.Context, r Resolver, name string, f Families) (*Host, error) {
	var types []uint16
	if !f.NoIPv4 {
		types = append(types, dns.TypeA)
	}
	if !f.NoIPv6 {
		types = append(types, dns.TypeAAAA)
	}
	if len(types) == 0 {
		return nil, errors.New("dnssec: host lookup for no address family")
	}
	h := &Host{QName: dns.Fqdn(name), RName: dns.Fqdn(name), Secure: true}
	// dns_lookup_rv(): every type is asked; the result is the most preferred status of
	// them (OK over "try again" over "not found"), and a failure's text is that of the
	// last type with that status. So one family's answer makes the host usable whatever
	// the other family's lookup did (a SERVFAIL on AAAA does not hide the A records).
	var failure error
	failRank := -1
	found := false
	// Both questions are independent: a resolver that can take them at once
	// (ConcurrentResolver) gets them together; the answers are read in Postfix's order.
	type result struct {
		ans *Answer
		err error
	}
	results := make([]result, len(types))
	if cr, ok := r.(ConcurrentResolver); ok && cr.Concurrent() && len(types) > 1 {
		var wg sync.WaitGroup
		for i, t := range types[1:] {
			wg.Go(func() {
				ans, err := r.Lookup(ctx, name, t)
				results[i+1] = result{ans, err}
			})
		}
		ans, err := r.Lookup(ctx, name, types[0])
		results[0] = result{ans, err}
		wg.Wait()
	} else {
		for i, t := range types {
			ans, err := r.Lookup(ctx, name, t)
			results[i] = result{ans, err}
			if err != nil && ctx.Err() != nil {
				break
			}
		}
	}
	for _, res := range results {
		ans, err := res.ans, res.err
		if ans == nil && err == nil {
			break // not asked: the context ended
		}
		if err != nil {
			rank := 1 // try again (SERVFAIL, timeouts, bogus answers)
			if IsNotFound(err) {
				rank = 0
			}
			if ctx.Err() != nil {
				return nil, err
			}
			if rank >= failRank {
				failure, failRank = err, rank
			}
			continue
		}
		found = true
		h.RName, h.CNAMEs = ans.Name, ans.CNAMEs
		h.Secure = h.Secure && ans.Authentic
		for _, rr := range ans.Records {
			switch a := rr.(type) {
			case *dns.A:
				if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
					h.Addrs = append(h.Addrs, ip)
				}
			case *dns.AAAA:
				if ip, ok := netip.AddrFromSlice(a.AAAA); ok {
					h.Addrs = append(h.Addrs, ip)
				}
			}
		}
	}
	if !found {
		return nil, failure
	}
	return h, nil
}
