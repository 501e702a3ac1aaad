package dane

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// TestIntegrationRealDNS runs the whole DANE path (MX, address and TLSA lookups, Decide,
// Verify) against a real nsd serving a signed zone and a real validating unbound (dnskit). The
// resolver itself is tested against the same servers in package dnssec.
func TestIntegrationRealDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.test"}})
	realLeaf := h.Leaf(t, pki.Spec{DNS: []string{"real.test"}})
	other := pki.Must(t, pki.Spec{CN: []string{"other"}}, nil)
	zone := []string{
		"example IN MX 10 mx.test.",
		"mx IN A 127.0.0.10",
		"_25._tcp.mx IN TLSA " + rec(3, 1, 1, leaf).String(),
		"mismatch IN MX 10 mx2.test.",
		"mx2 IN A 127.0.0.11",
		"_25._tcp.mx2 IN TLSA " + rec(3, 1, 1, other).String(),
		"ta IN MX 10 mx3.test.",
		"mx3 IN A 127.0.0.12",
		"_25._tcp.mx3 IN TLSA " + rec(2, 1, 1, h.Inter).String(),
		"aliased IN MX 10 alias.test.",
		"alias IN CNAME real.test.",
		"real IN A 127.0.0.13",
		"_25._tcp.real IN TLSA " + rec(3, 1, 1, realLeaf).String(),
		"notlsa IN MX 10 mx4.test.",
		"mx4 IN A 127.0.0.14",
		"servfail IN MX 10 mx5.test.",
		"mx5 IN A 127.0.0.15",
		"_25._tcp.mx5 IN CNAME _25._tcp.mx.bogus.test.",
		"insecure.test. IN MX 10 mx.insecure.test.",
		"mx.insecure.test. IN A 127.0.0.16",
		"_25._tcp.mx.insecure.test. IN TLSA " + rec(3, 1, 1, leaf).String(),
		"bogus.test. IN MX 10 mx.bogus.test.",
		"mx.bogus.test. IN A 127.0.0.17",
		"_25._tcp.mx.bogus.test. IN TLSA " + rec(3, 1, 1, leaf).String(),
	}
	srv := dnskit.Start(t, dnskit.Config{Records: zone})
	client := &dnssec.Client{Servers: []string{srv.Resolver}, Timeout: 3 * time.Second}

	type outcome struct {
		mxErr    error
		decision Decision
		result   *Result
	}
	evaluate := func(t *testing.T, r dnssec.Resolver, domain string, chain []*pki.Cert, daneOnly bool, policy ...string) outcome {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mx, err := dnssec.LookupMX(ctx, r, domain)
		if err != nil {
			return outcome{mxErr: err}
		}
		host, err := dnssec.LookupHost(ctx, r, mx.Hosts[0].Name)
		if err != nil {
			t.Fatalf("address lookup: %v", err)
		}
		pol := InsecureMXMay
		if len(policy) > 0 {
			pol = policy[0]
		}
		in := DecideInput{DaneOnly: daneOnly, HaveMX: true, MXSecure: mx.Authentic, InsecureMXPolicy: pol,
			Host: host.QName, Port: 25, Options: Options{NamAddrPort: fmt.Sprintf("%s[%s]:25", trimDot(host.QName), host.Addrs[0])}}
		d := Decide(in)
		if d.Outcome != OutcomeNeedTLSA {
			return outcome{decision: d}
		}
		in.TLSA, in.TLSAErr = LookupTLSA(ctx, r, TLSAQuery{Host: *host, Port: 25})
		d = Decide(in)
		o := outcome{decision: d}
		if d.Outcome == OutcomeDane || d.Outcome == OutcomeHalfDane {
			o.result = d.Records.Verify(chainOf(chain...), VerifyOptions{Names: MatchNames(in.TLSA.BaseDomain, mx), DaneOnly: daneOnly})
		}
		return o
	}

	cases := []struct {
		name     string
		domain   string
		chain    []*pki.Cert
		daneOnly bool
		outcome  Outcome
		reason   string
		verified bool
		mxErr    error
	}{
		{"§9 vector 57: signed MX + TLSA 3 1 1 match -> Verified", "example.test", []*pki.Cert{leaf, h.Inter}, false, OutcomeDane, "", true, nil},
		{"§9 vector 58: signed MX + TLSA mismatch -> num=65", "mismatch.test", []*pki.Cert{leaf, h.Inter}, false, OutcomeDane, "", false, nil},
		{"§9 vector 66: 2 1 1 for the intermediate, leaf SAN not among base domain and nexthop -> hostname mismatch",
			"ta.test", []*pki.Cert{leaf, h.Inter}, false, OutcomeDane, "", false, nil},
		{"§6.2 CNAME'd MX host with TLSA at the target", "aliased.test", []*pki.Cert{realLeaf, h.Inter}, false, OutcomeDane, "", true, nil},
		{"§9 vector 59: secure zone without TLSA -> may", "notlsa.test", nil, false, OutcomeMay, "no TLSA records found", false, nil},
		{"§9 vector 60: dane-only without TLSA -> defer", "notlsa.test", nil, true, OutcomeDefer, "no TLSA records found", false, nil},
		{"§9 vector 63: TLSA SERVFAIL -> TLSA lookup error, deferred even at dane", "servfail.test", nil, false, OutcomeDefer, "TLSA lookup error for mx5.test:25", false, nil},
		{"§9 vector 61/67: insecure zone, policy may -> non DNSSEC destination, may", "insecure.test", nil, false, OutcomeMay, "non DNSSEC destination", false, nil},
		{"§9 vector 62: bogus zone -> MX lookup SERVFAIL", "bogus.test", nil, false, 0, "", false, dnssec.ErrServFail},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := evaluate(t, client, c.domain, c.chain, c.daneOnly)
			if c.mxErr != nil {
				if !errors.Is(o.mxErr, c.mxErr) {
					t.Fatalf("MX error %v, want %v", o.mxErr, c.mxErr)
				}
				return
			}
			if o.mxErr != nil {
				t.Fatalf("MX lookup: %v", o.mxErr)
			}
			if o.decision.Outcome != c.outcome || o.decision.Reason != c.reason {
				t.Fatalf("decision %+v", o.decision)
			}
			if o.result != nil && o.result.Verified != c.verified {
				t.Fatalf("verified %v: %v", o.result.Verified, o.result.Err)
			}
		})
	}

	t.Run("§9 vector 66 via DNS: 2 1 1 intermediate with the right leaf name verifies at depth 1", func(t *testing.T) {
		mx3leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx3.test"}})
		o := evaluate(t, client, "ta.test", []*pki.Cert{mx3leaf, h.Inter}, false)
		if o.result == nil || !o.result.Verified || o.result.Match.Depth != 1 {
			t.Fatalf("%+v", o.result)
		}
	})

	t.Run("§9 vector 61: insecure zone with a useless TLSA, policy dane: no TLSA lookup, may", func(t *testing.T) {
		o := evaluate(t, client, "insecure.test", nil, false, InsecureMXDane)
		if o.decision.Outcome != OutcomeMay || o.decision.Reason != "no TLSA records found" {
			t.Fatalf("%+v", o.decision)
		}
	})

	t.Run("§9 vector 58: the mismatch is num=65", func(t *testing.T) {
		o := evaluate(t, client, "mismatch.test", []*pki.Cert{leaf, h.Inter}, false)
		if o.result == nil || o.result.Err == nil || o.result.Err.Num != ErrNumDANENoMatch {
			t.Fatalf("%+v", o.result)
		}
	})

	t.Run("counting resolver: TLSA path costs one exchange per name queried", func(t *testing.T) {
		ctx := context.Background()
		cr := &countingResolver{r: client}
		host, err := dnssec.LookupHost(ctx, cr, "alias.test")
		if err != nil {
			t.Fatal(err)
		}
		cr.lookups, cr.exchanges = 0, 0
		res, err := LookupTLSA(ctx, cr, TLSAQuery{Host: *host, Port: 25})
		if err != nil || !res.Found() {
			t.Fatalf("%+v %v", res, err)
		}
		if cr.lookups != 1 || cr.exchanges != 1 {
			t.Fatalf("records at the CNAME target: %d lookups, %d exchanges", cr.lookups, cr.exchanges)
		}
		host, err = dnssec.LookupHost(ctx, cr, "mx4.test")
		if err != nil {
			t.Fatal(err)
		}
		cr.lookups, cr.exchanges = 0, 0
		if _, err := LookupTLSA(ctx, cr, TLSAQuery{Host: *host, Port: 25}); err != nil {
			t.Fatal(err)
		}
		if cr.lookups != 1 || cr.exchanges != 1 {
			t.Fatalf("no records: %d lookups, %d exchanges", cr.lookups, cr.exchanges)
		}
	})

	t.Run("AD from a loopback unbound is believed; TrustADNever makes everything insecure", func(t *testing.T) {
		o := evaluate(t, &dnssec.Client{Servers: []string{srv.Resolver}, TrustAD: dnssec.TrustADNever}, "example.test", nil, false)
		if o.decision.Outcome != OutcomeMay || o.decision.Reason != "non DNSSEC destination" {
			t.Fatalf("%+v", o.decision)
		}
	})
}

// countingResolver counts lookups and the DNS exchanges they needed.
type countingResolver struct {
	r                  dnssec.Resolver
	lookups, exchanges int
}

func (c *countingResolver) Lookup(ctx context.Context, name string, qtype uint16) (*dnssec.Answer, error) {
	c.lookups++
	ans, err := c.r.Lookup(ctx, name, qtype)
	if ans != nil {
		c.exchanges += ans.Exchanges
	}
	return ans, err
}
