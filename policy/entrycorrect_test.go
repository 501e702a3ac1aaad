package policy

import (
	"testing"
)

// TestEntryCorrections: for a value Postfix rejects (smtp_tls_policy.c), the nearest value it
// accepts, every other token kept.
func TestEntryCorrections(t *testing.T) {
	for _, c := range []struct {
		name, value, version, want string
	}{
		{"match= is not an encrypt attribute", "encrypt match=.example.net ciphers=high", "3.7.11", "encrypt ciphers=high"},
		{"a comma ends the match= value", "secure match=.example.net,.example.org", "3.7.11", "secure match=.example.net:.example.org"},
		{"a misspelled level", "secrue ciphers=high", "3.7.11", "secure ciphers=high"},
		{"a comma ends a fingerprint list, whose separator is '|'", "fingerprint match=00:11,22:33", "3.7.11", "fingerprint match=00:11|22:33"},
		{"a comma ends the protocols= value", "encrypt protocols=!SSLv2,!SSLv3", "3.7.11", "encrypt protocols=!SSLv2:!SSLv3"},
		{"spaces around '='", "secure match = .example.net", "3.7.11", "secure match=.example.net"},
		{"a misspelled attribute name", "secure tls_connection_reuse=yes", "3.7.11", "secure connection_reuse=yes"},
		{"ciphers given twice", "secure ciphers=high ciphers=medium", "3.7.11", "secure ciphers=high"},
		{"tafile at encrypt", "encrypt tafile=/etc/postfix/ta.pem", "3.7.11", "encrypt"},
		{"brace groups need 3.10", "secure { match = .example.net }", "3.9.14", "secure match=.example.net"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ec := EntryContext{Version: MustParseVersion(c.version), Key: "example.com"}
			e := ParseEntry(c.value, ec)
			if e.Valid {
				t.Fatalf("%q is valid", c.value)
			}
			got := e.Corrections(ec)
			if len(got) == 0 || got[0] != c.want {
				t.Errorf("corrections %q, want %q first", got, c.want)
			}
			for _, v := range got {
				if !ParseEntry(v, ec).Valid {
					t.Errorf("correction %q is not valid", v)
				}
			}
		})
	}
}

// FuzzEntryCorrections: corrections never panic and are always values Postfix accepts.
func FuzzEntryCorrections(f *testing.F) {
	for _, s := range []string{"secrue", "secure match = x", "encrypt match=a,b", "secure { match = a b }", "fingerprint match", "verify tafile="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > 512 {
			return
		}
		ec := EntryContext{Version: V(3, 9, 0), Key: "example.com"}
		e := ParseEntry(value, ec)
		for _, v := range e.Corrections(ec) {
			if !ParseEntry(v, ec).Valid {
				t.Fatalf("%q: correction %q is not valid", value, v)
			}
		}
	})
}

// TestCorrectionFixes: the corrections as typed row fixes (shared by Diagnose and lint), the
// row they replace in Old, and a correction that drops a security attribute labelled.
func TestCorrectionFixes(t *testing.T) {
	ec := EntryContext{Version: MustParseVersion("3.7.11"), Key: "example.com"}
	e := ParseEntry("encrypt   tafile=/etc/postfix/ta.pem ciphers=high", ec)
	fx := e.CorrectionFixes("texthash:/etc/postfix/tls_policy", "example.com", ec)
	if len(fx) == 0 {
		t.Fatal("no correction")
	}
	got := fx[0]
	if got.Kind != "table-row" || got.Table != "texthash:/etc/postfix/tls_policy" || got.Key != "example.com" ||
		got.Value != "encrypt ciphers=high" || got.Old != "encrypt tafile=/etc/postfix/ta.pem ciphers=high" {
		t.Errorf("got %+v", got)
	}
	if got.Downgrade != "drops the tafile= setting the row had" {
		t.Errorf("Downgrade = %q", got.Downgrade)
	}
	if v := ParseEntry("secure", ec); v.CorrectionFixes("t", "k", ec) != nil {
		t.Error("a valid entry has no corrections")
	}
}
