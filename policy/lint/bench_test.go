package lint

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/policy"
)

// genTable writes an n-entry policy table: a realistic mix of bare domains, parent-domain
// rows, relays with ports and per-domain match lists, with a few errors mixed in.
func genTable(tb testing.TB, n int, distinct bool) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "tls_policy")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "# generated policy table")
	for i := 0; i < n; i++ {
		if distinct {
			// Every value differs: no parsed value can be reused.
			fmt.Fprintf(w, "d%d.example secure match=.mx%d.example.net:nexthop\n", i, i)
			continue
		}
		switch i % 10 {
		case 0:
			fmt.Fprintf(w, "d%d.example secure match=.mx%d.example.net\n", i, i)
		case 1:
			fmt.Fprintf(w, ".d%d.example verify\n", i)
		case 2:
			fmt.Fprintf(w, "[relay%d.example]:587 encrypt\n", i)
		case 3:
			fmt.Fprintf(w, "d%d.example dane-only\n", i)
		case 4:
			fmt.Fprintf(w, "d%d.example may\n", i)
		case 5:
			fmt.Fprintf(w, "d%d.example secure\n    match=nexthop:dot-nexthop\n", i)
		case 6:
			fmt.Fprintf(w, "d%d.example encrypt protocols=>=TLSv1.2\n", i)
		case 7:
			fmt.Fprintf(w, "d%d.example none\n", i)
		case 8:
			fmt.Fprintf(w, "d%d.example verify ciphers=high\n", i)
		default:
			fmt.Fprintf(w, "d%d.example secure\n", i)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return p
}

// BenchmarkLint1M lints a 1,000,000-entry texthash table (MaxAdvice 20, findings
// discarded) and reports the peak heap.
func BenchmarkLint1M(b *testing.B) { benchLint(b, false) }

// BenchmarkLint1MDistinct is BenchmarkLint1M with a different value on every row.
func BenchmarkLint1MDistinct(b *testing.B) { benchLint(b, true) }

func benchLint(b *testing.B, distinct bool) {
	path := genTable(b, 1_000_000, distinct)
	ctx := context.Background()
	b.ReportAllocs()
	var peak uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak {
				peak = v
			}
			time.Sleep(time.Millisecond)
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := Run(ctx, Options{Version: policy.V(3, 7, 11), Tables: []string{path}, MaxAdvice: 20}, func(Finding) error { return nil })
		if err != nil || sum.Errors > 0 {
			b.Fatalf("%d errors, %v", sum.Errors, err)
		}
	}
	b.StopTimer()
	close(done)
	<-stopped
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MB")
}
