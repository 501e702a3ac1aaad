package lint

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pin = strings.Repeat("AB:", 31) + "AB"

// fakeMX answers the MX lookups of the tests (tests must not use the public DNS): hosted
// domains have their MX hosts elsewhere.
func fakeMX(_ context.Context, name string) ([]*net.MX, error) {
	switch name {
	case "fastmail.fm", "fastmail.test", "hosted.example":
		return []*net.MX{{Host: "in1-smtp.messagingengine.com.", Pref: 10}}, nil
	}
	return []*net.MX{{Host: "mx." + name + ".", Pref: 10}}, nil
}

// suggestionCase is a configuration whose findings suggest changes.
type suggestionCase struct {
	name, version, main, table string
	dir                        string // an existing configuration directory instead
}

func suggestionCases() []suggestionCase {
	return []suggestionCase{
		{name: "testdata table", table: mustRead("testdata/tls_policy")},
		{name: "examples/lint testdata table", table: mustRead("../../examples/lint/testdata/tls_policy")},
		{name: "examples fastmail configuration", dir: "../../examples/testdata/fastmail"},
		{name: "invalid rows", table: "a.example secure tls_connection_reuse=yes\nb.example securee\nc.example secure match = mx.example.com\n" +
			"d.example secure match=mx.example.com,.example.com ciphers=high\ne.example encrypt match=mx.example.com protocols=>=TLSv1.2\n" +
			"f.example none ciphers=high foo\ng.example verify ciphers=high ciphers=medium\nh.example secure # primary MX\n" +
			"i.example encrypt servername=-bad.example\nj.example fingerprint match=" + pin + "," + pin + "\n"},
		{name: "brace group before 3.10", version: "3.9.1", table: "example.com secure {match = mx.example.com:.example.com} ciphers=high\n"},
		{name: "keys", main: "relayhost = [smtp.example.net]:587\n", table: "[smtp.example.net] encrypt protocols=>=TLSv1.2\nexample.com. verify ciphers=high\n" +
			"*.example.org secure match=.example.org exclude=3DES\n192.0.2.1 encrypt\n*.bad.example securee\n"},
		{name: "bare domains (the issue's rows)", table: "hearst.com secure match=.hearst.com\nfacebook.com secure ciphers=high\n" +
			"partner.example fingerprint match=" + pin + "\nnopins.example fingerprint\nmailbox.example dane-only\n"},
		{name: "fingerprint pins from main.cf", main: "smtp_tls_fingerprint_cert_match = " + pin + "\n", table: "partner.example fingerprint\n*.w.example fingerprint ciphers=high\n"},
		{name: "dane without dnssec", table: "example.com dane\n.example.com dane-only\n"},
		{name: "dane with MX lookup errors ignored", main: "smtp_dns_support_level = dnssec\nignore_mx_lookup_error = yes\n", table: "example.com dane\n.example.com dane\n"},
		{name: "dane with res_dnsrch", main: "smtp_dns_support_level = dnssec\nsmtp_dns_resolver_options = res_dnsrch, res_defnames\n", table: "example.com dane\n.example.com dane\n"},
		{name: "global dane without dnssec", main: "smtp_tls_security_level = dane\n", table: ".x.example may\n"},
		{name: "hostname in secure", main: "smtp_tls_secure_cert_match = hostname, nexthop\n", table: "example.com secure match=hostname:nexthop ciphers=high\n.example.com secure match=hostname\n"},
		{name: "secure MX elsewhere", table: "fastmail.fm secure ciphers=high protocols=>=TLSv1.2 servername=hostname\n.fastmail.fm secure\nhosted.example secure exclude=3DES\n.hosted.example secure\n"},
		{name: "legacy and digests", main: "smtp_use_tls = yes\nsmtp_tls_security_level =\nsmtp_tls_fingerprint_digest = md5\n", table: ".x.example may\n"},
		{name: "unknown digest", main: "smtp_tls_fingerprint_digest = sha3\n", table: ".x.example may\n"},
		{name: "bad boolean", main: "smtp_tls_security_level =\nsmtp_enforce_tls = true\n", table: ".x.example may\n"},
		{name: "misspelt global level", main: "smtp_tls_security_level = secrue\n", table: ".x.example may\n"},
		{name: "dns support level in capitals", main: "smtp_dns_support_level = DNSSEC\n", table: ".x.example may\n"},
		{name: "none and may below the global level", main: "smtp_tls_security_level = encrypt\n", table: "a.example none\nb.example may\n"},
	}
}

// keepsAttributes checks that a row edit keeps every attribute of the admin's row: unless
// it is labelled a downgrade, sets level none (whose attributes Postfix ignores) or removes
// "hostname" from a match list, each attribute name of the old row is in the new one.
func keepsAttributes(t *testing.T, f Finding, x finding.Fix) {
	t.Helper()
	old := x.Old
	for _, r := range x.Requires {
		if r.Delete && r.Kind == finding.FixTableRow {
			old = r.Old
		}
	}
	if old == "" || x.Downgrade != "" || f.Code == CodeHostnameInSecure || strings.HasPrefix(x.Value, "none") {
		return
	}
	names := func(v string) map[string]bool {
		m := map[string]bool{}
		for _, tok := range strings.Fields(v)[1:] {
			if n, _, ok := strings.Cut(tok, "="); ok {
				m[strings.ToLower(n)] = true
			}
		}
		return m
	}
	have := names(x.Value)
	for n := range names(old) {
		if f.Code == CodeInvalidPolicy || f.Code == CodeUnknownAttribute {
			// A correction repairs or drops the rejected attribute.
			continue
		}
		assert.True(t, have[n], "%s: %s drops %s= of %q", f.Code, x, n, old)
	}
}

func mustRead(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// lintCase lints a case with a table (tls_policy beside main.cf).
func lintCase(t *testing.T, c suggestionCase, table string, overrides ...string) (result, string) {
	t.Helper()
	v := c.version
	if v == "" {
		v = "3.7.11"
	}
	dir := c.dir
	if dir == "" || table != c.table {
		main := baseMain + c.main
		if c.dir != "" {
			main = mustRead(filepath.Join(c.dir, "main.cf"))
		}
		dir = setup(t, main, map[string]string{"tls_policy": table})
		if c.dir != "" {
			for _, f := range []string{"cafile.pem"} {
				if b, err := os.ReadFile(filepath.Join(c.dir, f)); err == nil {
					require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
				}
			}
		}
	}
	return lint(t, Options{ConfigDir: dir, Version: policy.MustParseVersion(v), LookupMX: fakeMX, Overrides: overrides}), dir
}

// TestSuggestionsProven enumerates every finding of the example configurations and checks
// every suggested change: it is a typed edit, proven, and a suggested row re-lints without
// an error for its key (alone in the table, with the same main.cf); a main.cf setting
// applied (as an override) makes the finding go away.
func TestSuggestionsProven(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range suggestionCases() {
		t.Run(c.name, func(t *testing.T) {
			r, _ := lintCase(t, c, c.table)
			for _, f := range r.Findings {
				for _, x := range f.Edits {
					seen[f.Code] = true
					assert.NotEmpty(t, x.Proven, "%s: %s", f.Code, x)
					assert.NotEqual(t, finding.FixText, x.Kind)
					assert.Contains(t, f.Fix, x.String(), "the text shows every edit")
					switch {
					case x.Kind == finding.FixTableRow && !x.Delete:
						again, dir := lintCase(t, c, x.Key+" "+x.Value+"\n")
						for _, g := range again.Findings {
							if g.File == filepath.Join(dir, "tls_policy") { // the row's own findings
								assert.NotEqual(t, SeverityError, g.Severity, "%s: the suggested row %q re-lints with %s: %s", f.Code, x, g.Code, g.Message)
							}
						}
						keepsAttributes(t, f, x)
						if ent := policy.ParseEntry(x.Value, policy.EntryContext{Version: policy.MustParseVersion(nonEmpty(c.version, "3.7.11")), Key: x.Key}); ent.Level == policy.Fingerprint &&
							!strings.Contains(c.main, "fingerprint_cert_match") {
							assert.NotEmpty(t, ent.MatchRaw, "a fingerprint row without match= defers: %s", x)
						}
					case x.Kind == finding.FixMainCF && !x.Delete && len(x.Requires) == 0:
						again, _ := lintCase(t, c, c.table, x.Key+"="+x.Value)
						for _, g := range again.Findings {
							assert.False(t, g.Code == f.Code && g.Text == f.Text, "%s stays after %s: %s", f.Code, x, g.Message)
						}
					}
				}
			}
		})
	}
	for _, code := range []Code{CodeInvalidPolicy, CodeUnknownAttribute, CodeIgnoredAttribute, CodeKeyNeverMatches, CodeTrailingDotKey,
		CodeWildcardKey, CodeIPKeyUnbracketed, CodeBareDomainKey, CodeSecureMXOutsideDomain, CodeHostnameInSecure,
		CodeDANEWithoutDNSSEC, CodeDANEOnlyWithoutDNSSEC, CodeWeakFingerprintDigest, CodeUnknownDigest, CodeLegacyParameter,
		CodeNoneOverridesGlobal, CodeWeakerThanGlobal, CodeMainCF} {
		assert.True(t, seen[code], "no proven edit for %s", code)
	}
}

// TestBareDomainKeepsAttributes is the regression: the ".domain" row lint proposes
// for a bare-domain key is the admin's row with every attribute (match=, ciphers=, the
// fingerprints) kept, and a fingerprint row without match= is an error with no row that
// still lacks match=.
func TestBareDomainKeepsAttributes(t *testing.T) {
	table := "hearst.com secure match=.hearst.com\nfacebook.com secure ciphers=high\npartner.example fingerprint match=" + pin + "\nnopins.example fingerprint\n"
	dir := setup(t, baseMain, map[string]string{"tls_policy": table})
	r := lintDir(t, dir, "3.7.11")
	spec := "texthash:" + dir + "/tls_policy"
	want := map[string]string{".hearst.com": "secure match=.hearst.com", ".facebook.com": "secure ciphers=high", ".partner.example": "fingerprint match=" + pin}
	got := map[string]string{}
	for _, f := range r.Findings {
		switch f.Code {
		case CodeBareDomainKey:
			require.Len(t, f.Edits, 1, f.Fix)
			x := f.Edits[0]
			assert.Equal(t, finding.FixTableRow, x.Kind)
			assert.Equal(t, spec, x.Table)
			assert.NotEmpty(t, x.Proven)
			got[x.Key] = x.Value
			assert.Contains(t, f.Fix, x.Key+" "+x.Value)
		case CodeFingerprintNoPins:
			assert.Equal(t, SeverityError, f.Severity)
			assert.Empty(t, f.Edits, "no row can be proposed without the server's fingerprint")
			assert.NotContains(t, f.Fix, "nopins.example fingerprint ", "no row that lacks match=")
			assert.Contains(t, f.Fix, "match=")
		default:
			t.Errorf("unexpected finding %s: %s", f.Code, f.Message)
		}
	}
	assert.Equal(t, want, got)
	_, ok := find(r, CodeFingerprintNoPins)
	assert.True(t, ok)
}

// TestSecureMXKeepsAttributes checks that the secure-mx-outside-domain fix edits the row:
// the provider's domain goes into a new match= right after the level, ciphers=,
// protocols= and servername= stay; the verify alternative is labelled a downgrade.
func TestSecureMXKeepsAttributes(t *testing.T) {
	dir := setup(t, baseMain, map[string]string{"tls_policy": "fastmail.fm secure ciphers=high protocols=>=TLSv1.2 servername=hostname\n.fastmail.fm secure\n"})
	r := lint(t, Options{ConfigDir: dir, Version: policy.V(3, 7, 11), LookupMX: fakeMX})
	f, ok := find(r, CodeSecureMXOutsideDomain)
	require.True(t, ok, "%v", r.Findings)
	require.Len(t, f.Edits, 2)
	assert.Equal(t, "secure match=nexthop:dot-nexthop:.messagingengine.com ciphers=high protocols=>=TLSv1.2 servername=hostname", f.Edits[0].Value)
	assert.Empty(t, f.Edits[0].Downgrade)
	assert.Equal(t, "verify ciphers=high protocols=>=TLSv1.2 servername=hostname", f.Edits[1].Value)
	assert.NotEmpty(t, f.Edits[1].Downgrade)
	for _, x := range f.Edits {
		assert.Equal(t, "secure ciphers=high protocols=>=TLSv1.2 servername=hostname", x.Old)
	}
}

// TestUnprovenNotShown checks that a suggestion the proof rejects is not shown: the
// key-rename of a fingerprint row without match= (Postfix parses it, then marks the policy
// invalid: "no fingerprints to match") falls back to words; a correction that drops a
// security attribute is shown labelled as a downgrade.
func TestUnprovenNotShown(t *testing.T) {
	dir := setup(t, baseMain, map[string]string{"tls_policy": "*.example.com fingerprint\n*.example.net\tsecure tafile=/nonexistent/ta.pem\n"})
	r := lintDir(t, dir, "3.7.11")
	var wild []Finding
	for _, f := range r.Findings {
		if f.Code == CodeWildcardKey {
			wild = append(wild, f)
		}
	}
	require.Len(t, wild, 2, "%v", r.Findings)
	assert.Empty(t, wild[0].Edits, "a row the evaluator would defer is never suggested")
	assert.Contains(t, wild[0].Fix, ".example.com")
	require.Len(t, wild[1].Edits, 1)
	assert.Equal(t, "secure", wild[1].Edits[0].Value)
	assert.Contains(t, wild[1].Edits[0].Downgrade, "tafile=")
	assert.Contains(t, wild[1].Fix, "DOWNGRADE")
}
