package match

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// benchSetup: a certificate with 100 DNS SANs (a mix of exact and wildcard names) and 10
// reference names where only the last reference matches the last SAN (the worst case of
// the success path).
func benchSetup(b testing.TB) (certSpec, []string) {
	var s certSpec
	for i := 0; i < 99; i++ {
		if i%3 == 0 {
			s.dns = append(s.dns, fmt.Sprintf("*.host%02d.example.net", i))
		} else {
			s.dns = append(s.dns, fmt.Sprintf("mx%02d.customer%02d.example.org", i, i))
		}
	}
	s.dns = append(s.dns, "mail.target.example.com")
	items := []string{"nexthop", "dot-nexthop"}
	for i := 0; i < 7; i++ {
		items = append(items, fmt.Sprintf("relay%d.elsewhere.example", i))
	}
	items = append(items, "mail.target.example.com")
	return s, items
}

func BenchmarkCheck100SANs10Refs(b *testing.B) {
	s, items := benchSetup(b)
	cert := mkCert(b, s)
	refs, _ := References(items, "other.example", "mx.other.example", osslOpts)
	if len(refs.Refs) != 10 {
		b.Fatalf("%d refs", len(refs.Refs))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := Check(cert, refs, osslOpts); !r.Matched {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCheckLegacy100SANs10Refs(b *testing.B) {
	s, items := benchSetup(b)
	cert := mkCert(b, s)
	refs, _ := References(items, "other.example", "mx.other.example", legacy)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := Check(cert, refs, legacy); !r.Matched {
			b.Fatal("no match")
		}
	}
}

// TestCheckZeroAlloc pins the zero-allocation ASCII success path.
func TestCheckZeroAlloc(t *testing.T) {
	s, items := benchSetup(t)
	cert := mkCert(t, s)
	for _, opt := range []Options{osslOpts, legacy} {
		refs, _ := References(items, "other.example", "mx.other.example", opt)
		n := testing.AllocsPerRun(50, func() { Check(cert, refs, opt) })
		assert.Zero(t, n, "%s: allocations per Check on the success path", opt.Mode)
	}
	cn := mkCert(t, certSpec{cn: []string{"a.example", "mail.target.example.com"}})
	refs, _ := References(items, "other.example", "mx.other.example", osslOpts)
	assert.Zero(t, testing.AllocsPerRun(50, func() { Check(cn, refs, osslOpts) }), "CN path: allocations")
}
