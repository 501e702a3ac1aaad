package maillog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

// readResult is everything a Reader says about an input.
type readResult struct {
	Deliveries []Delivery
	Stats      Stats
	Diags      []Diagnostic
	Version    string
	Err        error
}

func readThrough(r io.Reader, opt Options) readResult {
	rd := NewReader(r, opt)
	var res readResult
	for {
		d, err := rd.Next(context.Background())
		if err != nil {
			if !errors.Is(err, io.EOF) {
				res.Err = err
			}
			break
		}
		res.Deliveries = append(res.Deliveries, d)
	}
	res.Stats, res.Diags, res.Version = rd.Stats(), rd.Diagnostics(), rd.Version()
	return res
}

// chunkReader returns the input in reads of the sizes given, in turn.
type chunkReader struct {
	b     []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.b), max(1, c.sizes[c.i%len(c.sizes)]))
	c.i++
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// oracleLog is every oracle excerpt, repeated until the log is more than three blocks.
func oracleLog(t testing.TB) []byte {
	files, err := filepath.Glob("testdata/oracle/*.log")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var one bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		one.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			one.WriteByte('\n')
		}
	}
	var all bytes.Buffer
	for all.Len() < 3*blockSize+blockSize/3 {
		all.Write(one.Bytes())
	}
	return all.Bytes()
}

// TestReaderChunking: how the input arrives (whole, a byte at a time, in halves, with
// its last data and EOF together, in odd sizes) and how many goroutines parse it change
// nothing the Reader reports: the lines are applied in the log's order, whole.
func TestReaderChunking(t *testing.T) {
	long := strings.Repeat("x", blockSize+5000) // longer than a block and than MaxLineLength
	inputs := map[string][]byte{
		"oracle": oracleLog(t),
		"edges": []byte("\n\r\n" + "Nov 22 03:00:00 h postfix/master[1]: daemon started -- version 3.7.11, configuration /etc/postfix\r\n" +
			long + "\n" + strings.Repeat("y", defaultLine) + "\n" + strings.Repeat("z", defaultLine-1) + "\n" +
			string(oracleLog(t)[:blockSize+777]) + "\n" + long),
		"unterminated": append(oracleLog(t)[:2*blockSize], "Nov 22 03:00:00 h postfix/qmgr[2]: ABCDEF12: removed"...),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			want := readThrough(bytes.NewReader(in), Options{Workers: 1, Year: 2026})
			require.NoError(t, want.Err)
			require.Equal(t, int64(len(in)), want.Stats.Bytes, "every byte counted")
			lines := int64(bytes.Count(in, []byte("\n")))
			if len(in) > 0 && in[len(in)-1] != '\n' {
				lines++
			}
			require.Equal(t, lines, want.Stats.Lines, "every line counted once")
			if name == "oracle" {
				require.NotEmpty(t, want.Deliveries)
			}
			readers := map[string]func() io.Reader{
				"halves":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
				"data+EOF":  func() io.Reader { return iotest.DataErrReader(bytes.NewReader(in)) },
				"odd sizes": func() io.Reader { return &chunkReader{b: in, sizes: []int{7, 4096, 1, 70000, 333, blockSize + 1}} },
				"whole":     func() io.Reader { return bytes.NewReader(in) },
			}
			for rname, mk := range readers {
				for _, workers := range []int{1, 2, 5} {
					got := readThrough(mk(), Options{Workers: workers, Year: 2026})
					require.Equal(t, want, got, "%s, %d workers", rname, workers)
				}
			}
			// a byte at a time (a read per byte: the first 50 kB only)
			short := in[:min(len(in), 50000)]
			wantShort := readThrough(bytes.NewReader(short), Options{Workers: 1, Year: 2026})
			for _, workers := range []int{1, 3} {
				got := readThrough(iotest.OneByteReader(bytes.NewReader(short)), Options{Workers: workers, Year: 2026})
				require.Equal(t, wantShort, got, "one byte, %d workers", workers)
			}
			if name == "edges" {
				var long *Diagnostic
				for i, d := range want.Diags {
					if strings.HasPrefix(d.Text, "line longer than") {
						long = &want.Diags[i]
					}
				}
				require.NotNil(t, long)
				require.Equal(t, int64(3), long.Count, "the two longer than a block and the %d-byte one; not the %d-byte one", defaultLine, defaultLine-1)
				require.Equal(t, "3.7.11", want.Version, "a CR before the LF is not part of the line")
			}
		})
	}
}

// TestReaderReadError: lines before a read error are applied, then Next returns the error.
func TestReaderReadError(t *testing.T) {
	in := oracleLog(t)[:blockSize/2]
	in = in[:bytes.LastIndexByte(in, '\n')+1]
	want := readThrough(bytes.NewReader(in), Options{Workers: 2})
	boom := errors.New("boom")
	got := readThrough(io.MultiReader(bytes.NewReader(in), iotest.ErrReader(boom)), Options{Workers: 2})
	require.ErrorIs(t, got.Err, boom)
	got.Err = nil
	require.Equal(t, want, got)
}

// TestReaderNoProgress: a reader that returns nothing forever ends with io.ErrNoProgress.
func TestReaderNoProgress(t *testing.T) {
	got := readThrough(zeroReader{}, Options{})
	require.ErrorIs(t, got.Err, io.ErrNoProgress)
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// FuzzReaderChunking: any input, cut into reads of any size and parsed on several
// goroutines, reads as it does whole on one.
func FuzzReaderChunking(f *testing.F) {
	f.Add([]byte("Nov 22 03:00:00 h postfix/smtp[1]: setting up TLS connection to a[1]:25\nNov 22 03:00:00 h postfix/smtp[1]: ABCDEF: to=<a@b>, relay=a[1]:25, dsn=4.7.5, status=deferred (x)\n"), uint8(3), uint8(0))
	f.Add([]byte(strings.Repeat("a", 300)+"\n\r\nb"), uint8(1), uint8(10))
	f.Fuzz(func(t *testing.T, in []byte, chunk, maxLine uint8) {
		opt := Options{Workers: 1, Year: 2026, MaxLineLength: 64 + int(maxLine), MaxOpenQueueIDs: 8, MaxProcesses: 8}
		want := readThrough(bytes.NewReader(in), opt)
		if want.Stats.Bytes != int64(len(in)) {
			t.Fatalf("%d bytes counted, %d read", want.Stats.Bytes, len(in))
		}
		opt.Workers = 3
		got := readThrough(&chunkReader{b: in, sizes: []int{1 + int(chunk), 1, 2*int(chunk) + 5}}, opt)
		require.Equal(t, want, got)
	})
}

// TestReaderStopsReadingAhead: the read-ahead goroutine ends with Close, and when a Reader
// is dropped before the input's end.
func TestReaderStopsReadingAhead(t *testing.T) {
	in := oracleLog(t)
	base := runtime.NumGoroutine()
	r := NewReader(bytes.NewReader(in), Options{Workers: 3})
	_, err := r.Next(context.Background())
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, err = r.Next(context.Background())
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.True(t, settles(base, false), "Close stops the goroutine")

	func() {
		r := NewReader(bytes.NewReader(in), Options{Workers: 3})
		_, err := r.Next(context.Background())
		require.NoError(t, err)
	}()
	require.True(t, settles(base, true), "a dropped Reader stops its goroutine")
}

// settles reports whether the number of goroutines falls to n within 5 s (collecting
// garbage meanwhile if gc). (require.Eventually would count its own goroutines.)
func settles(n int, gc bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if gc {
			runtime.GC()
		}
		if runtime.NumGoroutine() <= n {
			return true
		}
	}
	return false
}

// TestReaderContext: Next returns ctx.Err() when ctx is done, with or without read-ahead.
func TestReaderContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, w := range []int{1, 2} {
		r := NewReader(bytes.NewReader(oracleLog(t)), Options{Workers: w})
		_, err := r.Next(ctx)
		require.ErrorIs(t, err, context.Canceled)
		r.Close()
	}
}

// TestReaderLongLineMidRead: a skipped line that ends past the middle of a full read
// (a NUL-filled hole a crash left in the log) loses no line after it: the start of a line
// a read cut off stays with its end.
func TestReaderLongLineMidRead(t *testing.T) {
	for _, hole := range []int{100 << 10, 150 << 10, 170 << 10, 200 << 10, 400 << 10} {
		var in bytes.Buffer
		in.WriteString("Nov 22 03:00:00 h postfix/qmgr[9]: ABCDEF1: from=<>, size=1\n")
		in.Write(bytes.Repeat([]byte{0}, hole))
		in.WriteString("\n")
		n := 0
		for in.Len() < 1<<20 {
			fmt.Fprintf(&in, "Nov 22 03:00:00 h postfix/error[9]: %05X: to=<u@e.example>, relay=none, status=deferred (x)\n", 0x10000+n)
			n++
		}
		for _, workers := range []int{1, 3} {
			got := readThrough(bytes.NewReader(in.Bytes()), Options{Workers: workers})
			require.NoError(t, got.Err)
			require.Equal(t, n, len(got.Deliveries), "hole of %d bytes, %d workers", hole, workers)
			require.Zero(t, got.Stats.NotLog, "hole of %d bytes: no line cut apart", hole)
			require.Equal(t, int64(n+2), got.Stats.Lines)
			require.Len(t, got.Diags, 1, "only the long line: %v", got.Diags)
		}
	}
}
