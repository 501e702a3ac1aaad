package dane

import (
	"context"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func tlsaLine(owner string, r Record) string {
	return owner + " 300 IN TLSA " + r.String()
}

func TestLookupTLSA(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	r311 := rec(3, 1, 1, leaf)
	ctx := context.Background()
	at := tlsaLine("_25._tcp.mx.example.com.", r311)
	cases := []struct {
		name     string
		zone     []string
		prep     func(r *dnssec.MockResolver) // more than records, or nil
		host     dnssec.Host
		force    bool
		found    bool
		skipped  bool
		base     string
		queries  []string
		err      bool
		warnings []string
	}{
		{"§6.2 secure host: TLSA at _25._tcp.<host>", []string{at}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "mx.example.com", Secure: true}, false, true, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§9 vector 61: insecure host: no TLSA lookup", []string{at}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "mx.example.com", Secure: false}, false, false, true, "",
			nil, false, nil},
		{"§6.2 smtp_tls_force_insecure_host_tlsa_lookup = yes queries anyway", []string{at}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "mx.example.com", Secure: false}, true, true, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 CNAME'd host: expanded name first", []string{tlsaLine("_25._tcp.real.example.net.", r311)}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "real.example.net", Secure: true}, false, true, false, "real.example.net",
			[]string{"_25._tcp.real.example.net. TLSA"}, false, nil},
		{"§6.2 CNAME'd host: nothing at the target, then the original name", []string{at}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "real.example.net", Secure: true}, false, true, false, "mx.example.com",
			[]string{"_25._tcp.real.example.net. TLSA", "_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 an error on the first query is final", []string{at},
			func(r *dnssec.MockResolver) { r.Fail("_25._tcp.real.example.net", dns.TypeTLSA, dnssec.ErrServFail) },
			dnssec.Host{QName: "mx.example.com", RName: "real.example.net", Secure: true}, false, false, false, "",
			[]string{"_25._tcp.real.example.net. TLSA"}, true,
			[]string{"DANE TLSA lookup problem: Host or domain name not found. Name service error for name=_25._tcp.real.example.net type=TLSA: Host not found, try again"}},
		{"§6.2 insecure address but validated CNAME: only the original name",
			[]string{"mx.example.com. 300 IN CNAME real.example.net.", at, tlsaLine("_25._tcp.real.example.net.", r311)}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "real.example.net", Secure: false}, false, true, false, "mx.example.com",
			[]string{"mx.example.com. CNAME", "_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 insecure address, CNAME gone: DNSSEC status lookup error", []string{"real.example.net. 300 IN A 192.0.2.1"}, nil,
			dnssec.Host{QName: "mx.example.com", RName: "real.example.net", Secure: false}, false, false, false, "",
			[]string{"mx.example.com. CNAME"}, true, []string{"DNSSEC status lookup error for mx.example.com: no longer a CNAME"}},
		{"§6.2 unvalidated TLSA answer counts as no records", []string{at},
			func(r *dnssec.MockResolver) { r.SetSecurity("_25._tcp.mx.example.com.", dnssec.Insecure) },
			dnssec.Host{QName: "mx.example.com", RName: "mx.example.com", Secure: true}, false, false, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 NXDOMAIN is no records", nil, nil,
			dnssec.Host{QName: "mx.example.com", RName: "mx.example.com", Secure: true}, false, false, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := new(dnssec.MockResolver).MustAdd(c.zone...)
			if c.prep != nil {
				c.prep(f)
			}
			res, err := LookupTLSA(ctx, f, TLSAQuery{Host: c.host, Port: 25, ForceInsecure: c.force})
			require.Equal(t, c.err, err != nil, "err = %v", err)
			require.Equal(t, c.queries, f.Queries())
			if c.warnings != nil {
				require.Equal(t, c.warnings, res.Warnings)
			}
			if err != nil {
				var te *TLSAError
				require.ErrorAs(t, err, &te)
				require.ErrorIs(t, err, ErrTLSALookup)
				require.Equal(t, "TLSA lookup error for mx.example.com:25", te.Reason())
				return
			}
			assert.Equal(t, c.found, res.Found(), "found")
			assert.Equal(t, c.skipped, res.Skipped, "skipped")
			if c.base != "" {
				assert.Equal(t, c.base, res.BaseDomain, "base domain")
			}
			assert.NotEmpty(t, res.Why)
		})
	}
}

// TestTLSALookupRoundTrips: the TLSA path adds at most one query per name beyond the MX and
// address lookups Postfix makes anyway.
func TestTLSALookupRoundTrips(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	f := new(dnssec.MockResolver).MustAdd(
		"example.com. 300 IN MX 10 mx.example.com.",
		"mx.example.com. 300 IN A 192.0.2.10",
		tlsaLine("_25._tcp.mx.example.com.", rec(3, 1, 1, leaf)))
	ctx := context.Background()
	mx, err := dnssec.LookupMX(ctx, f, "example.com")
	require.NoError(t, err)
	h, err := dnssec.LookupHost(ctx, f, mx.Hosts[0].Name)
	require.NoError(t, err)
	before := len(f.Queries())
	_, err = LookupTLSA(ctx, f, TLSAQuery{Host: *h, Port: 25})
	require.NoError(t, err)
	require.Len(t, f.Queries()[before:], 1, "the TLSA path makes one lookup")
	// CNAME'd host with records at the target: one query.
	f.MustAdd("alias.example.com. 300 IN CNAME mx.example.com.")
	h2, err := dnssec.LookupHost(ctx, f, "alias.example.com")
	require.NoError(t, err)
	before = len(f.Queries())
	_, err = LookupTLSA(ctx, f, TLSAQuery{Host: *h2, Port: 25})
	require.NoError(t, err)
	require.Len(t, f.Queries()[before:], 1, "CNAME'd host with records at the target")
}

// TestLookupTLSABogus: a bogus TLSA RRset is a lookup error (§9 vector 63), not "no records".
func TestLookupTLSABogus(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	f := new(dnssec.MockResolver).MustAdd(tlsaLine("_25._tcp.mx.example.com.", rec(3, 1, 1, leaf)))
	f.SetSecurity("_25._tcp.mx.example.com", dnssec.Bogus)
	res, err := LookupTLSA(context.Background(), f, TLSAQuery{Host: dnssec.Host{QName: "mx.example.com", Secure: true}, Port: 25})
	require.ErrorIs(t, err, dnssec.ErrServFail)
	require.ErrorIs(t, err, ErrTLSALookup)
	require.False(t, res.Found())
}
