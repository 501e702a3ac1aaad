package reply

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		code     int
		dsn      string
		lines    []string
		text     string
		garbage  int
		warnings int
	}{
		{name: "smtp_chat.c single line with enhanced code", in: "250 2.1.0 Ok\r\n",
			code: 250, dsn: "2.1.0", lines: []string{"250 2.1.0 Ok"}},
		{name: "smtp_chat.c multi-line: code and DSN from the last line", in: "454-4.3.0 first\r\n454 4.7.0 second\r\n",
			code: 454, dsn: "4.7.0", lines: []string{"454-4.3.0 first", "454 4.7.0 second"}, text: "454-4.3.0 first 454 4.7.0 second"},
		{name: "smtp_chat.c no enhanced code: class.0.0", in: "554 go away\r\n", code: 554, dsn: "5.0.0"},
		{name: "smtp_chat.c enhanced code of another class is ignored", in: "454 5.7.0 mismatch\r\n", code: 454, dsn: "4.0.0"},
		{name: "smtp_chat.c 3xx reply keeps the protocol-error DSN 5.5.0", in: "354 go ahead\r\n", code: 354, dsn: "5.5.0"},
		{name: "dsn_util.c detail longer than 3 digits is not a DSN", in: "250 2.1.0000 x\r\n", code: 250, dsn: "2.0.0"},
		{name: "dsn_util.c DSN must be followed by space or end", in: "250 2.1.0x\r\n", code: 250, dsn: "2.0.0"},
		{name: "dsn_util.c DSN at the end of the line", in: "421 4.4.2\r\n", code: 421, dsn: "4.4.2"},
		{name: "smtp_chat.c 3.12: several spaces before the DSN", in: "250   2.0.0 ok\r\n", code: 250, dsn: "2.0.0"},
		{name: "smtp_chat.c bare code line is final", in: "220\r\n", code: 220, dsn: "2.0.0"},
		{name: "smtp_get bare LF ends a line, trailing CRs removed", in: "250-a\n250 b\r\r\n", code: 250, lines: []string{"250-a", "250 b"}},
		{name: "smtp_chat.c garbage lines are stored and skipped", in: "hello\r\n25-x\r\n250 ok\r\n", code: 250, garbage: 2,
			lines: []string{"hello", "25-x", "250 ok"}},
		{name: "printable(): control characters become ?", in: "250 a\tb\x01c\r\n", code: 250, lines: []string{"250 a?b?c"}},
		{name: "printable(): valid UTF-8 kept, invalid bytes become ?", in: "250 \xc3\xa9t\xe9\r\n", code: 250, lines: []string{"250 ét?"}},
		{name: "C strings: text after NUL is lost", in: "250 ok\x00hidden\r\n", code: 250, lines: []string{"250 ok"}},
		{name: "smtp_chat.c leading empty lines vanish from the stored text", in: "\r\n250 ok\r\n", code: 250, garbage: 1, lines: []string{"250 ok"}},
		{name: "smtp_get line of 2047 bytes + CRLF fits exactly", in: "250 " + strings.Repeat("x", 2043) + "\r\n", code: 250},
		{name: "smtp_get line over 2048 bytes is truncated with a warning", in: "250 " + strings.Repeat("x", 2045) + "\r\n", code: 250, warnings: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != tc.code || (tc.dsn != "" && r.DSN != tc.dsn) || r.Garbage != tc.garbage || len(w) != tc.warnings {
				t.Errorf("got code %d dsn %s garbage %d warnings %q", r.Code, r.DSN, r.Garbage, w)
			}
			if tc.lines != nil && !reflect.DeepEqual(r.Lines, tc.lines) {
				t.Errorf("lines %q, want %q", r.Lines, tc.lines)
			}
			if tc.text != "" && r.Text != tc.text {
				t.Errorf("text %q, want %q", r.Text, tc.text)
			}
			for _, l := range r.Lines {
				if len(l) > DefaultLineLimit {
					t.Errorf("stored line of %d bytes", len(l))
				}
			}
		})
	}
}

func TestReplyStorageLimit(t *testing.T) {
	// smtp_chat.c: once 2048 bytes of text are stored, further lines are read but dropped.
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		sb.WriteString("250-" + strings.Repeat("k", 60) + "\r\n")
	}
	sb.WriteString("250 STARTTLS\r\n")
	r, w, err := Parse(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 250 || r.Skipped == 0 || len(w) != 1 || !strings.HasPrefix(w[0], "multi-line response longer than 2048 250-kkk") {
		t.Fatalf("code %d skipped %d warnings %q", r.Code, r.Skipped, w)
	}
	if ParseEHLO(r, nil).STARTTLS {
		t.Error("STARTTLS beyond the stored text must not count (Postfix never sees it)")
	}
}

func TestReplySizeCap(t *testing.T) {
	rr := NewReader(bufio.NewReader(strings.NewReader(strings.Repeat("250-x\r\n", 10000))), 0, 1000, nil)
	_, err := rr.Read()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
	rr = NewReader(bufio.NewReader(strings.NewReader("250-x\r\n250 y")), 0, 0, nil)
	if _, err := rr.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("unterminated reply: err %v", err)
	}
}

func TestParseEHLO(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		discard []string
		want    EHLOInfo
	}{
		{name: "smtp_proto.c first line is the server name", in: "250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
			want: EHLOInfo{Name: "mx.example", Keywords: []string{"PIPELINING", "STARTTLS"}, STARTTLS: true}},
		{name: "smtp_proto.c keywords are case-insensitive", in: "250-mx\r\n250 starttls\r\n",
			want: EHLOInfo{Name: "mx", Keywords: []string{"STARTTLS"}, STARTTLS: true}},
		{name: "smtp_proto.c AUTH=LOGIN style: keyword ends at =", in: "250-mx\r\n250 AUTH=LOGIN\r\n",
			want: EHLOInfo{Name: "mx", Keywords: []string{"AUTH"}}},
		{name: "smtp_discard_ehlo_keywords hides STARTTLS", in: "250-mx\r\n250 STARTTLS\r\n", discard: []string{"starttls"},
			want: EHLOInfo{Name: "mx"}},
		{name: "smtp_proto.c a one-line reply offers nothing", in: "250 STARTTLS\r\n", want: EHLOInfo{Name: "STARTTLS"}},
		{name: "smtp_proto.c a keyword inside a garbage line still counts", in: "250-mx\r\nxSTARTTLS STARTTLS\r\n250 OK\r\n",
			want: EHLOInfo{Name: "mx", Keywords: []string{"STARTTLS", "OK"}, STARTTLS: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ParseEHLO(r, tc.discard); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"250 2.1.0 Ok\r\n", "454-4.7.0 a\r\n454 4.7.0 b\r\n", "220\r\n", "hello\r\n250 ok\r\n",
		"250 \xc3\xa9t\xe9\r\n", "250 ok\x00x\r\n", "\r\n\r\n250 x\r\n", "250-mx\r\n250 AUTH=LOGIN\r\n",
		"421 4.4.2\r\n", "250   2.0.0 ok\r\n", "2", "250-" + strings.Repeat("x", 3000) + "\r\n250 y\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, _, err := Parse(s)
		if r == nil {
			t.Fatal("nil reply")
		}
		stored := 0
		for i, l := range r.Lines {
			if len(l) > DefaultLineLimit {
				t.Fatalf("line %d of %d bytes", i, len(l))
			}
			if strings.ContainsAny(l, "\r\n\x00") {
				t.Fatalf("unprintable byte kept in %q", l)
			}
			stored += len(l)
		}
		if stored > 2*DefaultLineLimit+len(r.Lines) {
			t.Fatalf("stored %d bytes", stored)
		}
		if err == nil {
			if r.Code < 0 || r.Code > 999 || dsnValid(r.DSN) != len(r.DSN) {
				t.Fatalf("code %d dsn %q", r.Code, r.DSN)
			}
			_ = ParseEHLO(r, []string{"starttls"})
		}
	})
}

// smtp_chat_resp() and dsn_valid(): the enhanced code Postfix reports for a reply, from the
// cases the observation parser of policy/verdict had (now the one parser).
func TestParseDSNRule(t *testing.T) {
	for _, tc := range []struct {
		in, dsn, text string
		code          int
	}{
		{"454 4.7.0 TLS not available", "4.7.0", "454 4.7.0 TLS not available", 454},
		{"554-5.7.0 no\r\n554 5.7.0 never", "5.7.0", "554-5.7.0 no 554 5.7.0 never", 554},
		{"454 TLS not available", "4.0.0", "454 TLS not available", 454},
		{"454 5.7.0 class mismatch", "4.0.0", "454 5.7.0 class mismatch", 454},
		{"354 go ahead", "5.5.0", "354 go ahead", 354},
	} {
		r, _, err := Parse(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.code, r.Code, tc.in)
		assert.Equal(t, tc.dsn, r.DSN, tc.in)
		assert.Equal(t, tc.text, r.String(), tc.in)
	}
	for _, bad := range []string{"", "xyz"} {
		_, _, err := Parse(bad)
		assert.Error(t, err, bad)
	}
}
