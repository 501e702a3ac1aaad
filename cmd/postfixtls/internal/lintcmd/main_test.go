package lintcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/policy/lint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The engine's findings are tested in package policy/lint; these tests cover the command:
// flags, the two output formats and the exit status.

const baseMain = "compatibility_level = 3.6\nsmtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"

// configDir writes a configuration directory: main.cf and the given files, with {{dir}}
// replaced by the directory.
func configDir(t *testing.T, mainCF string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["main.cf"] = mainCF
	for name, text := range files {
		text = strings.ReplaceAll(text, "{{dir}}", dir)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

// TestExitStatus checks 0 (clean or notes only), 1 (advice), 2 (errors, usage, configuration).
func TestExitStatus(t *testing.T) {
	clean := configDir(t, baseMain, map[string]string{"tls_policy": ".example.com secure\n"})
	notes := configDir(t, baseMain, map[string]string{"tls_policy": "example.com none\n"})
	advice := configDir(t, baseMain, map[string]string{"tls_policy": "example.com. secure\n"})
	errs := configDir(t, baseMain, map[string]string{"tls_policy": "example.com secure # x\n"})
	syntax := configDir(t, "smtp_tls_security_level\n", map[string]string{})
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"clean table", []string{"-c", clean}, exitClean},
		{"notes alone do not count", []string{"-c", notes}, exitClean},
		{"advice only", []string{"-c", advice}, exitAdvice},
		{"Postfix-level error", []string{"-c", errs}, exitErrors},
		{"main.cf line without '=' is fatal for Postfix", []string{"-c", syntax}, exitErrors},
		{"unreadable main.cf", []string{"-c", filepath.Join(clean, "nonexistent")}, exitUsage},
		{"no arguments", nil, exitUsage},
		{"bad flag", []string{"-nope"}, exitUsage},
		{"bad version", []string{"-version", "x.y", "t"}, exitUsage},
		{"negative -max", []string{"-max", "-1", "t"}, exitUsage},
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

// TestUnreadableConfig checks that a configuration lint cannot read is a message on stderr
// and nothing on stdout.
func TestUnreadableConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-json", "-version", "3.7.11", "-c", filepath.Join(t.TempDir(), "none")}, &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out.String())
	assert.Contains(t, errOut.String(), "lint: cannot read Postfix configuration")
}

// TestJSONShape checks the -json contract.
func TestJSONShape(t *testing.T) {
	dir := configDir(t, baseMain+"relayhost = [r.example]:587\n", map[string]string{"tls_policy": "[r.example] encrypt\nexample.com securee\n"})
	var out bytes.Buffer
	code := run(context.Background(), []string{"-json", "-c", dir, "-version", "3.7.11"}, &out, &bytes.Buffer{})
	assert.Equal(t, exitErrors, code)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &raw))
	for _, k := range []string{"version", "findings", "errors", "advice"} {
		assert.Contains(t, raw, k)
	}
	var r struct {
		Version  string         `json:"version"`
		Findings []lint.Finding `json:"findings"`
		Errors   int            `json:"errors"`
		Advice   int            `json:"advice"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, "3.7.11", r.Version)
	assert.Equal(t, 1, r.Errors)
	assert.Equal(t, 1, r.Advice)
	require.Len(t, r.Findings, 2)
	// Errors come first, then advice.
	assert.Equal(t, lint.CodeInvalidPolicy, r.Findings[0].Code)
	assert.Equal(t, lint.CodeKeyNeverMatches, r.Findings[1].Code)
	var fields []map[string]any
	require.NoError(t, json.Unmarshal(raw["findings"], &fields))
	for _, k := range []string{"file", "line", "severity", "code", "message", "fix"} {
		assert.Contains(t, fields[0], k)
	}
	assert.Equal(t, "error", fields[0]["severity"])
}

// TestHumanOutput checks the one-line format and the fix line.
func TestHumanOutput(t *testing.T) {
	dir := configDir(t, baseMain, map[string]string{"tls_policy": "*.example.com verify\n"})
	var out bytes.Buffer
	code := run(context.Background(), []string{"-c", dir, "-version", "3.7.11"}, &out, &bytes.Buffer{})
	assert.Equal(t, exitAdvice, code)
	lines := strings.Split(out.String(), "\n")
	assert.Equal(t, dir+`/tls_policy:1: warning: wildcard-key: key "*.example.com" is a literal string, not a wildcard: no next hop is ever "*.example.com"`, lines[0])
	assert.Equal(t, "\t*.example.com verify", lines[1])
	assert.Equal(t, "\tfix: .example.com verify   (a leading dot matches every subdomain; replaces the row *.example.com)", lines[2])
	assert.Equal(t, "lint (Postfix 3.7.11): 0 errors, 1 warnings, 0 notes", lines[3])
}

// TestMaxFlag checks that -max reaches the engine.
func TestMaxFlag(t *testing.T) {
	dir := configDir(t, baseMain, map[string]string{"tls_policy": "a.example. may\nb.example. may\nc.example. may\n"})
	var out bytes.Buffer
	run(context.Background(), []string{"-c", dir, "-version", "3.7.11", "-max", "1"}, &out, &bytes.Buffer{})
	assert.Contains(t, out.String(), ": note: more-findings: 2 more trailing-dot-key warning findings not shown\n")
	assert.Contains(t, out.String(), "lint (Postfix 3.7.11): 0 errors, 3 warnings, 0 notes\n")
}

// TestLintTableOnly lints a table given on the command line (no main.cf: built-in defaults).
func TestLintTableOnly(t *testing.T) {
	t.Chdir("../../../../examples/lint")
	var out bytes.Buffer
	run(context.Background(), []string{"-version", "3.7.11", "testdata/tls_policy"}, &out, &out)
	assert.Equal(t, `testdata/tls_policy:2: error: unknown-attribute: smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "tls_connection_reuse"
	example.com      secure tls_connection_reuse=yes
	fix: the attribute is connection_reuse=yes; until then smtp(8) defers mail for this destination with 4.7.5; corrected row: example.com secure connection_reuse=yes; or: example.com secure
testdata/tls_policy:4: warning: wildcard-key: key "*.example.net" is a literal string, not a wildcard: no next hop is ever "*.example.net"
	*.example.net    verify
	fix: .example.net verify   (a leading dot matches every subdomain; replaces the row *.example.net)
lint (Postfix 3.7.11): 1 errors, 1 warnings, 0 notes
`, out.String())
}
