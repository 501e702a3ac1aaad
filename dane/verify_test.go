package dane

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func TestVerify(t *testing.T) {
	h := pki.MustHierarchy(t)
	past := time.Now().Add(-48 * time.Hour)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}})
	other := h.Leaf(t, pki.Spec{DNS: []string{"other.example.net"}})
	wild := h.Leaf(t, pki.Spec{DNS: []string{"*.example.com"}})
	expiredLeaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}, NotBefore: past, NotAfter: past.Add(time.Hour)})
	selfSigned := pki.Must(t, pki.Spec{CN: []string{"whatever"}}, nil)
	expiredSelf := pki.Must(t, pki.Spec{CN: []string{"whatever"}, NotBefore: past, NotAfter: past.Add(time.Hour)}, nil)
	expiredInter := pki.Must(t, pki.Spec{CN: []string{"Old Intermediate"}, CA: true, NotBefore: past, NotAfter: past.Add(time.Hour)}, h.Root)
	underExpired := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, expiredInter)
	notCA := pki.Must(t, pki.Spec{CN: []string{"Not A CA"}}, h.Root)
	underNotCA := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, notCA)
	names := []string{"mx.example.com", "example.com"}

	cases := []struct {
		name     string
		recs     []Record
		chain    []*pki.Cert
		opts     VerifyOptions
		verified bool
		depth    int    // match depth when verified
		fromTLSA bool   // anchor not sent by the server
		log      string // Postfix log line on failure
	}{
		{"§9 vector 57: 3 1 1 matching a self-signed leaf verifies", []Record{rec(3, 1, 1, selfSigned)},
			[]*pki.Cert{selfSigned}, VerifyOptions{Names: names}, true, 0, false, ""},
		{"§9 vector 58: 3 1 1 for another key: num=65 at depth 0", []Record{rec(3, 1, 1, other)},
			[]*pki.Cert{selfSigned}, VerifyOptions{Names: names}, false, 0, false,
			"server certificate verification failed for " + nap + ": num=65:no matching DANE TLSA records"},
		{"§6.4 DANE-EE: no expiry check", []Record{rec(3, 0, 1, expiredSelf)},
			[]*pki.Cert{expiredSelf}, VerifyOptions{Names: names}, true, 0, false, ""},
		{"§6.4 DANE-EE: full certificate 3 0 0", []Record{rec(3, 0, 0, leaf)},
			[]*pki.Cert{leaf, h.Inter}, VerifyOptions{Names: names}, true, 0, false, ""},
		{"§6.4 DANE-EE: sha512 of the SPKI", []Record{rec(3, 1, 2, leaf)},
			[]*pki.Cert{leaf}, VerifyOptions{Names: names}, true, 0, false, ""},
		{"§9 vector 66: 2 1 1 for the intermediate, leaf SAN matches", []Record{rec(2, 1, 1, h.Inter)},
			[]*pki.Cert{leaf, h.Inter}, VerifyOptions{Names: names}, true, 1, false, ""},
		{"§9 vector 66: 2 1 1 for the intermediate, leaf SAN other.example.net: hostname mismatch",
			[]Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{other, h.Inter}, VerifyOptions{Names: names}, false, 0, false,
			"server certificate verification failed for " + nap + ": num=62:hostname mismatch"},
		{"§9 vector 66: 3 1 1 for the same misnamed leaf verifies regardless of names",
			[]Record{rec(2, 1, 1, h.Inter), rec(3, 1, 1, other)}, []*pki.Cert{other, h.Inter}, VerifyOptions{Names: names}, true, 0, false, ""},
		{"§6.4 DANE-TA root sent by the server", []Record{rec(2, 0, 1, h.Root)},
			[]*pki.Cert{leaf, h.Inter, h.Root}, VerifyOptions{Names: names}, true, 2, false, ""},
		{"§6.4 DANE-TA 2 0 0 full root the server did not send", []Record{rec(2, 0, 0, h.Root)},
			[]*pki.Cert{leaf, h.Inter}, VerifyOptions{Names: names}, true, 2, true, ""},
		{"§6.4 DANE-TA 2 1 0 bare root key the server did not send", []Record{rec(2, 1, 0, h.Root)},
			[]*pki.Cert{leaf, h.Inter}, VerifyOptions{Names: names}, true, 1, true, ""},
		{"§6.4 DANE-TA never matches the leaf itself", []Record{rec(2, 1, 1, leaf)},
			[]*pki.Cert{leaf, h.Inter}, VerifyOptions{Names: names}, false, 0, false,
			"CA certificate verification failed for " + nap + ": num=65:no matching DANE TLSA records"},
		{"§6.5-like: TA for an unrelated root: num=65 at the top of the chain", []Record{rec(2, 1, 1, h.Other)},
			[]*pki.Cert{leaf, h.Inter, h.Root}, VerifyOptions{Names: names}, false, 0, false,
			"CA certificate verification failed for " + nap + ": num=65:no matching DANE TLSA records"},
		{"§6.4 DANE-TA: expired leaf fails", []Record{rec(2, 1, 1, h.Inter)},
			[]*pki.Cert{expiredLeaf, h.Inter}, VerifyOptions{Names: names}, false, 0, false,
			"server certificate verification failed for " + nap + ": certificate has expired"},
		{"§6.4 (OpenSSL oracle) DANE-TA: dates of a non-self-issued anchor are not checked", []Record{rec(2, 0, 1, expiredInter)},
			[]*pki.Cert{underExpired, expiredInter}, VerifyOptions{Names: names}, true, 1, false, ""},
		{"§6.4 DANE-TA: expired intermediate below the anchor fails at its depth", []Record{rec(2, 0, 1, h.Root)},
			[]*pki.Cert{underExpired, expiredInter, h.Root}, VerifyOptions{Names: names}, false, 0, false,
			"CA certificate verification failed for " + nap + ": certificate has expired"},
		{"§6.4 DANE-TA: non-CA issuer below the anchor", []Record{rec(2, 0, 1, h.Root)},
			[]*pki.Cert{underNotCA, notCA, h.Root}, VerifyOptions{Names: names}, false, 0, false,
			"CA certificate verification failed for " + nap + ": num=79:invalid CA certificate"},
		{"§4.2 DANE-TA: one-label wildcard matches", []Record{rec(2, 1, 1, h.Inter)},
			[]*pki.Cert{wild, h.Inter}, VerifyOptions{Names: names}, true, 1, false, ""},
		{"§9 vector 69: wrong sha512 hides the right sha256 (digest agility)",
			[]Record{wrong(rec(3, 1, 2, leaf)), rec(3, 1, 1, leaf)}, []*pki.Cert{leaf}, VerifyOptions{Names: names}, false, 0, false,
			"server certificate verification failed for " + nap + ": num=65:no matching DANE TLSA records"},
		{"§6.3 agility is per usage+selector: 3 0 1 still consulted next to a wrong 3 1 2",
			[]Record{wrong(rec(3, 1, 2, leaf)), rec(3, 0, 1, leaf)}, []*pki.Cert{leaf}, VerifyOptions{Names: names}, true, 0, false, ""},
		{"§6.4 empty chain", []Record{rec(3, 1, 1, leaf)}, nil, VerifyOptions{Names: names}, false, 0, false,
			"server certificate verification failed for " + nap + ": no certificate presented"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := set(t, c.recs...).Verify(chainOf(c.chain...), c.opts)
			if res.Verified != c.verified {
				t.Fatalf("verified = %v, err %v", res.Verified, res.Err)
			}
			for _, r := range res.Records {
				if !r.Matched && r.Note == "" {
					t.Errorf("record %s has no note", r.Record)
				}
			}
			if len(res.Explain()) == 0 {
				t.Fatal("no explanation")
			}
			if c.verified {
				if res.Err != nil || res.Match == nil || res.Match.Depth != c.depth || res.Match.FromTLSA != c.fromTLSA {
					t.Fatalf("match %+v err %v", res.Match, res.Err)
				}
				return
			}
			if res.Err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(res.Err, ErrNotVerified) {
				t.Fatal("error does not wrap ErrNotVerified")
			}
			if got := res.Err.LogLine(nap); got != c.log {
				t.Fatalf("log\n%s\nwant\n%s", got, c.log)
			}
		})
	}
}

func TestVerifyAgilityNotes(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	res := set(t, wrong(rec(3, 1, 2, leaf)), rec(3, 1, 1, leaf)).Verify(chainOf(leaf), VerifyOptions{})
	var notes []string
	for _, r := range res.Records {
		notes = append(notes, r.Note)
	}
	if !strings.Contains(strings.Join(notes, "|"), "digest agility") {
		t.Fatalf("notes %q", notes)
	}
	// With tls_dane_digests = sha256 sha512 the sha256 record is preferred and matches.
	s := Classify([]Record{wrong(rec(3, 1, 2, leaf)), rec(3, 1, 1, leaf)}, "q", "q", Options{Digests: ParseDigests("sha256 sha512")})
	if r := s.Verify(chainOf(leaf), VerifyOptions{Names: []string{"mx.example.com"}}); !r.Verified {
		t.Fatalf("sha256-first digests: %v", r.Err)
	}
}

func TestVerifyAllUnusable(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{}, nil)
	s := set(t, Record{3, 1, 1, make([]byte, 31)})
	r := s.Verify(chainOf(leaf), VerifyOptions{})
	if r.Verified || !r.Fallback || r.Err != nil {
		t.Fatalf("§9 vector 65 dane: want fallback, got %+v", r)
	}
	if !slices.Contains(r.Warnings, nap+": all TLSA records unusable, fallback to unauthenticated TLS") {
		t.Fatalf("warnings %q", r.Warnings)
	}
	r = s.Verify(chainOf(leaf), VerifyOptions{DaneOnly: true})
	if r.Verified || r.Fallback || r.Err == nil {
		t.Fatalf("§9 vector 65 dane-only: want failure, got %+v", r)
	}
	if !slices.Contains(r.Warnings, nap+": all TLSA records unusable") {
		t.Fatalf("warnings %q", r.Warnings)
	}
}

func TestVerifyCustomNameCheck(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}})
	called := false
	check := func(c *x509.Certificate, names []string) error {
		called = true
		return errors.New("refused by caller")
	}
	r := set(t, rec(2, 1, 1, h.Inter)).Verify(chainOf(leaf, h.Inter), VerifyOptions{Names: []string{"mx.example.com"}, NameCheck: check})
	if !called || r.Verified || r.Err.Num != ErrNumHostnameMismatch {
		t.Fatalf("called %v result %+v", called, r.Err)
	}
}

func TestNameMatches(t *testing.T) {
	cases := []struct {
		name    string
		id, ref string
		want    bool
	}{
		{"§4.2 exact, case-insensitive", "MX.Example.com", "mx.example.com", true},
		{"§4.2 wildcard one label", "*.example.com", "mx.example.com", true},
		{"§4.2 wildcard not two labels", "*.example.com", "a.mx.example.com", false},
		{"§4.2 wildcard not the bare domain", "*.example.com", "example.com", false},
		{"§4.2 *.com is literal", "*.com", "example.com", false},
		{"§4.2 partial wildcard is literal", "mx*.example.com", "mx1.example.com", false},
		{"§4.2 .suffix reference is a plain suffix test", "*.example.org", ".example.org", true},
		{"§4.2 .suffix needs one more label", "example.org", ".example.org", false},
		{"§4.2 X509_check_host skip_prefix: a name equal to the .suffix reference matches", ".example.org", ".example.org", true},
		{"§4.2 no trailing-dot normalisation", "example.com", "example.com.", false},
		{"§4.2 literal * reference compares literally", "*.example.com", "*.example.com", true},
		{"§4.2 ASCII-only case folding: U+017F long s is not 's'", "\u017fmtp.example.com", "smtp.example.com", false},
		{"§4.2 ASCII-only case folding: U+212A Kelvin sign is not 'k'", "mx.\u212aexample.com", "mx.kexample.com", false},
		{"§4.2 wildcard label is letters, digits and hyphens only", "*.example.com", "a_b.example.com", false},
		{"§4.2 no wildcard in a name with other characters", "*.ex_ample.com", "mx.ex_ample.com", false},
		{"§4.2 full-label wildcard matches an A-label", "*.xn--p1ai.example", "xn--d1acufc.xn--p1ai.example", true},
		{"§4.2 certificate name with NUL never matches", "mx.example.com\x00", "mx.example.com\x00", false},
		{"§4.2 wildcard may match a literal *", "*.example.com", "*.example.com", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := nameMatches(c.id, c.ref); got != c.want {
				t.Fatalf("nameMatches(%q, %q) = %v", c.id, c.ref, got)
			}
		})
	}
}

func TestMatchNames(t *testing.T) {
	cases := []struct {
		name string
		base string
		mx   *dnssec.MXResult
		want []string
	}{
		{"§6.4 base domain and nexthop", "mx.example.com", &dnssec.MXResult{Domain: "example.com.", Owner: "example.com."}, []string{"mx.example.com", "example.com"}},
		{"§6.4 nexthop is a CNAME: target then domain", "mx.example.net", &dnssec.MXResult{Domain: "example.com.", Owner: "alias.example.net."},
			[]string{"mx.example.net", "alias.example.net", "example.com"}},
		{"§6.4 [host] or A fallback: base domain only", "mail.example.com", nil, []string{"mail.example.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MatchNames(c.base, c.mx); !slices.Equal(got, c.want) {
				t.Fatalf("%q", got)
			}
		})
	}
}

func TestVerifyPre36ExpiredAnchorExempt(t *testing.T) {
	past := time.Now().Add(-48 * time.Hour)
	old := pki.Must(t, pki.Spec{CN: []string{"Old Root"}, CA: true, NotBefore: past, NotAfter: past.Add(time.Hour)}, nil)
	leaf := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, old)
	recs := []Record{rec(2, 0, 1, old)}
	opts := VerifyOptions{Names: []string{"mx.example.com"}}
	if r := Classify(recs, "q", "q", Options{}).Verify(chainOf(leaf, old), opts); r.Verified || r.Err.Num != ErrNumExpired {
		t.Fatalf("§6.4 3.6+: expired self-signed TA certificate must fail, got %+v", r.Err)
	}
	if r := Classify(recs, "q", "q", Options{PreOpenSSLDANE: true}).Verify(chainOf(leaf, old), opts); !r.Verified {
		t.Fatalf("§6.4 <=3.5: TLSA trust anchors were exempt from expiry, got %v", r.Err)
	}
}

// §4.1/§6.4: Postfix installs the DANE reference names with add_namechecks(); when none can be
// installed it logs "could not configure peer name checks" and sets must_fail, which forces
// num=1 at depth 0 (tls_verify.c). Verify without names must never report Verified.
func TestVerifyNoNamesMustFail(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"anything.example.net"}})
	for _, c := range []struct {
		name string
		recs []Record
		opts VerifyOptions
	}{
		{"§6.4 DANE-TA match with no reference names", []Record{rec(2, 1, 1, h.Inter)}, VerifyOptions{}},
		{"§6.4 DANE-EE match with no reference names", []Record{rec(3, 1, 1, leaf)}, VerifyOptions{}},
		{"§6.5 trust-anchor file EE match with no reference names", []Record{rec(2, 0, 0, leaf), rec(3, 0, 0, leaf)}, VerifyOptions{EENameChecks: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := set(t, c.recs...).Verify(chainOf(leaf, h.Inter), c.opts)
			if r.Verified || r.Err == nil || r.Err.Num != ErrNumUnspecified || r.Err.Depth != 0 {
				t.Fatalf("want num=1 at depth 0, got verified=%v err=%v", r.Verified, r.Err)
			}
			if got := r.Err.LogLine(nap); got != "server certificate verification failed for "+nap+": num=1:unspecified certificate verification error" {
				t.Fatalf("log %q", got)
			}
		})
	}
}

// Postfix 2.11-3.5 did DANE-TA itself (tls_dane.c set_trust, ta_signed, wrap_key), not
// through OpenSSL's DANE support as 3.6 and later do. Measured with 3.5.27 built against
// OpenSSL 3.0 (conformance cases tlsa/dane{,-only}/2-1-1-inter and
// 2-0-0-root-cross-signed-copy-sent, where 3.7.11 delivers).
func TestVerifyPre36OwnDANE(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}})
	crossRoot := pki.Must(t, pki.Spec{CN: []string{"Test Root CA"}, Org: "postfixtls tests", CA: true, Signer: h.Root.Key}, h.Other)
	opts := VerifyOptions{Names: []string{"mx.example.com"}}
	untrusted := func(dn string) string {
		return "certificate verification failed for " + nap + ": untrusted issuer " + dn
	}
	cases := []struct {
		name     string
		recs     []Record
		chain    []*pki.Cert
		verified bool // with Postfix <= 3.5
		post36   bool // with Postfix >= 3.6
		log      string
	}{
		{"3.5 wrap_key: 2 1 1 matching the sent intermediate's key fails (unsigned wrapper, OpenSSL 3.0)",
			[]Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{leaf, h.Inter}, false, true,
			untrusted("/O=postfixtls tests/CN=Test Intermediate CA")},
		{"3.5 wrap_key: 2 1 0 root key that signed the top certificate fails",
			[]Record{rec(2, 1, 0, h.Root)}, []*pki.Cert{leaf, h.Inter}, false, true,
			untrusted("/O=postfixtls tests/CN=Test Root CA")},
		{"3.5 wrap_cert: 2 0 1 matching the sent intermediate's certificate verifies",
			[]Record{rec(2, 0, 1, h.Inter)}, []*pki.Cert{leaf, h.Inter}, true, true, ""},
		{"3.5 ta_signed: 2 0 0 root that issued the unsent top verifies",
			[]Record{rec(2, 0, 0, h.Root)}, []*pki.Cert{leaf, h.Inter}, true, true, ""},
		{"3.5 set_trust: 2 0 0 root does not replace the cross-signed copy the server sends",
			[]Record{rec(2, 0, 0, h.Root)}, []*pki.Cert{leaf, h.Inter, crossRoot}, false, true,
			untrusted("/O=elsewhere/CN=Other Root CA")},
		{"3.5 set_trust: 2 0 1 of another root: untrusted issuer at the top",
			[]Record{rec(2, 0, 1, h.Other)}, []*pki.Cert{leaf, h.Inter}, false, false,
			untrusted("/O=postfixtls tests/CN=Test Root CA")},
		{"3.5 set_trust: a sent self-signed root that matches nothing: self-signed in chain",
			[]Record{rec(2, 0, 1, h.Other)}, []*pki.Cert{leaf, h.Inter, h.Root}, false, false,
			untrusted("/O=postfixtls tests/CN=Test Root CA")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Classify(c.recs, "q", "q", Options{PreOpenSSLDANE: true}).Verify(chainOf(c.chain...), opts)
			if r.Verified != c.verified {
				t.Fatalf("<=3.5 verified=%v, want %v (%v)", r.Verified, c.verified, r.Err)
			}
			if !c.verified {
				if got := r.Err.LogLine(nap); got != c.log {
					t.Fatalf("<=3.5 log\n got %q\nwant %q", got, c.log)
				}
			}
			if r := Classify(c.recs, "q", "q", Options{}).Verify(chainOf(c.chain...), opts); r.Verified != c.post36 {
				t.Fatalf(">=3.6 verified=%v, want %v (%v)", r.Verified, c.post36, r.Err)
			}
		})
	}
}
