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

// FuzzTLSAWire feeds arbitrary wire-format records through TLSA conversion, classification
// and verification (package dnssec fuzzes the handling of whole DNS messages).
func FuzzTLSAWire(f *testing.F) {
	leaf := pki.Must(f, pki.Spec{DNS: []string{"mx.example.com"}}, nil)
	chain := []*x509.Certificate{leaf.Cert}
	for _, r := range []Record{rec(3, 1, 1, leaf), rec(3, 0, 0, leaf), {2, 0, 0, []byte{0}}, {1, 1, 1, []byte{0}}, {3, 1, 255, []byte{0}}} {
		buf := make([]byte, 4096)
		n, err := dns.PackRR(r.RR("_25._tcp.mx.example.com", 60), buf, 0, nil, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf[:n])
		f.Add(buf[:n/2]) // truncated
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rr, _, err := dns.UnpackRR(b, 0)
		if err != nil {
			return
		}
		tlsa, ok := rr.(*dns.TLSA)
		if !ok {
			return
		}
		r, err := RecordFromRR(tlsa)
		if err != nil {
			return
		}
		set := Classify([]Record{r}, "_25._tcp.mx.example.com.", tlsa.Hdr.Name, Options{NamAddrPort: "h[a]:25"})
		_ = set.Verify(chain, VerifyOptions{Names: []string{"mx.example.com"}})
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
