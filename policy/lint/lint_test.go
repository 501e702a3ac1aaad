package lint

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/maphash"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is what one Run passed on and returned.
type result struct {
	Findings []Finding
	Summary
}

// setup writes main.cf (with {{dir}} replaced by the directory) and the other files.
func setup(t *testing.T, mainCF string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(text, "{{dir}}", dir)), 0o644))
	}
	write("main.cf", mainCF)
	for name, text := range files {
		write(name, text)
	}
	return dir
}

// lint runs Run and collects the findings; it fails the test when Run fails.
func lint(t *testing.T, o Options) result {
	t.Helper()
	r, err := collect(context.Background(), o)
	require.NoError(t, err)
	return r
}

// collect runs Run and keeps every finding.
func collect(ctx context.Context, o Options) (result, error) {
	var r result
	sum, err := Run(ctx, o, func(f Finding) error { r.Findings = append(r.Findings, f); return nil })
	r.Summary = sum
	return r, err
}

// lintDir lints a configuration directory with every advice finding.
func lintDir(t *testing.T, dir, version string) result {
	t.Helper()
	return lint(t, Options{ConfigDir: dir, Version: policy.MustParseVersion(version)})
}

func codes(r result) []Code {
	var c []Code
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

func find(r result, code Code) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Code == code {
			return f, true
		}
	}
	return Finding{}, false
}

const baseMain = "compatibility_level = 3.6\nsmtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"

// TestTableFindings checks one policy row (or main.cf setting) per case: the finding code,
// its severity, and for Postfix's own errors the exact text.
func TestTableFindings(t *testing.T) {
	type tc struct {
		name    string
		version string
		main    string // appended to baseMain
		table   string
		code    Code // expected finding ("" = no finding at all)
		sev     Severity
		message string // exact message, when Postfix's
		fix     string // substring of the fix
	}
	cases := []tc{
		{name: "§9.1 a valid secure entry has no finding", table: "example.com secure match=nexthop:dot-nexthop ciphers=high protocols=>=TLSv1.2\n.example.com secure\n"},
		{name: "§9.2 unknown attribute tls_connection_reuse", table: "example.com secure tls_connection_reuse=yes\n",
			code: CodeUnknownAttribute, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "tls_connection_reuse"`, fix: "connection_reuse=yes"},
		{name: "§9.3 misspelt level", table: "example.com securee\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid security level "securee"`, fix: `did you mean "secure"`},
		{name: "§9.4 halfdane is not configurable", table: "example.com halfdane\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid security level "halfdane"`},
		{name: "§9.4 a level word that misspells no level gets candidate rows, not a correction", table: "example.com bogus-level\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid security level "bogus-level"`,
			fix:     "candidate rows, strongest first (the level you meant is unknown): example.com secure; or: example.com verify; or: example.com encrypt; or: example.com may"},
		{name: "§9.5 level and attribute and strategy names are case-insensitive", table: "example.com SECURE MATCH=NEXTHOP:Dot-Nexthop\n.example.com secure\n"},
		{name: "§9.6 spaces around '='", table: "example.com secure match = mx.example.com\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "match": missing '=' after attribute name`, fix: "without spaces"},
		{name: "§9.7 comma inside a match list", table: "example.com secure match=mx.example.com,.example.com\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair ".example.com": missing '=' after attribute name`, fix: "separate match names with ':'"},
		{name: "§9.8 match at encrypt", table: "example.com encrypt match=mx.example.com\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "match" invalid at security level "encrypt"`},
		{name: "§9.9 tafile at may", table: "example.com may tafile=/path/ta.pem\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "tafile" invalid at security level "may"`},
		{name: "§9.10 attributes after none are ignored with a warning", table: "example.com none ciphers=high foo\n", code: CodeIgnoredAttribute, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": ignoring attribute "ciphers=high" with TLS disabled`},
		{name: "§9.11 attribute given twice", table: "example.com verify ciphers=high ciphers=medium\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "ciphers" is specified multiple times`},
		{name: "§9.12 empty ciphers", table: "example.com verify ciphers=\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "ciphers" has empty value`},
		{name: "§9.12 empty protocols and exclude are valid", table: "example.com verify protocols= exclude=\n.example.com verify\n"},
		{name: "§9.13 invalid servername", table: "example.com encrypt servername=-bad.example\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": "servername=-bad.example" specifies an invalid hostname`},
		{name: "§9.14 connection_reuse with a bad value", table: "example.com encrypt connection_reuse=maybe\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "connection_reuse" has bad value: "maybe"`},
		{name: "§9.14 connection_reuse broken in 3.4.0-3.4.13", version: "3.4.5", table: "example.com encrypt connection_reuse=yes\n", code: CodeUnknownAttribute, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "connection_reuse"`, fix: "broken in Postfix 3.4.0-3.4.13"},
		{name: "§9.15 trailing comment", table: "example.com secure # primary MX\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "#": missing '=' after attribute name`, fix: "remove the comment"},
		{name: "§9.16 comment line inside a multi-line entry", table: "example.com fingerprint\n# old key\n    match=" + strings.Repeat("AB:", 31) + "AB\n.example.com may\n"},
		{name: "§9.17 brace group before 3.10", version: "3.9.1", table: "example.com secure {match = mx.example.com:.example.com}\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "{match": missing '=' after attribute name`, fix: "3.10"},
		{name: "§9.17 brace group from 3.10", version: "3.10.0", table: "example.com secure {match = mx.example.com:.example.com}\n.example.com secure\n"},
		{name: "§9.18 TLSRPT attribute without policy_type on 3.10", version: "3.10.0", table: "example.com secure policy_ttl=60\n", code: CodeInvalidPolicy, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": built-in policy has unexpected attribute policy_ttl, policy_domain, policy_string, mx_host_pattern or policy_failure`},
		{name: "§9.18 policy_ttl unknown before 3.10", version: "3.9.1", table: "example.com secure policy_ttl=60\n", code: CodeUnknownAttribute, sev: SeverityError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "policy_ttl"`, fix: "needs Postfix 3.10"},
		{name: "§1.3 servername unknown before 3.4", version: "3.3.1", table: "example.com encrypt servername=hostname\n", code: CodeUnknownAttribute, sev: SeverityError, fix: "needs Postfix 3.4"},
		{name: "§1.1 a line without value is skipped", table: "example.com\n", code: CodeTableSyntax, sev: SeverityError,
			message: "{{dir}}/tls_policy, line 1: expected format: key whitespace value -- ignoring this line"},
		{name: "§1.1 duplicate key makes a texthash table unavailable in smtp(8)", table: "a.example may\nb.example may\nA.example encrypt\n", code: CodeDuplicateKey, sev: SeverityError,
			message: `{{dir}}/tls_policy, line 3: duplicate entry: "A.example"`, fix: "first at line 1"},
		{name: "§6.5 missing tafile makes the entry invalid", table: "example.com secure tafile={{dir}}/none.pem\n", code: CodeTAFileUnreadable, sev: SeverityError,
			message: `error opening trust anchor file: {{dir}}/none.pem: No such file or directory`},
		{name: "§6.5 a tafile without PEM objects makes the entry invalid", table: "example.com secure tafile={{dir}}/main.cf\n", code: CodeTAFileUnreadable, sev: SeverityError, fix: "PEM"},
		{name: "§5.1 unknown fingerprint digest disables TLS", main: "smtp_tls_fingerprint_digest = sha3\n", table: ".x.example may\n", code: CodeUnknownDigest, sev: SeverityError,
			message: `Digest algorithm "sha3" not found`},

		{name: "§1.4 invalid global level is fatal", main: "smtp_tls_security_level = secrue\n", table: ".x.example may\n", code: CodeMainCF, sev: SeverityError,
			message: `Invalid TLS level "secrue"`},
		{name: "§1.4 invalid insecure-MX policy is fatal", main: "smtp_tls_dane_insecure_mx_policy = maybe\n", table: ".x.example may\n", code: CodeMainCF, sev: SeverityError,
			message: `invalid smtp_tls_dane_insecure_mx_policy: "maybe"`},

		{name: "§6.1 smtp_dns_support_level is case-sensitive", main: "smtp_dns_support_level = DNSSEC\n", table: ".x.example may\n", code: CodeMainCF, sev: SeverityError,
			message: `invalid smtp_dns_support_level: "DNSSEC"`},

		// Advice.
		{name: "§9.22 [host] key while relayhost has a port", main: "relayhost = [smtp.example.net]:587\n", table: "[smtp.example.net] encrypt\n",
			code: CodeKeyNeverMatches, sev: SeverityWarning, fix: "[smtp.example.net]:587 encrypt"},
		{name: "§9.23 bare key while transport uses [host]", main: "default_transport = smtp:[mx.example.net]\n", table: "mx.example.net encrypt\n.mx.example.net encrypt\n",
			code: CodeKeyNeverMatches, sev: SeverityWarning, fix: "[mx.example.net] encrypt"},
		{name: "§2.1 relayhost with a bad port", main: "relayhost = [r.example]:99999\n", table: ".x.example may\n", code: CodeNextHopSyntax, sev: SeverityError,
			message: "bad network port: 99999 for destination: [r.example]:99999"},
		{name: "§9.23 transport_maps next hop with a port", main: "transport_maps = texthash:{{dir}}/transport\n",
			table: "[mx.example.net] encrypt\n", code: CodeKeyNeverMatches, sev: SeverityWarning, fix: "[mx.example.net]:2525 encrypt"},
		{name: "§2.1 the configured key matches", main: "relayhost = [smtp.example.net]:587\n", table: "[smtp.example.net]:587 encrypt\n"},
		{name: "§2.2 key with a trailing dot", table: "example.com. verify\n", code: CodeTrailingDotKey, sev: SeverityWarning, fix: "example.com verify"},
		{name: "§2.2 wildcard key is literal", table: "*.example.com verify\n", code: CodeWildcardKey, sev: SeverityWarning, fix: ".example.com verify"},
		{name: "§2.1 address key without brackets", table: "192.0.2.1 encrypt\n", code: CodeIPKeyUnbracketed, sev: SeverityWarning, fix: "[192.0.2.1] encrypt"},
		{name: "§9.21 bare domain does not cover subdomains", table: "example.com secure\n", code: CodeBareDomainKey, sev: SeverityNote, fix: ".example.com secure"},
		{name: "§9.21 the subdomain row keeps every attribute", table: "example.com  secure   match=nexthop:.mx.example ciphers=high\n", code: CodeBareDomainKey, sev: SeverityNote,
			fix: ".example.com secure match=nexthop:.mx.example ciphers=high   ("},
		{name: "§5.1 fingerprint without pins is invalid", table: "example.com fingerprint\n.example.com may\n", code: CodeFingerprintNoPins, sev: SeverityError,
			message: "nexthop domain example.com: configured at fingerprint security level, but with no fingerprints to match. (delivery defers: client TLS configuration problem)"},
		{name: "§5.1 fingerprint pins from main.cf", main: "smtp_tls_fingerprint_cert_match = " + strings.Repeat("AB:", 31) + "AB\n", table: "example.com fingerprint\n.example.com fingerprint\n"},
		{name: "§9.68 dane without dnssec lookups", table: "example.com dane\n.example.com dane\n", code: CodeDANEWithoutDNSSEC, sev: SeverityWarning, fix: "smtp_dns_support_level = dnssec"},
		{name: "§6.1 dane-only without dnssec lookups", table: "example.com dane-only\n.example.com dane-only\n", code: CodeDANEOnlyWithoutDNSSEC, sev: SeverityWarning},
		{name: "§6.1 item 3 dane with MX lookup errors ignored (dane_init's rule, shared with policy)", main: "smtp_dns_support_level = dnssec\nignore_mx_lookup_error = yes\n",
			table: "example.com dane\n.example.com dane\n", code: CodeDANEWithoutDNSSEC, sev: SeverityWarning, fix: "ignore_mx_lookup_error = no"},
		{name: "§6.1 item 3 dane with res_dnsrch", main: "smtp_dns_support_level = dnssec\nsmtp_dns_resolver_options = res_dnsrch\n",
			table: "example.com dane\n.example.com dane\n", code: CodeDANEWithoutDNSSEC, sev: SeverityWarning, fix: "remove res_defnames and res_dnsrch from smtp_dns_resolver_options"},
		{name: "§6.1 dane with dnssec lookups on: nothing to say", main: "smtp_dns_support_level = dnssec\n", table: "example.com dane\n.example.com dane\n"},
		{name: "§6.1 dane with dnssec lookups is fine", main: "smtp_dns_support_level = dnssec\n", table: "example.com dane\n.example.com dane\n"},
		{name: "§5.1 md5 fingerprint digest", main: "smtp_tls_fingerprint_digest = md5\n", table: ".x.example may\n", code: CodeWeakFingerprintDigest, sev: SeverityWarning, fix: "sha256"},
		{name: "§5.1 md5 by compatibility_level < 3.6", main: "compatibility_level = 2\n", table: ".x.example may\n", code: CodeWeakFingerprintDigest, sev: SeverityWarning},
		{name: "§9.53 MD5-sized pin with the sha256 digest", table: "example.com fingerprint match=" + strings.Repeat("AB:", 15) + "AB\n.example.com may\n",
			code: CodeFingerprintLengthMismatch, sev: SeverityWarning},
		{name: "§4.1 hostname in a secure match list", table: "example.com secure match=hostname:nexthop\n.example.com secure\n", code: CodeHostnameInSecure, sev: SeverityWarning},
		{name: "§4.1 hostname in smtp_tls_secure_cert_match", main: "smtp_tls_secure_cert_match = hostname\n", table: ".x.example may\n", code: CodeHostnameInSecure, sev: SeverityWarning},
		{name: "§2.4 legacy smtp_use_tls", main: "smtp_use_tls = yes\n", table: ".x.example may\n", code: CodeLegacyParameter, sev: SeverityWarning, fix: "smtp_tls_security_level"},
		{name: "§2.4 legacy smtp_tls_per_site", main: "smtp_tls_per_site = texthash:{{dir}}/per_site\n", table: ".x.example may\n", code: CodeLegacyParameter, sev: SeverityWarning, fix: "MUST -> verify"},
		{name: "§9.25 none overrides a stronger global level", table: "example.com none\n", code: CodeNoneOverridesGlobal, sev: SeverityNote},
		{name: "§9.25 may under a TLS-required global level", main: "smtp_tls_security_level = encrypt\n", table: "example.com may\n", code: CodeWeakerThanGlobal, sev: SeverityNote},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := setup(t, baseMain+c.main, map[string]string{"tls_policy": c.table, "transport": "example.com smtp:[mx.example.net]:2525\n"})
			v := c.version
			if v == "" {
				v = "3.7.11"
			}
			r := lintDir(t, dir, v)
			if c.code == "" {
				assert.Empty(t, r.Findings)
				return
			}
			f, ok := find(r, c.code)
			require.True(t, ok, "want %s, got %v", c.code, r.Findings)
			for _, g := range r.Findings { // several findings of one code: the one with the message
				if g.Code == c.code && g.Message == strings.ReplaceAll(c.message, "{{dir}}", dir) {
					f = g
				}
			}
			assert.Equal(t, c.sev, f.Severity)
			if c.message != "" {
				assert.Equal(t, strings.ReplaceAll(c.message, "{{dir}}", dir), f.Message)
			}
			if c.fix != "" {
				assert.Contains(t, f.Fix, c.fix)
			}
			assert.NotEmpty(t, f.File)
			if strings.HasPrefix(c.name, "§9.1") || f.File == filepath.Join(dir, "tls_policy") {
				assert.Positive(t, f.Line)
			}
		})
	}
}

// TestHashTable checks the indexed-table path: the compiled file must exist (§9.19), and
// postmap's duplicate warning has its own words.
func TestHashTable(t *testing.T) {
	main := "smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n"
	t.Run("§9.19 hash table without .db is unavailable", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": ".example.com secure\n"})
		r := lintDir(t, dir, "3.7.11")
		assert.Positive(t, r.Errors)
		f, ok := find(r, CodeTableUnavailable)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, fmt.Sprintf("hash:%s/tls_policy is unavailable. open database %s/tls_policy.db: No such file or directory", dir, dir), f.Message)
		assert.Contains(t, f.Fix, "postmap")
	})
	t.Run("§1.1 a compiled file older than its source", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": ".example.com secure\n", "tls_policy.db": ""})
		old := time.Now().Add(-time.Hour)
		require.NoError(t, os.Chtimes(filepath.Join(dir, "tls_policy.db"), old, old))
		src := time.Now().Add(-10 * time.Minute)
		require.NoError(t, os.Chtimes(filepath.Join(dir, "tls_policy"), src, src))
		r := lintDir(t, dir, "3.7.11")
		f, ok := find(r, CodeTableStale)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, fmt.Sprintf("database %s/tls_policy.db is older than source file %s/tls_policy", dir, dir), f.Message)
		assert.Contains(t, f.Fix, "postmap")
	})
	t.Run("§1.1 postmap keeps the first of two duplicate keys", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": ".example.com secure\n.example.com may\n", "tls_policy.db": ""})
		r := lintDir(t, dir, "3.7.11")
		assert.Positive(t, r.Errors)
		f, ok := find(r, CodeDuplicateKey)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, fmt.Sprintf(`%s/tls_policy.db: duplicate entry: ".example.com"`, dir), f.Message)
		assert.Equal(t, 2, f.Line)
	})
}

// TestChunksAreInvisible checks that reading a table in chunks changes nothing: duplicates
// across chunks, multi-line entries and comment lines inside them, line numbers.
func TestChunksAreInvisible(t *testing.T) {
	table := "# head\nexample.com secure\n  match=nexthop\n# comment inside\n  protocols=>=TLSv1.2\n" +
		"b.example may\n\n  c.example may\nexample.COM verify\nbadline\n.d.example secure # x\nb.example encrypt\n*.e.example verify\nf.example. may\n"
	dir := setup(t, baseMain, map[string]string{"tls_policy": table})
	var outs []result
	for _, chunk := range []int{1, 7, 64, 65536} {
		r := lint(t, Options{ConfigDir: dir, Version: policy.V(3, 7, 11), MaxAdvice: 20, ChunkSize: chunk})
		assert.Positive(t, r.Errors)
		outs = append(outs, r)
	}
	for i := 1; i < len(outs); i++ {
		assert.Equal(t, outs[0], outs[i])
	}
	file := filepath.Join(dir, "tls_policy")
	require.GreaterOrEqual(t, indexOf(outs[0], 9, CodeDuplicateKey), 0, "%v", outs[0].Findings)
	require.GreaterOrEqual(t, indexOf(outs[0], 12, CodeDuplicateKey), 0, "%v", outs[0].Findings)
	require.GreaterOrEqual(t, indexOf(outs[0], 6, CodeInvalidPolicy), 0, "%v", outs[0].Findings)
	assert.Equal(t, file+`, line 9: duplicate entry: "example.COM"`, outs[0].Findings[indexOf(outs[0], 9, CodeDuplicateKey)].Message)
	assert.Equal(t, file+`, line 12: duplicate entry: "b.example"`, outs[0].Findings[indexOf(outs[0], 12, CodeDuplicateKey)].Message)
	// §1.1: a blank line does not end an entry, so "  c.example may" continues line 6.
	f := outs[0].Findings[indexOf(outs[0], 6, CodeInvalidPolicy)]
	assert.True(t, strings.HasPrefix(f.Message, `smtp_tls_policy_maps, next-hop destination "b.example": malformed attribute/value pair "c.example"`), f.Message)
}

// indexOf returns the index of the first finding with the line and code (-1 if none).
func indexOf(r result, line int, code Code) int {
	for i, f := range r.Findings {
		if f.Line == line && f.Code == code {
			return i
		}
	}
	return -1
}

// TestMaxLimitsAdvice checks that advice beyond MaxAdvice is counted in one note.
func TestMaxLimitsAdvice(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "d%d.example. may\n", i)
	}
	dir := setup(t, baseMain, map[string]string{"tls_policy": b.String()})
	r := lint(t, Options{ConfigDir: dir, Version: policy.V(3, 7, 11), MaxAdvice: 5})
	assert.Equal(t, 30, r.Warnings)
	require.Len(t, r.Findings, 6)
	assert.Equal(t, CodeMoreFindings, r.Findings[5].Code)
	assert.Contains(t, r.Findings[5].Message, "25 more trailing-dot-key warning findings")
}

// TestSecureMX checks LookupMX with a fake resolver (tests must not use the public DNS): the
// fastmail-like row of §9.43.
func TestSecureMX(t *testing.T) {
	dir := setup(t, baseMain, map[string]string{"tls_policy": "fastmail.fm secure\n.fastmail.fm secure\nexample.com secure\n.example.com secure\n"})
	o := Options{ConfigDir: dir, Version: policy.V(3, 7, 11),
		LookupMX: func(_ context.Context, name string) ([]*net.MX, error) {
			switch name {
			case "fastmail.fm":
				return []*net.MX{{Host: "in1-smtp.messagingengine.com.", Pref: 10}}, nil
			case "example.com":
				return []*net.MX{{Host: "mx.example.com.", Pref: 10}}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}}
	r := lint(t, o)
	assert.Zero(t, r.Errors)
	assert.Positive(t, r.Warnings)
	require.Equal(t, []Code{CodeSecureMXOutsideDomain}, codes(r))
	assert.Equal(t, 1, r.Findings[0].Line)
	assert.Equal(t, "fastmail.fm secure match=nexthop:dot-nexthop:.messagingengine.com   (also accepts certificates for the MX provider's domain .messagingengine.com); or: fastmail.fm verify   (checks the MX host name; DOWNGRADE: trusts the (possibly forged) MX lookup for the names it checks)", r.Findings[0].Fix)
	require.Len(t, r.Findings[0].Edits, 2)
	assert.Equal(t, finding.Fix{Kind: finding.FixTableRow, Table: "texthash:" + dir + "/tls_policy", Key: "fastmail.fm", Value: "secure match=nexthop:dot-nexthop:.messagingengine.com",
		Old: "secure", Note: "also accepts certificates for the MX provider's domain .messagingengine.com",
		Proven: "Postfix 3.7.11 accepts it: fastmail.fm gets level secure; no server was observed, so check the delivery after the change"}, r.Findings[0].Edits[0])
	assert.NotEmpty(t, r.Findings[0].Edits[1].Downgrade)
	assert.Contains(t, r.Findings[0].Message, "in1-smtp.messagingengine.com")
}

// TestSecureAccepts checks the name rule behind secure-mx-outside-domain (package match's).
func TestSecureAccepts(t *testing.T) {
	def := []string{"nexthop", "dot-nexthop"}
	for _, v := range []policy.Version{policy.V(3, 7, 11), policy.V(3, 5, 0)} {
		assert.False(t, secureAccepts(v, def, "fastmail.fm", "in1-smtp.messagingengine.com"), "§9.43 MX in another domain")
		assert.True(t, secureAccepts(v, def, "example.com", "mx.example.com"), "§9.41 MX below the next-hop domain")
		assert.True(t, secureAccepts(v, def, "example.com", "example.com"))
		assert.True(t, secureAccepts(v, []string{"nexthop", ".messagingengine.com"}, "fastmail.fm", "in1-smtp.messagingengine.com"))
	}
	assert.Equal(t, "messagingengine.com", registrable("in1-smtp.messagingengine.com"))
}

// TestMasterCFMaps checks that a table named only by a master.cf service (-o
// smtp_tls_policy_maps=...) is linted too, with $name expanded from main.cf.
func TestMasterCFMaps(t *testing.T) {
	dir := setup(t, "policy_dir = {{dir}}\n", map[string]string{
		"master.cf":    "relay unix - - n - - smtp\n  -o smtp_tls_policy_maps=texthash:$policy_dir/relay_policy\n",
		"relay_policy": "[r.example]:587 securee\n",
	})
	r := lintDir(t, dir, "3.7.11")
	assert.Positive(t, r.Errors)
	f, ok := find(r, CodeInvalidPolicy)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, filepath.Join(dir, "relay_policy"), f.File)
	assert.Equal(t, `smtp_tls_policy_maps, next-hop destination "[r.example]:587": invalid security level "securee"`, f.Message)
}

// TestLMTPMaps checks that lmtp_tls_policy_maps warnings carry the LMTP title (§1.4).
func TestLMTPMaps(t *testing.T) {
	dir := setup(t, "lmtp_tls_policy_maps = texthash:{{dir}}/lmtp_policy\n", map[string]string{"lmtp_policy": "lmtp.example:24 encrypt foo\n"})
	r := lintDir(t, dir, "3.7.11")
	f, ok := find(r, CodeInvalidPolicy)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, `lmtp_tls_policy_maps, next-hop destination "lmtp.example:24": malformed attribute/value pair "foo": missing '=' after attribute name`, f.Message)
}

// TestMainCFDiagnostics checks that main.cf warnings about TLS parameters are Postfix's
// errors with file:line, and others are notes.
func TestMainCFDiagnostics(t *testing.T) {
	dir := setup(t, baseMain+"smtp_tls_security_level = encrypt\nmyhostname = a.example\nmyhostname = b.example\n", map[string]string{"tls_policy": ".x.example encrypt\n"})
	r := lintDir(t, dir, "3.7.11")
	assert.Positive(t, r.Errors)
	f, ok := find(r, CodeMainCF)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, 4, f.Line)
	assert.Equal(t, filepath.Join(dir, "main.cf"), f.File)
	assert.Contains(t, f.Message, "overriding earlier entry: smtp_tls_security_level=may")
	o, ok := find(r, CodeMainCFOther)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, SeverityNote, o.Severity)
}

// TestMainCFSyntax checks that a main.cf line Postfix refuses to start with is the one
// finding: nothing else can be judged.
func TestMainCFSyntax(t *testing.T) {
	dir := setup(t, "smtp_tls_security_level\n", nil)
	r := lintDir(t, dir, "3.7.11")
	require.Equal(t, []Code{CodeMainCFSyntax}, codes(r))
	assert.Equal(t, 1, r.Errors)
	assert.Equal(t, 1, r.Findings[0].Line)
	assert.Equal(t, filepath.Join(dir, "main.cf"), r.Findings[0].File)
}

// TestRunErrors checks when lint cannot run at all: Run returns an error and passes nothing
// on.
func TestRunErrors(t *testing.T) {
	dir := setup(t, baseMain, map[string]string{"tls_policy": ".example.com secure\n"})
	for name, o := range map[string]Options{
		"unreadable main.cf": {ConfigDir: filepath.Join(dir, "nonexistent")},
		"negative MaxAdvice": {ConfigDir: dir, MaxAdvice: -1},
		"negative ChunkSize": {ConfigDir: dir, ChunkSize: -1},
		"malformed override": {ConfigDir: dir, Overrides: []string{"no equals sign"}},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := collect(context.Background(), o)
			require.Error(t, err)
			assert.Empty(t, r.Findings)
		})
	}
}

// TestEmitError checks that an error from the callback stops the run and comes back.
func TestEmitError(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "d%d.example securee\n", i)
	}
	dir := setup(t, baseMain, map[string]string{"tls_policy": b.String()})
	stop := errors.New("stop")
	n := 0
	_, err := Run(context.Background(), Options{ConfigDir: dir, Version: policy.V(3, 7, 11), ChunkSize: 100}, func(Finding) error {
		n++
		return stop
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)
}

// TestBooleans checks Postfix's boolean rule (global/mail_conf_bool.c): only "yes" and "no",
// in any ASCII case, are booleans. Anything else ("true", "1", "on") is the fatal "bad boolean
// configuration: NAME = VALUE": an error with file and line, and no global level is derived
// from it (lint read these as "yes" before).
func TestBooleans(t *testing.T) {
	main := "compatibility_level = 3.6\nsmtp_tls_security_level =\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\nsmtp_enforce_tls = %s\n"
	for _, c := range []struct {
		value string
		bad   bool
		level string // the global level lint derives ("" = none derived)
	}{
		{"true", true, ""}, {"1", true, ""}, {"on", true, ""}, {"YES", false, "verify"}, {"No", false, "none"},
	} {
		t.Run("mail_conf_bool.c smtp_enforce_tls = "+c.value, func(t *testing.T) {
			dir := setup(t, fmt.Sprintf(main, c.value), map[string]string{"tls_policy": "example.com none\n"})
			r := lintDir(t, dir, "3.7.11")
			f, ok := find(r, CodeMainCF)
			legacy, lok := find(r, CodeLegacyParameter)
			require.True(t, lok, "%v", r.Findings)
			_, overrides := find(r, CodeNoneOverridesGlobal)
			if !c.bad {
				assert.False(t, ok, "%v", r.Findings)
				assert.Contains(t, legacy.Message, `("`+c.level+`")`)
				assert.Equal(t, c.level == "verify", overrides, "a table none overrides a global verify")
				return
			}
			require.True(t, ok, "%v", r.Findings)
			assert.Equal(t, SeverityError, f.Severity)
			assert.Equal(t, "bad boolean configuration: smtp_enforce_tls = "+c.value, f.Message)
			assert.Equal(t, filepath.Join(dir, "main.cf"), f.File)
			assert.Equal(t, 4, f.Line)
			assert.Equal(t, "smtp_enforce_tls = "+c.value, f.Text)
			assert.Contains(t, f.Fix, "yes or no")
			assert.False(t, overrides, "no level is derived from a bad boolean: %v", r.Findings)
			assert.Contains(t, legacy.Message, "no level")
			assert.Equal(t, 1, r.Errors, "%v", r.Findings)
		})
	}
}

// TestTrustAnchorFiles checks tafile= files as Postfix (and package dane) loads them (§6.5):
// a file whose first PEM object is malformed is rejected even when a later one is fine
// (encoding/pem alone would skip the bad block).
func TestTrustAnchorFiles(t *testing.T) {
	good := selfSignedPEM(t)
	bad := "-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n" + good
	dir := setup(t, baseMain, map[string]string{"good.pem": good, "bad.pem": bad,
		"tls_policy": "good.example secure tafile={{dir}}/good.pem\n.good.example secure\nbad.example secure tafile={{dir}}/bad.pem\n.bad.example secure\n"})
	r := lintDir(t, dir, "3.7.11")
	require.Equal(t, []Code{CodeTAFileUnreadable}, codes(r), "%v", r.Findings)
	f := r.Findings[0]
	assert.Equal(t, 3, f.Line)
	assert.Equal(t, SeverityError, f.Severity)
	assert.Contains(t, f.Message, filepath.Join(dir, "bad.pem")+" holds a malformed PEM object")
	assert.Contains(t, f.Fix, "malformed PEM object")
}

// selfSignedPEM returns a fresh self-signed certificate in PEM.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ta.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestSeverityText checks the JSON form of the severities.
func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{SeverityNote, SeverityWarning, SeverityError} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back Severity
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
	}
	assert.Equal(t, `"error"`, mustJSON(t, SeverityError))
	assert.Equal(t, SeverityWarning, Severity(0), "the zero severity is msg_warn's")
	_, err := json.Marshal(Severity(7))
	assert.Error(t, err)
	var s Severity
	assert.Error(t, s.UnmarshalText([]byte("bogus")))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestRealPostmap builds a hash: table with the real postmap and checks that lint accepts
// the compiled file and reports postmap's own duplicate warning in postmap's words.
func TestRealPostmap(t *testing.T) {
	postmap := need.Command(t, "postmap")
	dir := setup(t, "smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n", map[string]string{"tls_policy": ".example.com secure\n.example.com may\n"})
	cmd := exec.Command(postmap, "-c", dir, "hash:"+filepath.Join(dir, "tls_policy"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	r := lintDir(t, dir, "3.7.11")
	_, unavailable := find(r, CodeTableUnavailable)
	assert.False(t, unavailable, "%v", r.Findings)
	f, ok := find(r, CodeDuplicateKey)
	require.True(t, ok, "%v", r.Findings)
	assert.Contains(t, stderr.String(), "warning: "+f.Message)
}

// TestLongLine checks a physical line longer than the read buffer.
func TestLongLine(t *testing.T) {
	table := ".a.example secure ciphers=" + strings.Repeat("x", 600_000) + "\nb.example securee\n"
	dir := setup(t, baseMain, map[string]string{"tls_policy": table})
	r := lint(t, Options{ConfigDir: dir, Version: policy.V(3, 7, 11), ChunkSize: 1})
	assert.Positive(t, r.Errors)
	require.Len(t, r.Findings, 1)
	assert.Equal(t, 2, r.Findings[0].Line)
	assert.Equal(t, CodeInvalidPolicy, r.Findings[0].Code)
}

// TestCancelledNoLeak checks that a cancelled run stops and leaves no goroutine behind.
func TestCancelledNoLeak(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "d%d.example secure\n", i)
	}
	dir := setup(t, baseMain, map[string]string{"tls_policy": b.String()})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := Options{ConfigDir: dir, Version: policy.V(3, 7, 11), ChunkSize: 100, MaxAdvice: 20}
	_, err := collect(ctx, o)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = collect(context.Background(), o)
	assert.NoError(t, err)
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestDotHash checks that the allocation-free hash of "."+key is the hash of the string.
func TestDotHash(t *testing.T) {
	tr := &tableRun{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	assert.Equal(t, tr.hash(".example.com"), tr.dotHash("example.com"))
}

// TestMasterCFSyntax: a master.cf line master(8) refuses is reported as master.cf's, in
// master(8)'s words, with master.cf advice (it was called a main.cf syntax error).
func TestMasterCFSyntax(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_security_level = may\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "master.cf"), []byte("smtp unix - - n - - smtp\nbroken line\n"), 0o644))
	var got []Finding
	_, err := Run(context.Background(), Options{ConfigDir: dir, Version: policy.V(3, 7, 11)}, func(f Finding) error { got = append(got, f); return nil })
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, CodeMasterCFSyntax, got[0].Code)
	require.Equal(t, 2, got[0].Line)
	require.Contains(t, got[0].Message, "line 2: bad transport type: line")
	require.Contains(t, got[0].Fix, "master.cf service")
}

// TestKeyBOMAndControl: Postfix reads a UTF-8 byte-order mark as part of the first key and
// compares keys byte for byte, so a key with a BOM or a control character never matches;
// lint says so (the destination silently got the global level before).
func TestKeyBOMAndControl(t *testing.T) {
	dir := t.TempDir()
	tbl := filepath.Join(dir, "tls_policy")
	require.NoError(t, os.WriteFile(tbl, []byte("\ufeffexample.com secure ciphers=high\nbad\x01key.example secure\n"), 0o644))
	var got []Finding
	_, err := Run(context.Background(), Options{Version: policy.V(3, 7, 11), Tables: []string{"texthash:" + tbl}}, func(f Finding) error { got = append(got, f); return nil })
	require.NoError(t, err)
	codes := map[Code]Finding{}
	for _, f := range got {
		codes[f.Code] = f
	}
	require.Contains(t, codes, CodeKeyBOM)
	require.Equal(t, 1, codes[CodeKeyBOM].Line)
	require.Contains(t, codes[CodeKeyBOM].Message, `"\ufeffexample.com"`)
	require.Contains(t, codes[CodeKeyBOM].Fix, "example.com secure ciphers=high")
	require.Contains(t, codes, CodeKeyControl)
	require.Equal(t, 2, codes[CodeKeyControl].Line)
}
