package dane

import (
	"crypto/x509"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// rec makes the TLSA record u s m for c.
func rec(u, s, m uint8, c *pki.Cert) Record {
	data := c.DER
	if s == SelectorSPKI {
		data = c.SPKI()
	}
	if m != MatchFull {
		data = digest(m, data)
	}
	return Record{Usage: u, Selector: s, MatchingType: m, Data: data}
}

// wrong returns r with its data's last byte flipped.
func wrong(r Record) Record {
	d := append([]byte(nil), r.Data...)
	d[len(d)-1] ^= 0xff
	r.Data = d
	return r
}

func chainOf(cs ...*pki.Cert) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.Cert
	}
	return out
}

const nap = "mx.example.com[192.0.2.10]:25"

func set(t testing.TB, recs ...Record) *RecordSet {
	t.Helper()
	return Classify(recs, "_25._tcp.mx.example.com", "_25._tcp.mx.example.com", Options{NamAddrPort: nap})
}
