package policy

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseEntry checks ParseEntry's invariants on arbitrary values and versions: no panic,
// a valid entry has a configurable level, an invalid one has a warning and a problem, tokens
// are substrings of the value at their offsets, and the match list exists only at the
// levels that accept match=.
func FuzzParseEntry(f *testing.F) {
	seeds := []string{
		// §9 vectors 1-18 (values only).
		"secure match=nexthop:dot-nexthop ciphers=high protocols=>=TLSv1.2",
		"secure tls_connection_reuse=yes",
		"securee",
		"halfdane",
		"SECURE MATCH=NEXTHOP:Dot-Nexthop",
		"secure match = mx.example.com",
		"secure match=mx.example.com,.example.com",
		"encrypt match=mx.example.com",
		"dane match=mx.example.com",
		"may tafile=/path/ta.pem",
		"none ciphers=high foo",
		"verify ciphers=high ciphers=medium",
		"verify ciphers=",
		"verify protocols= exclude=",
		"encrypt servername=-bad.example",
		"encrypt servername=HOSTNAME",
		"encrypt connection_reuse=maybe",
		"encrypt connection_reuse=yes",
		"secure # primary MX",
		"fingerprint\n    match=AB:CD|EF:01",
		"secure {match = mx.example.com:.example.com}",
		"secure policy_ttl=60",
		// Brace and STS corner cases.
		"secure { match=a b, c",
		"secure {match=a}x",
		"secure {}",
		"none { a = b }",
		"secure match=a{b c}:d",
		"secure match=: policy_type=sts mx_host_pattern=*.example policy_domain=a..b",
		"may policy_type=sts policy_ttl=2147483648",
		"fingerprint match=zz:11|AB:CD",
		"",
		" , ",
		"=",
		"secure =x",
	}
	versions := []string{"3.11.6", "3.10.0", "3.9.0", "3.7.4", "3.4.0", "2.10.0"}
	for i, s := range seeds {
		f.Add(s, versions[i%len(versions)])
	}
	f.Fuzz(func(t *testing.T, value, version string) {
		v, err := ParseVersion(version)
		if err != nil {
			v = Latest()
		}
		e := ParseEntry(value, EntryContext{Version: v, Key: "example.com"})
		if i := strings.IndexByte(value, 0); i >= 0 {
			value = value[:i]
		}
		if e.Valid {
			if e.Level < None || e.Level > Secure || e.Level == HalfDane {
				t.Fatalf("valid entry with level %v", e.Level)
			}
			if e.Problem != "" || e.BadToken != -1 {
				t.Fatalf("valid entry with problem %q / bad token %d", e.Problem, e.BadToken)
			}
		} else {
			if len(e.Warnings) == 0 || e.Problem == "" {
				t.Fatalf("invalid entry without warning: %q", value)
			}
			if e.BadToken >= len(e.Tokens) {
				t.Fatalf("bad token %d out of range %d", e.BadToken, len(e.Tokens))
			}
		}
		end := -1
		for _, tk := range e.Tokens {
			if tk.Text == "" || tk.Offset <= end || tk.Offset+len(tk.Text) > len(value) ||
				value[tk.Offset:tk.Offset+len(tk.Text)] != tk.Text {
				t.Fatalf("token %+v not a fresh substring of %q", tk, value)
			}
			end = tk.Offset + len(tk.Text)
		}
		if len(e.MatchRaw) > 0 && e.Level != Fingerprint && e.Level != Verify && e.Level != Secure {
			t.Fatalf("match list at level %v", e.Level)
		}
		for _, m := range e.Match {
			if m == "" {
				t.Fatalf("empty match item in %q", value)
			}
		}
		for _, w := range e.Warnings {
			if !utf8.ValidString(w) {
				t.Fatalf("warning is not valid UTF-8: %q", w)
			}
			for i := 0; i < len(w); i++ {
				if w[i] < 0x20 || w[i] == 0x7f {
					t.Fatalf("warning has a control character: %q", w)
				}
			}
		}
	})
}
