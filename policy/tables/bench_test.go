package tables

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newBufReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// genBigSource writes n policy entries (keys mostly lower case, some mixed case, some
// multi-line) to a temp file and returns its name.
func genBigSource(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "tls_policy")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		switch i % 50 {
		case 0:
			fmt.Fprintf(w, "# block %d\n", i)
			fmt.Fprintf(w, "Host%d.Example.COM secure match=nexthop:dot-nexthop\n", i)
		case 1:
			fmt.Fprintf(w, "[mx%d.example.net]:587 fingerprint\n    match=AB:CD:EF:%02X\n", i, i%256)
		default:
			fmt.Fprintf(w, "host%d.example.com verify match=hostname:nexthop\n", i)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkParseSource1M parses a 1,000,000-entry texthash source (requirement: <= 1 s,
// <= 300 MB peak heap). The reported peak-heap-MB is HeapInuse after parsing with the
// table still live.
func BenchmarkParseSource1M(b *testing.B) {
	path := genBigSource(b, 1_000_000)
	ctx := context.Background()
	b.ReportAllocs()
	var peak uint64
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0 := cpuTime()
		tb, err := Open(ctx, "texthash:"+path, Options{FoldFixed: true})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		b.StopTimer()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak {
			peak = ms.HeapInuse
		}
		if n := tb.(*SourceTable).Len(); n != 1_000_000 {
			b.Fatalf("entries = %d", n)
		}
		runtime.KeepAlive(tb)
		tb = nil
		runtime.GC()
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime is this process's user+system CPU time: on a shared machine it measures the
// parser's work better than wall time (it includes the garbage collector's work too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkLookupHit(b *testing.B) {
	path := genBigSource(b, 100_000)
	tb, err := Open(context.Background(), "texthash:"+path, Options{FoldFixed: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	keys := []string{"host12345.example.com", "host777.example.com", "host99999.example.com"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := tb.Lookup(ctx, keys[i%len(keys)])
		if !r.Found {
			b.Fatal("miss")
		}
	}
}

func BenchmarkLookupHitFold(b *testing.B) {
	path := genBigSource(b, 100_000)
	tb, _ := Open(context.Background(), "texthash:"+path, Options{FoldFixed: true})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := tb.Lookup(ctx, "HOST12345.Example.Com")
		if !r.Found {
			b.Fatal("miss")
		}
	}
}

func BenchmarkLookupMiss(b *testing.B) {
	path := genBigSource(b, 100_000)
	tb, _ := Open(context.Background(), "texthash:"+path, Options{FoldFixed: true})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, _ := tb.Lookup(ctx, "nothere.example.org"); r.Found {
			b.Fatal("hit")
		}
	}
}

func BenchmarkListLookup(b *testing.B) {
	ctx := context.Background()
	l, _ := OpenList(ctx, "smtp_tls_policy_maps", "inline:{a=b}, inline:{ {example.com = secure match=nexthop} }", Options{FoldFixed: true})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r, _ := l.Lookup(ctx, "example.com"); !r.Found {
			b.Fatal("miss")
		}
	}
}

func BenchmarkRegexpLookup(b *testing.B) {
	rt, err := ParseRegexp("regexp", "re", regexpRules, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = rt.Lookup(ctx, "mx.example.com")
	}
}
