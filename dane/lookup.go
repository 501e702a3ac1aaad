package dane

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/postfixtls/postfixtls/dane/dnssec"
)

// TLSAQuery is what LookupTLSA needs: the host as its address lookup found it, and the port.
type TLSAQuery struct {
	Host dnssec.Host // the address lookup of the server
	Port int         // the TCP port connected to (25, 587, ...)
	// ForceInsecure is smtp_tls_force_insecure_host_tlsa_lookup = yes: look for TLSA records
	// even when the address lookup was not validated.
	ForceInsecure bool
}

// TLSAStep is one TLSA query made.
type TLSAStep struct {
	QName     string
	Found     int  // records returned
	Authentic bool // answer validated
	Err       error
}

// TLSAResult is the outcome of §6.2's TLSA lookup for one host and port.
type TLSAResult struct {
	// Skipped is true when no TLSA query was made because the host is not secure (Postfix then
	// behaves as if no records were found).
	Skipped bool
	// BaseDomain is the host name at which the TLSA records were looked up last (the name in
	// "_port._tcp.<base>"): the SNI name and first DANE-TA reference name.
	BaseDomain string
	// QName is the TLSA query name used and RName the owner of the records found (they differ
	// when the TLSA name is an alias).
	QName, RName string
	// Records are the validated records; empty means "no TLSA records found".
	Records []Record
	// Steps lists the queries made, in order.
	Steps []TLSAStep
	// Warnings are the lines Postfix logs, without "warning: ".
	Warnings []string
	// Why explains the result in plain words.
	Why string
}

// Found reports whether validated records were found.
func (t *TLSAResult) Found() bool { return t != nil && len(t.Records) > 0 }

// ErrTLSALookup is wrapped by *TLSAError.
var ErrTLSALookup = errors.New("TLSA lookup error")

// TLSAError is §6.1 item 7: a TLSA lookup failed, so Postfix skips the host (deferring with
// DSN 4.7.5 when no host is left), at both dane and dane-only.
type TLSAError struct {
	Host string // the host whose TLSA lookup failed
	Port int    // its port
	Err  error  // the resolver error
}

// Error renders the reason and the resolver error.
func (e *TLSAError) Error() string { return e.Reason() + ": " + e.Err.Error() }

// Reason is Postfix's deferral reason "TLSA lookup error for <host>:<port>".
func (e *TLSAError) Reason() string {
	return fmt.Sprintf("TLSA lookup error for %s:%d", strings.TrimSuffix(e.Host, "."), e.Port)
}

// Unwrap returns ErrTLSALookup and the resolver error.
func (e *TLSAError) Unwrap() []error { return []error{ErrTLSALookup, e.Err} }

// LookupTLSA finds the TLSA records for a host as Postfix's tls_dane_resolve does (§6.2):
//   - an insecure address lookup means no TLSA query, unless q.ForceInsecure, or the host name is
//     a CNAME whose own CNAME record validates (then only the original name is queried);
//   - with a secure address lookup the CNAME-expanded name is queried first, then (if nothing
//     was found and the host is an alias) the original name; an error on the first query is
//     final;
//   - an answer that is not validated counts as no records; NXDOMAIN and NODATA too.
//
// A lookup error is returned as *TLSAError, with the result's Warnings filled in.
func LookupTLSA(ctx context.Context, r dnssec.Resolver, q TLSAQuery) (*TLSAResult, error) {
	qname, rname := dns.Fqdn(q.Host.QName), dns.Fqdn(q.Host.RName)
	if q.Host.RName == "" {
		rname = qname
	}
	iscname := !strings.EqualFold(qname, rname)
	res := &TLSAResult{}
	tlsaErr := func(err error) (*TLSAResult, error) {
		return res, &TLSAError{Host: qname, Port: q.Port, Err: err}
	}
	if !q.ForceInsecure && !q.Host.Secure {
		if !iscname {
			res.Skipped = true
			res.Why = "the address records of " + trimDot(qname) + " are not DNSSEC-validated: no TLSA lookup"
			return res, nil
		}
		ans, err := r.Lookup(ctx, qname, dns.TypeCNAME)
		switch {
		case err != nil && dnssec.IsNotFound(err):
			res.Warnings = append(res.Warnings, fmt.Sprintf("DNSSEC status lookup error for %s: no longer a CNAME", trimDot(qname)))
			return tlsaErr(err)
		case err != nil:
			res.Warnings = append(res.Warnings, fmt.Sprintf("DNSSEC status lookup error for %s: %v", trimDot(qname), err))
			return tlsaErr(err)
		case !ans.Authentic:
			res.Skipped = true
			res.Why = "neither the address records nor the CNAME of " + trimDot(qname) + " are DNSSEC-validated: no TLSA lookup"
			return res, nil
		}
	}
	try := func(host string) (bool, error) {
		name := QueryName(host, q.Port)
		res.BaseDomain, res.QName, res.RName = trimDot(host), name, name
		res.Records = nil
		ans, err := r.Lookup(ctx, name, dns.TypeTLSA)
		step := TLSAStep{QName: name, Err: err}
		if ans != nil {
			step.Authentic = ans.Authentic
			step.Found = len(ans.Records)
		}
		res.Steps = append(res.Steps, step)
		if err != nil {
			if dnssec.IsNotFound(err) {
				return false, nil
			}
			res.Warnings = append(res.Warnings, "DANE TLSA lookup problem: "+err.Error())
			return false, err
		}
		if !ans.Authentic {
			return false, nil
		}
		res.RName = ans.Name
		var bad []error
		for _, rr := range ans.Records {
			t, ok := rr.(*dns.TLSA)
			if !ok {
				continue
			}
			rec, err := RecordFromRR(t)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			res.Records = append(res.Records, rec)
		}
		if len(bad) > 0 && len(res.Records) == 0 {
			return false, fmt.Errorf("%w: %w", dnssec.ErrMalformedReply, errors.Join(bad...))
		}
		return len(res.Records) > 0, nil
	}
	if q.Host.Secure {
		found, err := try(rname)
		if err != nil {
			return tlsaErr(err)
		}
		if found || !iscname {
			res.Why = describeTLSA(res)
			return res, nil
		}
	}
	if _, err := try(qname); err != nil {
		return tlsaErr(err)
	}
	res.Why = describeTLSA(res)
	return res, nil
}

func describeTLSA(res *TLSAResult) string {
	if res.Found() {
		return fmt.Sprintf("%d validated TLSA record(s) at %s", len(res.Records), trimDot(res.RName))
	}
	last := res.Steps[len(res.Steps)-1]
	if last.Found > 0 && !last.Authentic {
		return "TLSA records at " + trimDot(last.QName) + " are not DNSSEC-validated: treated as no records"
	}
	return "no TLSA records at " + trimDot(last.QName)
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// MatchNames returns the reference names Postfix installs for DANE-TA name checks (dane_init
// in smtp_tls_policy.c): the TLSA base domain, then, when an MX RRset was used, the MX RRset
// owner (the nexthop domain's CNAME target) and the nexthop domain if they differ, or just the
// nexthop domain. mx may be nil ([host] nexthops and A/AAAA fallback).
func MatchNames(baseDomain string, mx *dnssec.MXResult) []string {
	names := []string{trimDot(baseDomain)}
	if mx == nil || mx.NoMX {
		return names
	}
	q, r := trimDot(mx.Domain), trimDot(mx.Owner)
	if r == "" || q == r { // strcmp, as Postfix compares them
		return append(names, q)
	}
	return append(names, r, q)
}
