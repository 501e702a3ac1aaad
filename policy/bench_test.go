package policy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeBigPolicyTable writes a tls_policy source with n entries: n/2 bare domains and n/2
// ".parent" entries, and returns its path.
func writeBigPolicyTable(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, "tls_policy")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	levels := []string{"secure match=nexthop:dot-nexthop", "verify", "encrypt protocols=>=TLSv1.2", "may", "dane", "fingerprint match=AB:CD:EF:01"}
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			fmt.Fprintf(w, "domain%d.example %s\n", i, levels[i%len(levels)])
		} else {
			fmt.Fprintf(w, ".parent%d.example %s\n", i, levels[i%len(levels)])
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkPolicyForParentRecursion measures the per-destination policy lookup on a
// 1,000,000-entry texthash table: every query is a sub-domain that needs two lookups
// (the name, then its ".parent" entry), plus entry parsing and policy assembly.
func BenchmarkPolicyForParentRecursion(b *testing.B) {
	dir := b.TempDir()
	path := writeBigPolicyTable(b, dir, 1_000_000)
	s, err := NewSettings(V(3, 7, 11), map[string]string{
		"smtp_tls_policy_maps": "texthash:" + path, "compatibility_level": "3.6",
		"smtp_dns_support_level": "dnssec",
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rt := Route{Transport: "smtp", Client: SMTP}
	const nq = 4096
	hops := make([]NextHop, nq)
	for i := range hops {
		d := fmt.Sprintf("mx.parent%d.example", (i*2+1)%1_000_000)
		hops[i] = NextHop{Nexthop: d, Key: d, Domain: d, Port: 25, MX: true, Client: SMTP}
	}
	// Warm up: open the table once.
	if _, err := s.PolicyFor(ctx, rt, hops[0], hops[0].Domain); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := hops[i%nq]
		p, err := s.PolicyFor(ctx, rt, h, h.Domain)
		if err != nil || p.Source.Kind != FromPolicyTable {
			b.Fatalf("%v %v", err, p.Source)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
