package maillog

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseLine feeds arbitrary lines to the line parser and the whole reader: no panics,
// bounded state, and a parsed line's text is a suffix of the input.
func FuzzParseLine(f *testing.F) {
	files, _ := filepath.Glob("testdata/oracle/*-l2.log")
	for _, name := range files[:min(len(files), 6)] {
		b, err := os.ReadFile(name)
		if err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				f.Add(l)
			}
		}
	}
	for _, s := range []string{
		"Nov  2 03:00:00 h postfix/smtp[1]: x[1]:25 Matched CommonName a",
		"2026-11-22T03:00:00Z h postfix-out/smtp[7]: y[2]:25: subject_CN=a, issuer=b, cert fingerprint=c, pkey fingerprint=d",
		"<22>1 2026-11-22T03:00:00Z h postfix/smtp 11 [a b=\"]\"] - ABCDE2: to=<a@b>, relay=none, dsn=4.7.5, status=deferred (x)",
		"postfix/smtp[1]: ABCDEF: host x[1] said: 450 no",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLine([]byte(s), 2026)
		if err == nil && !strings.HasSuffix(s, l.Text) {
			t.Fatalf("text %q is not a suffix of %q", l.Text, s)
		}
		r := NewReader(strings.NewReader(s+"\n"+s), Options{MaxOpenQueueIDs: 4, MaxProcesses: 4})
		for {
			_, err := r.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if q, p := r.Open(); q > 4 || p > 4 {
			t.Fatalf("open state %d/%d beyond the caps", q, p)
		}
	})
}
