package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is the -json output.
type result struct {
	Version  string    `json:"version"`
	Findings []Finding `json:"findings"`
	Errors   int       `json:"errors"`
	Advice   int       `json:"advice"`
	Warnings int       `json:"warnings"`
	Notes    int       `json:"notes"`
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

// lintJSON runs the command with -json and decodes the output.
func lintJSON(t *testing.T, args ...string) (result, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"-json", "-max", "0"}, args...), &out, &errOut)
	var r result
	require.NoError(t, json.Unmarshal(out.Bytes(), &r), "output: %s\nstderr: %s", out.String(), errOut.String())
	return r, code
}

func codes(r result) []string {
	var c []string
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

func find(r result, code string) (Finding, bool) {
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
		code    string // expected finding ("" = no finding at all)
		sev     string
		message string // exact message, when Postfix's
		fix     string // substring of the fix
	}
	cases := []tc{
		{name: "§9.1 a valid secure entry has no finding", table: "example.com secure match=nexthop:dot-nexthop ciphers=high protocols=>=TLSv1.2\n.example.com secure\n"},
		{name: "§9.2 unknown attribute tls_connection_reuse", table: "example.com secure tls_connection_reuse=yes\n",
			code: codeUnknownAttribute, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "tls_connection_reuse"`, fix: "connection_reuse=yes"},
		{name: "§9.3 misspelt level", table: "example.com securee\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid security level "securee"`, fix: `did you mean "secure"`},
		{name: "§9.4 halfdane is not configurable", table: "example.com halfdane\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid security level "halfdane"`},
		{name: "§9.5 level and attribute and strategy names are case-insensitive", table: "example.com SECURE MATCH=NEXTHOP:Dot-Nexthop\n.example.com secure\n"},
		{name: "§9.6 spaces around '='", table: "example.com secure match = mx.example.com\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "match": missing '=' after attribute name`, fix: "without spaces"},
		{name: "§9.7 comma inside a match list", table: "example.com secure match=mx.example.com,.example.com\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair ".example.com": missing '=' after attribute name`, fix: "separate match names with ':'"},
		{name: "§9.8 match at encrypt", table: "example.com encrypt match=mx.example.com\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "match" invalid at security level "encrypt"`},
		{name: "§9.9 tafile at may", table: "example.com may tafile=/path/ta.pem\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "tafile" invalid at security level "may"`},
		{name: "§9.10 attributes after none are ignored with a warning", table: "example.com none ciphers=high foo\n", code: codeIgnoredAttribute, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": ignoring attribute "ciphers=high" with TLS disabled`},
		{name: "§9.11 attribute given twice", table: "example.com verify ciphers=high ciphers=medium\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "ciphers" is specified multiple times`},
		{name: "§9.12 empty ciphers", table: "example.com verify ciphers=\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "ciphers" has empty value`},
		{name: "§9.12 empty protocols and exclude are valid", table: "example.com verify protocols= exclude=\n.example.com verify\n"},
		{name: "§9.13 invalid servername", table: "example.com encrypt servername=-bad.example\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": "servername=-bad.example" specifies an invalid hostname`},
		{name: "§9.14 connection_reuse with a bad value", table: "example.com encrypt connection_reuse=maybe\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": attribute "connection_reuse" has bad value: "maybe"`},
		{name: "§9.14 connection_reuse broken in 3.4.0-3.4.13", version: "3.4.5", table: "example.com encrypt connection_reuse=yes\n", code: codeUnknownAttribute, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "connection_reuse"`, fix: "broken in Postfix 3.4.0-3.4.13"},
		{name: "§9.15 trailing comment", table: "example.com secure # primary MX\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "#": missing '=' after attribute name`, fix: "remove the comment"},
		{name: "§9.16 comment line inside a multi-line entry", table: "example.com fingerprint\n# old key\n    match=" + strings.Repeat("AB:", 31) + "AB\n.example.com may\n"},
		{name: "§9.17 brace group before 3.10", version: "3.9.1", table: "example.com secure {match = mx.example.com:.example.com}\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "{match": missing '=' after attribute name`, fix: "3.10"},
		{name: "§9.17 brace group from 3.10", version: "3.10.0", table: "example.com secure {match = mx.example.com:.example.com}\n.example.com secure\n"},
		{name: "§9.18 TLSRPT attribute without policy_type on 3.10", version: "3.10.0", table: "example.com secure policy_ttl=60\n", code: codeInvalidPolicy, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": built-in policy has unexpected attribute policy_ttl, policy_domain, policy_string, mx_host_pattern or policy_failure`},
		{name: "§9.18 policy_ttl unknown before 3.10", version: "3.9.1", table: "example.com secure policy_ttl=60\n", code: codeUnknownAttribute, sev: sevError,
			message: `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "policy_ttl"`, fix: "needs Postfix 3.10"},
		{name: "§1.3 servername unknown before 3.4", version: "3.3.1", table: "example.com encrypt servername=hostname\n", code: codeUnknownAttribute, sev: sevError, fix: "needs Postfix 3.4"},
		{name: "§1.1 a line without value is skipped", table: "example.com\n", code: codeTableSyntax, sev: sevError,
			message: "{{dir}}/tls_policy, line 1: expected format: key whitespace value -- ignoring this line"},
		{name: "§1.1 duplicate key makes a texthash table unavailable in smtp(8)", table: "a.example may\nb.example may\nA.example encrypt\n", code: codeDuplicateKey, sev: sevError,
			message: `{{dir}}/tls_policy, line 3: duplicate entry: "A.example"`, fix: "first at line 1"},
		{name: "§6.5 missing tafile makes the entry invalid", table: "example.com secure tafile={{dir}}/none.pem\n", code: codeTAFile, sev: sevError,
			message: `error opening trust anchor file: {{dir}}/none.pem: No such file or directory`},
		{name: "§6.5 a tafile without PEM objects makes the entry invalid", table: "example.com secure tafile={{dir}}/main.cf\n", code: codeTAFile, sev: sevError, fix: "PEM"},
		{name: "§5.1 unknown fingerprint digest disables TLS", main: "smtp_tls_fingerprint_digest = sha3\n", table: ".x.example may\n", code: codeUnknownDigest, sev: sevError,
			message: `Digest algorithm "sha3" not found`},

		{name: "§1.4 invalid global level is fatal", main: "smtp_tls_security_level = secrue\n", table: ".x.example may\n", code: codeMainCF, sev: sevError,
			message: `Invalid TLS level "secrue"`},
		{name: "§1.4 invalid insecure-MX policy is fatal", main: "smtp_tls_dane_insecure_mx_policy = maybe\n", table: ".x.example may\n", code: codeMainCF, sev: sevError,
			message: `invalid smtp_tls_dane_insecure_mx_policy: "maybe"`},

		{name: "§6.1 smtp_dns_support_level is case-sensitive", main: "smtp_dns_support_level = DNSSEC\n", table: ".x.example may\n", code: codeMainCF, sev: sevError,
			message: `invalid smtp_dns_support_level: "DNSSEC"`},

		// Advice.
		{name: "§9.22 [host] key while relayhost has a port", main: "relayhost = [smtp.example.net]:587\n", table: "[smtp.example.net] encrypt\n",
			code: codeKeyNeverMatches, sev: sevWarning, fix: "[smtp.example.net]:587 encrypt"},
		{name: "§9.23 bare key while transport uses [host]", main: "default_transport = smtp:[mx.example.net]\n", table: "mx.example.net encrypt\n.mx.example.net encrypt\n",
			code: codeKeyNeverMatches, sev: sevWarning, fix: "[mx.example.net] encrypt"},
		{name: "§2.1 relayhost with a bad port", main: "relayhost = [r.example]:99999\n", table: ".x.example may\n", code: codeNextHopSyntax, sev: sevError,
			message: "bad network port: 99999 for destination: [r.example]:99999"},
		{name: "§9.23 transport_maps next hop with a port", main: "transport_maps = texthash:{{dir}}/transport\n",
			table: "[mx.example.net] encrypt\n", code: codeKeyNeverMatches, sev: sevWarning, fix: "[mx.example.net]:2525 encrypt"},
		{name: "§2.1 the configured key matches", main: "relayhost = [smtp.example.net]:587\n", table: "[smtp.example.net]:587 encrypt\n"},
		{name: "§2.2 key with a trailing dot", table: "example.com. verify\n", code: codeTrailingDotKey, sev: sevWarning, fix: "example.com verify"},
		{name: "§2.2 wildcard key is literal", table: "*.example.com verify\n", code: codeWildcardKey, sev: sevWarning, fix: ".example.com verify"},
		{name: "§2.1 address key without brackets", table: "192.0.2.1 encrypt\n", code: codeIPKey, sev: sevWarning, fix: "[192.0.2.1] encrypt"},
		{name: "§9.21 bare domain does not cover subdomains", table: "example.com secure\n", code: codeBareDomain, sev: sevNote, fix: ".example.com secure"},
		{name: "§9.68 dane without dnssec lookups", table: "example.com dane\n.example.com dane\n", code: codeDANENoDNSSEC, sev: sevWarning, fix: "smtp_dns_support_level = dnssec"},
		{name: "§6.1 dane-only without dnssec lookups", table: "example.com dane-only\n.example.com dane-only\n", code: codeDANEOnlyNoDNSSEC, sev: sevWarning},
		{name: "§6.1 dane with dnssec lookups is fine", main: "smtp_dns_support_level = dnssec\n", table: "example.com dane\n.example.com dane\n"},
		{name: "§5.1 md5 fingerprint digest", main: "smtp_tls_fingerprint_digest = md5\n", table: ".x.example may\n", code: codeWeakDigest, sev: sevWarning, fix: "sha256"},
		{name: "§5.1 md5 by compatibility_level < 3.6", main: "compatibility_level = 2\n", table: ".x.example may\n", code: codeWeakDigest, sev: sevWarning},
		{name: "§9.53 MD5-sized pin with the sha256 digest", table: "example.com fingerprint match=" + strings.Repeat("AB:", 15) + "AB\n.example.com may\n",
			code: codeFingerprintLength, sev: sevWarning},
		{name: "§4.1 hostname in a secure match list", table: "example.com secure match=hostname:nexthop\n.example.com secure\n", code: codeHostnameInSecure, sev: sevWarning},
		{name: "§4.1 hostname in smtp_tls_secure_cert_match", main: "smtp_tls_secure_cert_match = hostname\n", table: ".x.example may\n", code: codeHostnameInSecure, sev: sevWarning},
		{name: "§2.4 legacy smtp_use_tls", main: "smtp_use_tls = yes\n", table: ".x.example may\n", code: codeLegacyParameter, sev: sevWarning, fix: "smtp_tls_security_level"},
		{name: "§2.4 legacy smtp_tls_per_site", main: "smtp_tls_per_site = texthash:{{dir}}/per_site\n", table: ".x.example may\n", code: codeLegacyParameter, sev: sevWarning, fix: "MUST -> verify"},
		{name: "§9.25 none overrides a stronger global level", table: "example.com none\n", code: codeNoneOverrides, sev: sevNote},
		{name: "§9.25 may under a TLS-required global level", main: "smtp_tls_security_level = encrypt\n", table: "example.com may\n", code: codeWeakerThanGlobal, sev: sevNote},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := setup(t, baseMain+c.main, map[string]string{"tls_policy": c.table, "transport": "example.com smtp:[mx.example.net]:2525\n"})
			v := c.version
			if v == "" {
				v = "3.7.11"
			}
			r, _ := lintJSON(t, "-C", dir, "-version", v)
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
		r, code := lintJSON(t, "-C", dir, "-version", "3.7.11")
		assert.Equal(t, exitErrors, code)
		f, ok := find(r, codeTableUnavailable)
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
		r, _ := lintJSON(t, "-C", dir, "-version", "3.7.11")
		f, ok := find(r, codeTableStale)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, fmt.Sprintf("database %s/tls_policy.db is older than source file %s/tls_policy", dir, dir), f.Message)
		assert.Contains(t, f.Fix, "postmap")
	})
	t.Run("§1.1 postmap keeps the first of two duplicate keys", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": ".example.com secure\n.example.com may\n", "tls_policy.db": ""})
		r, code := lintJSON(t, "-C", dir, "-version", "3.7.11")
		assert.Equal(t, exitErrors, code)
		f, ok := find(r, codeDuplicateKey)
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
	var outs []string
	for _, chunk := range []string{"1", "7", "64", "65536"} {
		var out bytes.Buffer
		code := run(context.Background(), []string{"-C", dir, "-version", "3.7.11", "-chunk", chunk}, &out, &bytes.Buffer{})
		assert.Equal(t, exitErrors, code)
		outs = append(outs, out.String())
	}
	for i := 1; i < len(outs); i++ {
		assert.Equal(t, outs[0], outs[i])
	}
	assert.Contains(t, outs[0], `tls_policy:9: error: duplicate-key: `+dir+`/tls_policy, line 9: duplicate entry: "example.COM"`)
	assert.Contains(t, outs[0], `tls_policy:12: error: duplicate-key: `+dir+`/tls_policy, line 12: duplicate entry: "b.example"`)
	// §1.1: a blank line does not end an entry, so "  c.example may" continues line 6.
	assert.Contains(t, outs[0], `tls_policy:6: error: invalid-policy: smtp_tls_policy_maps, next-hop destination "b.example": malformed attribute/value pair "c.example"`)
}

// TestExitStatus checks 0 (clean or notes only), 1 (advice), 2 (errors, usage, configuration).
func TestExitStatus(t *testing.T) {
	clean := setup(t, baseMain, map[string]string{"tls_policy": ".example.com secure\n"})
	notes := setup(t, baseMain, map[string]string{"tls_policy": "example.com none\n"})
	advice := setup(t, baseMain, map[string]string{"tls_policy": "example.com. secure\n"})
	errs := setup(t, baseMain, map[string]string{"tls_policy": "example.com secure # x\n"})
	syntax := setup(t, "smtp_tls_security_level\n", nil)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"clean table", []string{"-C", clean}, exitClean},
		{"notes alone do not count", []string{"-C", notes}, exitClean},
		{"advice only", []string{"-C", advice}, exitAdvice},
		{"Postfix-level error", []string{"-C", errs}, exitErrors},
		{"main.cf line without '=' is fatal for Postfix", []string{"-C", syntax}, exitErrors},
		{"unreadable main.cf", []string{"-C", filepath.Join(clean, "nonexistent")}, exitUsage},
		{"no arguments", nil, exitUsage},
		{"bad flag", []string{"-nope"}, exitUsage},
		{"bad version", []string{"-version", "x.y", "t"}, exitUsage},
		{"plain path argument is a texthash table", []string{filepath.Join(errs, "tls_policy")}, exitErrors},
		{"missing texthash table", []string{filepath.Join(clean, "missing")}, exitErrors},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			got := run(context.Background(), append([]string{"-version", "3.7.11"}, c.args...), &out, &errOut)
			assert.Equal(t, c.want, got, "stdout: %s\nstderr: %s", out.String(), errOut.String())
		})
	}
}

// TestJSONShape checks the -json contract.
func TestJSONShape(t *testing.T) {
	dir := setup(t, baseMain+"relayhost = [r.example]:587\n", map[string]string{"tls_policy": "[r.example] encrypt\nexample.com securee\n"})
	var out bytes.Buffer
	code := run(context.Background(), []string{"-json", "-C", dir, "-version", "3.7.11"}, &out, &bytes.Buffer{})
	assert.Equal(t, exitErrors, code)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &raw))
	for _, k := range []string{"version", "findings", "errors", "advice"} {
		assert.Contains(t, raw, k)
	}
	var r result
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, "3.7.11", r.Version)
	assert.Equal(t, 1, r.Errors)
	assert.Equal(t, 1, r.Advice)
	require.Len(t, r.Findings, 2)
	// Errors come first, then advice.
	assert.Equal(t, []string{codeInvalidPolicy, codeKeyNeverMatches}, codes(r))
	var fields []map[string]any
	require.NoError(t, json.Unmarshal(raw["findings"], &fields))
	for _, k := range []string{"file", "line", "severity", "code", "message", "fix"} {
		assert.Contains(t, fields[0], k)
	}
}

// TestMaxLimitsAdvice checks that advice beyond -max is counted in one note.
func TestMaxLimitsAdvice(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "d%d.example. may\n", i)
	}
	dir := setup(t, baseMain, map[string]string{"tls_policy": b.String()})
	var out bytes.Buffer
	run(context.Background(), []string{"-json", "-C", dir, "-version", "3.7.11", "-max", "5"}, &out, &bytes.Buffer{})
	var r result
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, 30, r.Warnings)
	require.Len(t, r.Findings, 6)
	assert.Equal(t, codeMoreFindings, r.Findings[5].Code)
	assert.Contains(t, r.Findings[5].Message, "25 more trailing-dot-key warning findings")
}

// TestHumanOutput checks the one-line format and the fix line.
func TestHumanOutput(t *testing.T) {
	dir := setup(t, baseMain, map[string]string{"tls_policy": "*.example.com verify\n"})
	var out bytes.Buffer
	code := run(context.Background(), []string{"-C", dir, "-version", "3.7.11"}, &out, &bytes.Buffer{})
	assert.Equal(t, exitAdvice, code)
	lines := strings.Split(out.String(), "\n")
	assert.Equal(t, dir+`/tls_policy:1: warning: wildcard-key: key "*.example.com" is a literal string, not a wildcard: no next hop is ever "*.example.com"`, lines[0])
	assert.Equal(t, "\t*.example.com verify", lines[1])
	assert.Equal(t, "\tfix: .example.com verify   (a leading dot matches every subdomain)", lines[2])
	assert.Equal(t, "lint (Postfix 3.7.11): 0 errors, 1 warnings, 0 notes", lines[3])
}

// TestSecureMX checks -dns with a fake resolver (tests must not use the public DNS): the
// fastmail-like row of §9.43.
func TestSecureMX(t *testing.T) {
	dir := setup(t, baseMain, map[string]string{"tls_policy": "fastmail.fm secure\n.fastmail.fm secure\nexample.com secure\n.example.com secure\n"})
	o := options{dir: dir, version: policy.V(3, 7, 11), json: true, dns: true, chunk: 1 << 16,
		lookupMX: func(_ context.Context, name string) ([]*net.MX, error) {
			switch name {
			case "fastmail.fm":
				return []*net.MX{{Host: "in1-smtp.messagingengine.com.", Pref: 10}}, nil
			case "example.com":
				return []*net.MX{{Host: "mx.example.com.", Pref: 10}}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}}
	var out bytes.Buffer
	code, err := lint(context.Background(), o, &out)
	require.NoError(t, err)
	assert.Equal(t, exitAdvice, code)
	var r result
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	require.Equal(t, []string{codeSecureMX}, codes(r))
	assert.Equal(t, 1, r.Findings[0].Line)
	assert.Equal(t, "fastmail.fm secure match=nexthop:dot-nexthop:.messagingengine.com   (or verify)", r.Findings[0].Fix)
	assert.Contains(t, r.Findings[0].Message, "in1-smtp.messagingengine.com")
}

// TestSecureAccepts checks the name rule behind secure-mx-outside-domain.
func TestSecureAccepts(t *testing.T) {
	def := []string{"nexthop", "dot-nexthop"}
	assert.False(t, secureAccepts(def, "fastmail.fm", "in1-smtp.messagingengine.com"), "§9.43 MX in another domain")
	assert.True(t, secureAccepts(def, "example.com", "mx.example.com"), "§9.41 MX below the next-hop domain")
	assert.True(t, secureAccepts(def, "example.com", "example.com"))
	assert.True(t, secureAccepts([]string{"nexthop", ".messagingengine.com"}, "fastmail.fm", "in1-smtp.messagingengine.com"))
	assert.Equal(t, "messagingengine.com", registrable("in1-smtp.messagingengine.com"))
}

// Example_lint lints a table given on the command line (no main.cf: built-in defaults).
func Example_lint() {
	run(context.Background(), []string{"-version", "3.7.11", "testdata/tls_policy"}, os.Stdout, os.Stdout)
	// Output:
	// testdata/tls_policy:2: error: unknown-attribute: smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "tls_connection_reuse"
	// 	example.com      secure tls_connection_reuse=yes
	// 	fix: the attribute is connection_reuse=yes; until then smtp(8) defers mail for this destination with 4.7.5
	// testdata/tls_policy:4: warning: wildcard-key: key "*.example.net" is a literal string, not a wildcard: no next hop is ever "*.example.net"
	// 	*.example.net    verify
	// 	fix: .example.net    verify   (a leading dot matches every subdomain)
	// lint (Postfix 3.7.11): 1 errors, 1 warnings, 0 notes
}

// TestMasterCFMaps checks that a table named only by a master.cf service (-o
// smtp_tls_policy_maps=...) is linted too, with $name expanded from main.cf.
func TestMasterCFMaps(t *testing.T) {
	dir := setup(t, "policy_dir = {{dir}}\n", map[string]string{
		"master.cf":    "relay unix - - n - - smtp\n  -o smtp_tls_policy_maps=texthash:$policy_dir/relay_policy\n",
		"relay_policy": "[r.example]:587 securee\n",
	})
	r, code := lintJSON(t, "-C", dir, "-version", "3.7.11")
	assert.Equal(t, exitErrors, code)
	f, ok := find(r, codeInvalidPolicy)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, filepath.Join(dir, "relay_policy"), f.File)
	assert.Equal(t, `smtp_tls_policy_maps, next-hop destination "[r.example]:587": invalid security level "securee"`, f.Message)
}

// TestLMTPMaps checks that lmtp_tls_policy_maps warnings carry the LMTP title (§1.4).
func TestLMTPMaps(t *testing.T) {
	dir := setup(t, "lmtp_tls_policy_maps = texthash:{{dir}}/lmtp_policy\n", map[string]string{"lmtp_policy": "lmtp.example:24 encrypt foo\n"})
	r, _ := lintJSON(t, "-C", dir, "-version", "3.7.11")
	f, ok := find(r, codeInvalidPolicy)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, `lmtp_tls_policy_maps, next-hop destination "lmtp.example:24": malformed attribute/value pair "foo": missing '=' after attribute name`, f.Message)
}

// TestMainCFDiagnostics checks that main.cf warnings about TLS parameters are Postfix's
// errors with file:line, and others are notes.
func TestMainCFDiagnostics(t *testing.T) {
	dir := setup(t, baseMain+"smtp_tls_security_level = encrypt\nmyhostname = a.example\nmyhostname = b.example\n", map[string]string{"tls_policy": ".x.example encrypt\n"})
	r, code := lintJSON(t, "-C", dir, "-version", "3.7.11")
	assert.Equal(t, exitErrors, code)
	f, ok := find(r, codeMainCF)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, 4, f.Line)
	assert.Equal(t, filepath.Join(dir, "main.cf"), f.File)
	assert.Contains(t, f.Message, "overriding earlier entry: smtp_tls_security_level=may")
	o, ok := find(r, codeMainCFOther)
	require.True(t, ok, "%v", r.Findings)
	assert.Equal(t, sevNote, o.Severity)
}

// TestRealPostmap builds a hash: table with the real postmap and checks that lint accepts
// the compiled file and reports postmap's own duplicate warning in postmap's words.
func TestRealPostmap(t *testing.T) {
	postmap, err := exec.LookPath("postmap")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/postmap"); e == nil {
			postmap = "/usr/sbin/postmap"
		} else if os.Getenv("CI") == "true" {
			t.Fatal("postmap not installed (apt-get install postfix)")
		} else {
			t.Skip("postmap not installed (apt-get install postfix)")
		}
	}
	dir := setup(t, "smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n", map[string]string{"tls_policy": ".example.com secure\n.example.com may\n"})
	cmd := exec.Command(postmap, "-c", dir, "hash:"+filepath.Join(dir, "tls_policy"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	r, _ := lintJSON(t, "-C", dir, "-version", "3.7.11")
	_, unavailable := find(r, codeTableUnavailable)
	assert.False(t, unavailable, "%v", r.Findings)
	f, ok := find(r, codeDuplicateKey)
	require.True(t, ok, "%v", r.Findings)
	assert.Contains(t, stderr.String(), "warning: "+f.Message)
}

// TestLongLine checks a physical line longer than the read buffer.
func TestLongLine(t *testing.T) {
	table := ".a.example secure ciphers=" + strings.Repeat("x", 600_000) + "\nb.example securee\n"
	dir := setup(t, baseMain, map[string]string{"tls_policy": table})
	r, code := lintJSON(t, "-C", dir, "-version", "3.7.11", "-chunk", "1")
	assert.Equal(t, exitErrors, code)
	require.Len(t, r.Findings, 1)
	assert.Equal(t, 2, r.Findings[0].Line)
	assert.Equal(t, codeInvalidPolicy, r.Findings[0].Code)
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
	run(ctx, []string{"-C", dir, "-version", "3.7.11", "-chunk", "100"}, &bytes.Buffer{}, &bytes.Buffer{})
	run(context.Background(), []string{"-C", dir, "-version", "3.7.11", "-chunk", "100"}, &bytes.Buffer{}, &bytes.Buffer{})
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
