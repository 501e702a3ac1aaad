package dane

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"3 1 1 abcdef", "2 0 1 ABcdEF", "3 1 1 ab cd\tef", "_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 00ff",
		"_25._tcp.mx IN TLSA ( 3 1 1\n 0011 ) ; c", "1 1 1 00", "0 0 1 00", "3 1 255 01", "3 1 1", "3 1 1 abc", "256 1 1 00", "",
		"tlsa tlsa tlsa", "3 1 1 -",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			return
		}
		back, err := ParseRecord(r.String())
		if err != nil || back.Usage != r.Usage || back.Selector != r.Selector || back.MatchingType != r.MatchingType || !bytes.Equal(back.Data, r.Data) {
			t.Fatalf("round trip of %q: %v %v", s, back, err)
		}
		for _, pre := range []bool{false, true} {
			set := Classify([]Record{r}, "q", "r", Options{PreOpenSSLDANE: pre, NamAddrPort: "h[a]:25"})
			_ = set.Warnings(true)
			_ = set.UnusableAtLookup()
		}
	})
}

// FuzzDNSAnswer feeds arbitrary DNS messages through the answer handling: CNAME walking,
// TLSA conversion, classification and verification.
func FuzzDNSAnswer(f *testing.F) {
	leaf := pki.Must(f, pki.Spec{DNS: []string{"mx.example.com"}}, nil)
	chain := []*x509.Certificate{leaf.Cert}
	seed := func(rrs ...string) {
		m := new(dns.Msg)
		m.SetQuestion("_25._tcp.mx.example.com.", dns.TypeTLSA)
		m.Response = true
		for _, s := range rrs {
			m.Answer = append(m.Answer, mustRR(s))
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if len(b) > 20 {
			f.Add(b[:len(b)/2]) // truncated
		}
	}
	seed("_25._tcp.mx.example.com. 60 IN TLSA " + rec(3, 1, 1, leaf).String())
	seed("_25._tcp.mx.example.com. 60 IN CNAME x.example.net.", "x.example.net. 60 IN TLSA 2 0 0 00")
	seed("_25._tcp.mx.example.com. 60 IN CNAME a.", "a. 60 IN CNAME _25._tcp.mx.example.com.")
	seed("_25._tcp.mx.example.com. 60 IN TLSA 1 1 1 00", "_25._tcp.mx.example.com. 60 IN TLSA 3 1 255 00")
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		w := walkAnswer(m, "_25._tcp.mx.example.com.", dns.TypeTLSA)
		var recs []Record
		for _, rr := range w.records {
			if t, ok := rr.(*dns.TLSA); ok {
				if r, err := RecordFromRR(t); err == nil {
					recs = append(recs, r)
				}
			}
		}
		set := Classify(recs, "_25._tcp.mx.example.com.", w.name, Options{NamAddrPort: "h[a]:25"})
		_ = set.Verify(chain, VerifyOptions{Names: []string{"mx.example.com"}})
		_ = hasSOA(m)
	})
}

func FuzzReadTrustAnchors(f *testing.F) {
	c := pki.Must(f, pki.Spec{CN: []string{"ca"}}, nil)
	f.Add(string(c.PEM()))
	f.Add(string(c.KeyPEM()) + string(c.PEM()))
	f.Add("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		ta, err := ReadTrustAnchors(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		_ = ta.RecordSet(Options{}).Verify([]*x509.Certificate{c.Cert}, VerifyOptions{Names: []string{"x"}, EENameChecks: true})
	})
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add("nameserver 127.0.0.1\noptions trust-ad edns0 ndots:2\nsearch a b\n")
	f.Add("nameserver ::1%lo\nnameserver x\nfoo\noptions timeout:99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		rc, err := ParseResolvConf(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(rc.Nameservers) == 0 || len(rc.Nameservers) > 3 {
			t.Fatalf("nameservers %q", rc.Nameservers)
		}
	})
}

func FuzzParseDigests(f *testing.F) {
	for _, s := range []string{"sha512 sha256", "sha256=1,sha512=2", "=2", "md5=3", "sha512=0", "x=255", "sha256=254"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseDigests(s)
		if d.Enabled(MatchPrivate) && d.Ordinal(MatchPrivate) != 0 {
			t.Fatal("matching type 255 enabled")
		}
	})
}
