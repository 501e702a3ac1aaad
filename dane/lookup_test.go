package dane

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func tlsaLine(owner string, r Record) string {
	return owner + " 300 IN TLSA " + r.String()
}

func TestLookupTLSA(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	r311 := rec(3, 1, 1, leaf)
	ctx := context.Background()
	cases := []struct {
		name     string
		fake     func() *fakeResolver
		host     Host
		force    bool
		found    bool
		skipped  bool
		base     string
		queries  []string
		err      bool
		warnings []string
	}{
		{"§6.2 secure host: TLSA at _25._tcp.<host>",
			func() *fakeResolver { return newFake().add(tlsaLine("_25._tcp.mx.example.com.", r311)) },
			Host{QName: "mx.example.com", RName: "mx.example.com", Secure: true}, false, true, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§9 vector 61: insecure host: no TLSA lookup",
			func() *fakeResolver { return newFake().add(tlsaLine("_25._tcp.mx.example.com.", r311)) },
			Host{QName: "mx.example.com", RName: "mx.example.com", Secure: false}, false, false, true, "",
			nil, false, nil},
		{"§6.2 smtp_tls_force_insecure_host_tlsa_lookup = yes queries anyway",
			func() *fakeResolver { return newFake().add(tlsaLine("_25._tcp.mx.example.com.", r311)) },
			Host{QName: "mx.example.com", RName: "mx.example.com", Secure: false}, true, true, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 CNAME'd host: expanded name first",
			func() *fakeResolver { return newFake().add(tlsaLine("_25._tcp.real.example.net.", r311)) },
			Host{QName: "mx.example.com", RName: "real.example.net", Secure: true}, false, true, false, "real.example.net",
			[]string{"_25._tcp.real.example.net. TLSA"}, false, nil},
		{"§6.2 CNAME'd host: nothing at the target, then the original name",
			func() *fakeResolver { return newFake().add(tlsaLine("_25._tcp.mx.example.com.", r311)) },
			Host{QName: "mx.example.com", RName: "real.example.net", Secure: true}, false, true, false, "mx.example.com",
			[]string{"_25._tcp.real.example.net. TLSA", "_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 an error on the first query is final",
			func() *fakeResolver {
				f := newFake().add(tlsaLine("_25._tcp.mx.example.com.", r311))
				f.fail[key("_25._tcp.real.example.net", dns.TypeTLSA)] = ErrServFail
				return f
			},
			Host{QName: "mx.example.com", RName: "real.example.net", Secure: true}, false, false, false, "",
			[]string{"_25._tcp.real.example.net. TLSA"}, true,
			[]string{"DANE TLSA lookup problem: Host or domain name not found. Name service error for name=_25._tcp.real.example.net type=TLSA: Host not found, try again"}},
		{"§6.2 insecure address but validated CNAME: only the original name",
			func() *fakeResolver {
				f := newFake().add("mx.example.com. 300 IN CNAME real.example.net.", tlsaLine("_25._tcp.mx.example.com.", r311),
					tlsaLine("_25._tcp.real.example.net.", r311))
				return f
			},
			Host{QName: "mx.example.com", RName: "real.example.net", Secure: false}, false, true, false, "mx.example.com",
			[]string{"mx.example.com. CNAME", "_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 insecure address, CNAME gone: DNSSEC status lookup error",
			func() *fakeResolver { return newFake().add("real.example.net. 300 IN A 192.0.2.1") },
			Host{QName: "mx.example.com", RName: "real.example.net", Secure: false}, false, false, false, "",
			[]string{"mx.example.com. CNAME"}, true, []string{"DNSSEC status lookup error for mx.example.com: no longer a CNAME"}},
		{"§6.2 unvalidated TLSA answer counts as no records",
			func() *fakeResolver {
				f := newFake().add(tlsaLine("_25._tcp.mx.example.com.", r311))
				f.insecure["_25._tcp.mx.example.com."] = true
				return f
			},
			Host{QName: "mx.example.com", RName: "mx.example.com", Secure: true}, false, false, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
		{"§6.2 NXDOMAIN is no records",
			func() *fakeResolver { return newFake() },
			Host{QName: "mx.example.com", RName: "mx.example.com", Secure: true}, false, false, false, "mx.example.com",
			[]string{"_25._tcp.mx.example.com. TLSA"}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.fake()
			res, err := LookupTLSA(ctx, f, TLSAQuery{Host: c.host, Port: 25, ForceInsecure: c.force})
			if c.err != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(f.calls, c.queries) {
				t.Fatalf("queries %q, want %q", f.calls, c.queries)
			}
			if c.warnings != nil && !slices.Equal(res.Warnings, c.warnings) {
				t.Fatalf("warnings %q", res.Warnings)
			}
			if err != nil {
				var te *TLSAError
				if !errors.As(err, &te) || !errors.Is(err, ErrTLSALookup) || !strings.HasPrefix(te.Reason(), "TLSA lookup error for mx.example.com:25") {
					t.Fatalf("error %v", err)
				}
				return
			}
			if res.Found() != c.found || res.Skipped != c.skipped || (c.base != "" && res.BaseDomain != c.base) || res.Why == "" {
				t.Fatalf("found %v skipped %v base %q why %q", res.Found(), res.Skipped, res.BaseDomain, res.Why)
			}
		})
	}
}

// TestTLSALookupRoundTrips: the TLSA path adds at most one query per name beyond the MX and
// address lookups Postfix makes anyway.
func TestTLSALookupRoundTrips(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	f := newFake().add(
		"example.com. 300 IN MX 10 mx.example.com.",
		"mx.example.com. 300 IN A 192.0.2.10",
		tlsaLine("_25._tcp.mx.example.com.", rec(3, 1, 1, leaf)))
	ctx := context.Background()
	mx, err := LookupMX(ctx, f, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	h, err := LookupHost(ctx, f, mx.Hosts[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.calls)
	if _, err := LookupTLSA(ctx, f, TLSAQuery{Host: *h, Port: 25}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.calls) - before; n != 1 {
		t.Fatalf("TLSA path made %d lookups, want 1: %q", n, f.calls)
	}
	// CNAME'd host with records at the original name: one query per name, two names.
	f.add("alias.example.com. 300 IN CNAME mx.example.com.")
	h2, _ := LookupHost(ctx, f, "alias.example.com")
	before = len(f.calls)
	if _, err := LookupTLSA(ctx, f, TLSAQuery{Host: *h2, Port: 25}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.calls) - before; n != 1 {
		t.Fatalf("CNAME'd host with records at the target: %d lookups: %q", n, f.calls[before:])
	}
}

func TestLookupMX(t *testing.T) {
	ctx := context.Background()
	f := newFake().add("example.com. 300 IN MX 20 b.example.com.", "example.com. 300 IN MX 10 a.example.com.",
		"nomx.example.com. 300 IN A 192.0.2.1", "null.example.com. 300 IN MX 0 .")
	f.insecure["example.com."] = true
	mx, err := LookupMX(ctx, f, "example.com")
	if err != nil || mx.Authentic || mx.Hosts[0].Name != "a.example.com." {
		t.Fatalf("%+v %v", mx, err)
	}
	mx, err = LookupMX(ctx, f, "nomx.example.com")
	if err != nil || !mx.NoMX || !mx.Authentic {
		t.Fatalf("§6.2 no MX (A fallback): %+v %v", mx, err)
	}
	mx, err = LookupMX(ctx, f, "null.example.com")
	if err != nil || !mx.NullMX {
		t.Fatalf("null MX: %+v %v", mx, err)
	}
	if _, err = LookupMX(ctx, f, "gone.example.com"); !errors.Is(err, ErrNXDomain) {
		t.Fatalf("NXDOMAIN: %v", err)
	}
	f.fail[key("bogus.example.com", dns.TypeMX)] = ErrServFail
	_, err = LookupMX(ctx, f, "bogus.example.com")
	// §9 vector 62: the MX lookup of a bogus zone fails for every level.
	if !errors.Is(err, ErrServFail) || !strings.Contains(err.Error(), "Name service error for name=bogus.example.com type=MX: Host not found, try again") {
		t.Fatalf("SERVFAIL: %v", err)
	}
}

func TestLookupHostLongName(t *testing.T) {
	long := strings.Repeat("a.", 130) + "example.com"
	_, err := LookupHost(context.Background(), newFake(), long)
	if !errors.Is(err, ErrNameTooLong) {
		t.Fatalf("err = %v", err)
	}
}
