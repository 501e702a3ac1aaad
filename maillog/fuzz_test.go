package maillog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		"Feb  2 12:15:21 postfix/smtp[1520]: ABCDE2: to=<a@b>, relay=none, dsn=4.7.5, status=deferred (x)",
		"<22>1 - - postfix/smtp - - - x",
		"<22>1 2026-11-22T03:00:00Z - postfix/smtp 9 - - x",
		"2026-11-22T03:00:00Z postfix/smtp[9]: x",
		"<22>1 - h postfix/smtp 1 - [a",    // structured data without its "]"
		"<22>1 - h postfix/smtp 1 - [a\\]", // ... its "]" escaped
		"<22>1 - h postfix/smtp 1 - [a][b",
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

// FuzzLineForms writes one tag and text in every line form the reader accepts (RFC 3164
// with and without a host, ISO 8601, RFC 5424 with and without timestamp and host, bare)
// and checks that each form parses to the same program, pid and text, with the timestamp
// kept as written.
func FuzzLineForms(f *testing.F) {
	f.Add("postfix/smtp", uint32(1520), "mx", "ABCDE12345: to=<a@b>, relay=none, dsn=4.4.1, status=deferred (x)")
	f.Add("postfix-out/relay/smtp", uint32(7), "host.example", "Verified TLS connection established to a[1.2.3.4]:25: TLSv1.3")
	f.Add("p/q", uint32(0), "-", "")
	f.Fuzz(func(t *testing.T, prog string, pid uint32, host, text string) {
		// The forms' own grammar: a tag has no space, '[', ':' or newline; a host is a
		// word without '['; the text is one line.
		if prog == "" || len(prog) > 200 || strings.ContainsAny(prog, " []:\r\n") || prog == "-" ||
			host == "" || strings.ContainsAny(host, " [\r\n") || strings.ContainsAny(text, "\r\n") ||
			strings.HasPrefix(text, " ") {
			t.Skip()
		}
		tag := fmt.Sprintf("%s[%d]: ", prog, pid)
		forms := []struct{ line, logged, host string }{
			{"Feb  2 12:15:21 " + host + " " + tag + text, "Feb  2 12:15:21", host},
			{"Feb  2 12:15:21 " + tag + text, "Feb  2 12:15:21", ""},
			{"2026-02-02T12:15:21.5+01:00 " + host + " " + tag + text, "2026-02-02T12:15:21.5+01:00", host},
			{"2026-02-02T12:15:21.5+01:00 " + tag + text, "2026-02-02T12:15:21.5+01:00", ""},
			{fmt.Sprintf("<22>1 2026-02-02T12:15:21Z %s %s %d - - %s", host, prog, pid, text), "2026-02-02T12:15:21Z", host},
			{fmt.Sprintf("<22>1 - %s %s %d - - %s", host, prog, pid, text), "", host},
			{tag + text, "", ""},
		}
		for _, c := range forms {
			if strings.HasPrefix(c.line, "<22>1") && (strings.HasPrefix(text, "[") || strings.HasPrefix(text, "-")) {
				continue // would read as structured data
			}
			wantHost := c.host
			if wantHost == "-" && strings.HasPrefix(c.line, "<22>1") {
				wantHost = ""
			}
			if c.host != "" && isMonth([]byte(host)) {
				continue // a host named like a month
			}
			if c.line == tag+text && (isMonth([]byte(prog)) || len(prog) >= 4 && isDigits([]byte(prog[:4])) || prog[0] == '#' || prog[0] == '<') {
				continue // a bare tag that reads as a timestamp, a comment or a <PRI>
			}
			l, err := ParseLine([]byte(c.line), 2026)
			if err != nil {
				t.Fatalf("%q: %v", c.line, err)
			}
			if l.Program != prog || l.PID != int(pid) || l.Text != text || l.Logged != c.logged || l.Host != wantHost {
				t.Fatalf("%q: got program %q pid %d host %q logged %q text %q", c.line, l.Program, l.PID, l.Host, l.Logged, l.Text)
			}
		}
	})
}

// FuzzHeaderCache: a line's header read after another line, in the same piece or as the
// first line of the next one (which may share its first bytes: header then reuses the
// earlier header, or its stamp and host), is the header read on its own.
func FuzzHeaderCache(f *testing.F) {
	f.Add("Nov 22 03:00:00 h postfix/smtp[1]: a", "Nov 22 03:00:00 h postfix/smtp[1]: b")
	f.Add("Nov 22 03:00:00 h postfix/smtp[1]:a", "Nov 22 03:00:00 h postfix/smtp[1]: b")
	f.Add("Nov 22 03:00:00 h postfix/smtp[1]: a", "Nov 22 03:00:00 h postfix/smtp[1]:  b")
	f.Add("<22>1 2026-11-22T03:00:00Z h postfix/smtp 1 - - a", "<22>1 2026-11-22T03:00:00Z h postfix/smtp 1 - -   b")
	f.Add("2026-11-22T03:00:00.5+01:00 h postfix/qmgr[2]: x", "2026-11-22T03:00:00.5+01:00 h postfix/qmgr[2]: y")
	f.Add("postfix/smtp[1]: x", "postfix/smtp[1]: y")
	// the same stamp and host, another tag (only the tag is read again)
	f.Add("Nov 22 03:00:00 h postfix/smtp[1]: a", "Nov 22 03:00:00 h postfix/qmgr[2]: b")
	f.Add("Nov 22 03:00:00 h postfix/smtp[1]: a", "Nov 22 03:00:00 h  postfix/qmgr[2]: b")
	f.Add("Nov 22 03:00:00 h postfix/smtp[1]: a", "Nov 22 03:00:00 h qmgr: b")
	f.Add("Nov 22 03:00:00 postfix/smtp[1]: a", "Nov 22 03:00:00 postfix/qmgr[2]: b")
	f.Add("2026-11-22T03:00:00.5+01:00 h postfix/qmgr[2]: x", "2026-11-22T03:00:00.5+01:00 h postfix/smtp[3]: y")
	// read returns the header of the last of lines, each line after the first in a new
	// piece when pieces is set.
	read := func(pieces bool, lines ...string) (Line, int, error) {
		lp := newLineParser(2026)
		ps := make([]piece, len(lines))
		var i int32
		var p int
		var err error
		for k, l := range lines {
			if k == 0 || pieces {
				if k > 0 {
					lp.endPiece()
				}
				lp.startPiece(&ps[k])
			}
			i, p, err = lp.header([]byte(l))
		}
		if err != nil {
			return Line{}, 0, err
		}
		return lp.pc.hdrs[i], p, nil
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		lc, pc, errc := read(false, b)
		for _, pieces := range []bool{false, true} {
			lb, pb, errb := read(pieces, a, b)
			if (errb == nil) != (errc == nil) || pb != pc || !sameHeader(lb, lc) {
				t.Fatalf("after %q (new piece: %v), %q reads as %+v at %d (%v); alone %+v at %d (%v)", a, pieces, b, lb, pb, errb, lc, pc, errc)
			}
		}
	})
}

// sameHeader compares two headers; their times are the same instant in the same zone
// (each ISO 8601 stamp with an offset gets a zone of its own).
func sameHeader(a, b Line) bool {
	_, oa := a.Time.Zone()
	_, ob := b.Time.Zone()
	ta, tb := a.Time, b.Time
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb) && oa == ob && ta.Location().String() == tb.Location().String()
}
