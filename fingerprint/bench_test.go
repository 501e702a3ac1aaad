package fingerprint

import (
	"fmt"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// twoKBCert is an RSA certificate padded with SANs to about 2 KB of DER.
func twoKBCert(t testing.TB) *pki.Cert {
	spec := pki.Spec{CN: []string{"mx.example.com"}, Key: pki.RSA2048}
	for i := 0; i < 46; i++ {
		spec.DNS = append(spec.DNS, fmt.Sprintf("mx%02d.customer.example.net", i))
	}
	return pki.Must(t, spec, nil)
}

func BenchmarkComputeAll2KB(b *testing.B) {
	c := twoKBCert(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(ComputeAll(c.Cert)) != 6 {
			b.Fatal("digests")
		}
	}
	b.ReportMetric(float64(len(c.DER)), "DER-bytes")
}

func BenchmarkCheckSHA256(b *testing.B) {
	c := twoKBCert(b)
	f, _ := Compute(c.Cert, "sha256")
	l, _, err := ParseList([]string{"00|" + f.PublicKeyString()}, Table, Options{ColonsOptional: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !Check(c.Cert, l).Matched {
			b.Fatal("no match")
		}
	}
}
