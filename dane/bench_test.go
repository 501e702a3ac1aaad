package dane

import (
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// benchSetup: a 3-certificate chain (leaf, intermediate, root) and 4-record TLSA sets.
func benchVerify(b *testing.B, cache bool, pick func(h *pki.Hierarchy, leaf *pki.Cert) []Record) {
	h := pki.MustHierarchy(b)
	leaf := h.Leaf(b, pki.Spec{DNS: []string{"mx.example.com"}})
	chain := chainOf(leaf, h.Inter, h.Root)
	s := Classify(pick(h, leaf), "_25._tcp.mx.example.com", "_25._tcp.mx.example.com", Options{NamAddrPort: nap})
	opts := VerifyOptions{Names: []string{"mx.example.com", "example.com"}}
	if cache {
		opts.SigCache = &SigCache{}
	}
	if r := s.Verify(chain, opts); !r.Verified {
		b.Fatalf("setup does not verify: %v", r.Err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !s.Verify(chain, opts).Verified {
			b.Fatal("not verified")
		}
	}
}

// BenchmarkVerifyEE: rollover-style set (2 EE records for the old and new key, 2 TA records);
// the DANE-EE record for the current key matches at depth 0.
func BenchmarkVerifyEE(b *testing.B) {
	benchVerify(b, false, func(h *pki.Hierarchy, leaf *pki.Cert) []Record {
		return []Record{wrong(rec(3, 1, 1, leaf)), rec(3, 1, 1, leaf), rec(2, 1, 1, h.Other), rec(2, 0, 1, h.Root)}
	})
}

// BenchmarkVerifyTAIntermediate: no EE match; the intermediate is the trust anchor (one
// signature check, dates, names).
func BenchmarkVerifyTAIntermediate(b *testing.B) {
	benchVerify(b, false, func(h *pki.Hierarchy, leaf *pki.Cert) []Record {
		return []Record{wrong(rec(3, 1, 1, leaf)), wrong(rec(3, 1, 2, leaf)), rec(2, 1, 1, h.Other), rec(2, 1, 1, h.Inter)}
	})
}

// BenchmarkVerifyTARoot: no EE match; the root is the trust anchor (two signature checks).
func BenchmarkVerifyTARoot(b *testing.B) {
	benchVerify(b, false, func(h *pki.Hierarchy, leaf *pki.Cert) []Record {
		return []Record{wrong(rec(3, 1, 1, leaf)), wrong(rec(3, 1, 2, leaf)), rec(2, 1, 1, h.Other), rec(2, 0, 1, h.Root)}
	})
}

func BenchmarkClassify(b *testing.B) {
	leaf := pki.Must(b, pki.Spec{}, nil)
	recs := []Record{rec(3, 1, 1, leaf), rec(3, 1, 2, leaf), rec(2, 0, 1, leaf), rec(2, 1, 1, leaf)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Classify(recs, "q", "q", Options{})
	}
}

// BenchmarkVerifyTAIntermediateCached: the same chain judged again with a SigCache (another
// address of the host, another policy or version).
func BenchmarkVerifyTAIntermediateCached(b *testing.B) {
	benchVerify(b, true, func(h *pki.Hierarchy, leaf *pki.Cert) []Record {
		return []Record{wrong(rec(3, 1, 1, leaf)), wrong(rec(3, 1, 2, leaf)), rec(2, 1, 1, h.Other), rec(2, 1, 1, h.Inter)}
	})
}

// BenchmarkVerifyTARootCached: two signature checks, memoised.
func BenchmarkVerifyTARootCached(b *testing.B) {
	benchVerify(b, true, func(h *pki.Hierarchy, leaf *pki.Cert) []Record {
		return []Record{wrong(rec(3, 1, 1, leaf)), wrong(rec(3, 1, 2, leaf)), rec(2, 1, 1, h.Other), rec(2, 0, 1, h.Root)}
	})
}
