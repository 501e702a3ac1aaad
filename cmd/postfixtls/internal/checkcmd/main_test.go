package checkcmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// invoke runs the command line and returns the exit status and both outputs.
func invoke(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// offlineWorld is a configuration directory with a policy table, a CA file and server chains.
type offlineWorld struct {
	dir                        string
	meChain, mxChain, selfSign string
	mxSPKI, otherSPKI          string
}

func spkiHex(c *pki.Cert) string {
	sum := sha256.Sum256(c.SPKI())
	return hex.EncodeToString(sum[:])
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

const offlineMainCF = `compatibility_level = 3.6
smtp_dns_support_level = dnssec
smtp_tls_security_level = may
smtp_tls_CAfile = {{dir}}/rootca.pem
smtp_tls_policy_maps = texthash:{{dir}}/tls_policy
`

const offlinePolicy = `fastmail.test secure
verify.fastmail.test verify
[mx.example.test] verify
example.test dane
bad.test secure match=
`

func newOfflineWorld(t testing.TB) *offlineWorld {
	t.Helper()
	h := pki.MustHierarchy(t)
	me := h.Leaf(t, pki.Spec{CN: []string{"*.messagingengine.test"}, DNS: []string{"*.messagingengine.test", "messagingengine.test"}})
	mx := h.Leaf(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}})
	other := pki.Must(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}}, nil)
	dir := t.TempDir()
	w := &offlineWorld{dir: dir, mxSPKI: spkiHex(mx), otherSPKI: spkiHex(other)}
	writeFile(t, filepath.Join(dir, "rootca.pem"), h.Root.PEM())
	writeFile(t, filepath.Join(dir, "tls_policy"), []byte(offlinePolicy))
	writeFile(t, filepath.Join(dir, "main.cf"), []byte(strings.ReplaceAll(offlineMainCF, "{{dir}}", dir)))
	w.meChain = writeFile(t, filepath.Join(dir, "me.pem"), pki.ChainPEM(me, h.Inter))
	w.mxChain = writeFile(t, filepath.Join(dir, "mx.pem"), pki.ChainPEM(mx, h.Inter))
	w.selfSign = writeFile(t, filepath.Join(dir, "other.pem"), pki.ChainPEM(other))
	return w
}

// TestOffline judges chains from files, with no network, as Postfix 3.7.11 would.
func TestOffline(t *testing.T) {
	w := newOfflineWorld(t)
	cases := []struct {
		name    string
		args    []string
		code    int
		outcome string
		dsn     string
		reason  string
		trust   string
		finding string
		fix     string
	}{
		{name: "§4.5 secure: nexthop:dot-nexthop never matches an MX in another domain (B-1)",
			args: []string{"-cert", w.meChain, "-mx", "in1-smtp.messagingengine.test", "user@fastmail.test"},
			code: 1, outcome: "defer", dsn: "4.7.5", reason: "Server certificate not verified", trust: "Untrusted",
			finding: "secure-nexthop-mismatch", fix: "fastmail.test secure match=.messagingengine.test"},
		{name: "§4.4 verify: match=hostname accepts the MX name",
			args: []string{"-cert", w.meChain, "-mx", "in1-smtp.messagingengine.test", "user@verify.fastmail.test"},
			code: 0, outcome: "deliver", dsn: "2.0.0", trust: "Verified"},
		{name: "§4.4 verify [host]: the bracketed name is the hostname",
			args: []string{"-cert", w.mxChain, "[mx.example.test]"},
			code: 0, outcome: "deliver", dsn: "2.0.0", trust: "Verified"},
		{name: "§3.2 3.6+: a self-signed certificate is \"not verified\" (C-3)",
			args: []string{"-cert", w.selfSign, "[mx.example.test]"},
			code: 1, outcome: "defer", dsn: "4.7.5", reason: "Server certificate not verified", trust: "Untrusted",
			finding: "self-signed-certificate"},
		{name: "§6.4 dane: DANE-EE 3 1 1 matches the leaf key",
			args: []string{"-cert", w.mxChain, "-mx", "mx.example.test", "-tlsa", "3 1 1 " + w.mxSPKI, "user@example.test"},
			code: 0, outcome: "deliver", dsn: "2.0.0", trust: "Verified"},
		{name: "§6.4 dane: TLSA record left stale after a key rollover (D-3)",
			args: []string{"-cert", w.mxChain, "-mx", "mx.example.test", "-tlsa", "3 1 1 " + w.otherSPKI, "user@example.test"},
			code: 1, outcome: "defer", dsn: "4.7.5", reason: "Server certificate not verified", trust: "Untrusted",
			finding: "tlsa-stale-after-rollover"},
		{name: "§6.1 dane without TLSA records is may: any TLS delivers",
			args: []string{"-cert", w.selfSign, "-mx", "mx.example.test", "user@example.test"},
			code: 0, outcome: "deliver", dsn: "2.0.0", trust: "Untrusted"},
		{name: "§1.4 an entry Postfix cannot use defers 4.7.5 without connecting (E-1)",
			args: []string{"-cert", w.mxChain, "user@bad.test"},
			code: 1, outcome: "defer", dsn: "4.7.5", reason: "client TLS configuration problem"},
		{name: "§2.4 -o overrides main.cf: global verify without a table",
			args: []string{"-o", "smtp_tls_policy_maps=", "-o", "smtp_tls_security_level=verify", "-cert", w.meChain,
				"-mx", "in1-smtp.messagingengine.test", "user@fastmail.test"},
			code: 0, outcome: "deliver", dsn: "2.0.0", trust: "Verified"},
		{name: "A-1 verify with no CA configured: every chain is untrusted",
			args: []string{"-o", "smtp_tls_CAfile=", "-cert", w.mxChain, "[mx.example.test]"},
			code: 1, outcome: "defer", dsn: "4.7.5", reason: "Server certificate not verified", trust: "Untrusted",
			finding: "no-ca-configured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-c", w.dir, "-version", "3.7.11", "-json"}, c.args...)
			code, out, errs := invoke(t, args...)
			require.Equal(t, c.code, code, "stderr: %s\nstdout: %s", errs, out)
			var v struct {
				Outcome, DSN, Reason string
				Trust                *string
				Findings             []struct {
					Code  string
					Fixes []string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(out), &v), out)
			require.Equal(t, c.outcome, v.Outcome, out)
			require.Equal(t, c.dsn, v.DSN)
			require.Equal(t, c.reason, v.Reason)
			if c.trust == "" {
				require.Nil(t, v.Trust)
			} else {
				require.NotNil(t, v.Trust)
				require.Equal(t, c.trust, *v.Trust)
			}
			var codes, fixes []string
			for _, f := range v.Findings {
				codes = append(codes, f.Code)
				fixes = append(fixes, f.Fixes...)
			}
			if c.finding != "" {
				require.Contains(t, codes, c.finding)
			}
			if c.fix != "" {
				require.Contains(t, fixes, c.fix)
			}
			// The same question without -json answers with the same exit status.
			code2, human, _ := invoke(t, append([]string{"-c", w.dir, "-version", "3.7.11"}, c.args...)...)
			require.Equal(t, c.code, code2)
			require.Contains(t, human, "verdict      ")
		})
	}
}

// TestHumanOutput checks that the screen shows the policy and its source, the attempt, the
// verdict in Postfix's words, the explanation and the fix, and fits one screen.
func TestHumanOutput(t *testing.T) {
	w := newOfflineWorld(t)
	code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-cert", w.meChain, "-mx", "in1-smtp.messagingengine.test", "user@fastmail.test")
	require.Equal(t, 1, code, errs)
	for _, want := range []string{
		"postfix      3.7.11  from -version",
		"policy       secure match=nexthop:dot-nexthop",
		"from       texthash:" + w.dir + "/tls_policy:1: fastmail.test secure",
		"attempt 1    in1-smtp.messagingengine.test",
		"num=62:hostname mismatch",
		"dsn=4.7.5, status=deferred (Server certificate not verified)",
		"why          [secure-nexthop-mismatch]",
		"fix          fastmail.test secure match=.messagingengine.test",
	} {
		require.Contains(t, out, want)
	}
	require.LessOrEqual(t, strings.Count(out, "\n"), 30, "fits one screen:\n%s", out)
}

// TestJSONContract checks the field names of design.md's contract, in offline mode.
func TestJSONContract(t *testing.T) {
	w := newOfflineWorld(t)
	_, out, _ := invoke(t, "-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.meChain, "-mx", "in1-smtp.messagingengine.test", "user@fastmail.test")
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	for _, k := range []string{"destination", "nexthop", "postfix_version", "policy", "outcome", "dsn", "reason", "trust", "attempts", "findings"} {
		require.Contains(t, m, k, "design.md JSON contract")
	}
	var pol map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(m["policy"], &pol))
	for _, k := range []string{"level", "match", "source"} {
		require.Contains(t, pol, k)
	}
	var atts []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(m["attempts"], &atts))
	require.Len(t, atts, 1)
	for _, k := range []string{"host", "port", "trust", "outcome", "reason", "log"} {
		require.Contains(t, atts[0], k)
	}
	var finds []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(m["findings"], &finds))
	require.NotEmpty(t, finds)
	for _, k := range []string{"code", "summary", "fixes"} {
		require.Contains(t, finds[0], k)
	}
	require.JSONEq(t, `"user@fastmail.test"`, string(m["destination"]))
	require.JSONEq(t, `"fastmail.test"`, string(m["nexthop"]))
	require.JSONEq(t, `"3.7.11"`, string(m["postfix_version"]))
}

// TestUsageAndConfigErrors: exit status 2 with a clear message.
func TestUsageAndConfigErrors(t *testing.T) {
	w := newOfflineWorld(t)
	bad := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.Mkdir(bad, 0o755))
	writeFile(t, filepath.Join(bad, "main.cf"), []byte("smtp_tls_security_level = bogus\n"))
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no destination", []string{"-c", w.dir}, "missing DESTINATION"},
		{"-f and arguments", []string{"-c", w.dir, "-f", "list", "a.test"}, "one or the other"},
		{"bad -shard", []string{"-c", w.dir, "-shard", "3/2", "a.test"}, "-shard"},
		{"bad -j", []string{"-c", w.dir, "-j", "0", "a.test"}, "-j 0"},
		{"-m without -l", []string{"-c", w.dir, "-m", "nexthop", "a.test"}, "give the level with -l"},
		{"bad -l", []string{"-c", w.dir, "-l", "paranoid", "a.test"}, "not a security level"},
		{"unknown flag", []string{"-frobnicate", "a.test"}, "flag provided but not defined"},
		{"-o without =", []string{"-o", "smtp_tls_security_level", "a.test"}, "expected name=value"},
		{"bad -version", []string{"-version", "three", "a.test"}, "-version"},
		{"-C names no directory", []string{"-c", filepath.Join(w.dir, "nope"), "a.test"}, "configuration error"},
		{"-tlsa without -cert", []string{"-c", w.dir, "-tlsa", "3 1 1 00", "a.test"}, "need -cert"},
		{"-resolver in offline mode", []string{"-c", w.dir, "-cert", w.mxChain, "-resolver", "127.0.0.1:53", "a.test"}, "offline mode"},
		{"-service for a domain is not supported yet", []string{"-c", w.dir, "-service", "relay", "a.test"}, "not supported yet"},
		{"-cert file missing", []string{"-c", w.dir, "-version", "3.7.11", "-cert", filepath.Join(w.dir, "none.pem"), "a.test"}, "offline input"},
		{"-cert file without certificates", []string{"-c", w.dir, "-version", "3.7.11", "-cert", filepath.Join(w.dir, "tls_policy"), "a.test"}, "offline input"},
		{"-mx for a bracketed next hop", []string{"-c", w.dir, "-version", "3.7.11", "-cert", w.mxChain, "-mx", "x.test", "[a.test]"}, "not looked up in MX"},
		{"§2.4 invalid smtp_tls_security_level is fatal in Postfix", []string{"-c", bad, "-version", "3.7.11", "-cert", w.mxChain, "a.test"}, "configuration error"},
		{"bad next hop", []string{"-c", w.dir, "-version", "3.7.11", "-cert", w.mxChain, "[a.test"}, "invalid next-hop destination: missing \"]\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := invoke(t, c.args...)
			require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
			require.Contains(t, errs, c.msg)
			require.Empty(t, out)
		})
	}
	code, _, errs := invoke(t, "-h")
	require.Equal(t, 0, code)
	require.Contains(t, errs, "usage: postfixtls check")
}

// TestVersionDetection: without -version the installed Postfix's release is emulated.
func TestVersionDetection(t *testing.T) {
	w := newOfflineWorld(t)
	_, out, errs := invoke(t, "-c", w.dir, "-json", "-cert", w.mxChain, "[mx.example.test]")
	var v struct {
		PostfixVersion string `json:"postfix_version"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v), errs)
	if _, err := os.Stat("/usr/sbin/postconf"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("postconf missing: apt-get install postfix")
		}
		require.NotEmpty(t, v.PostfixVersion)
		t.Skip("postconf not installed (apt-get install postfix): newest release emulated")
	}
	require.Regexp(t, `^\d+\.\d+`, v.PostfixVersion)
	require.NotEqual(t, "", v.PostfixVersion)
}

// TestOfflineFastmail is an offline check: the chain a server presents, judged under a
// tls_policy entry; the command prints the verdict and the fix.
func TestOfflineFastmail(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := pki.Must(t, pki.Spec{CN: []string{"*.messagingengine.test"}, DNS: []string{"*.messagingengine.test"}}, h.Inter)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rootca.pem"), h.Root.PEM(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "chain.pem"), pki.ChainPEM(leaf, h.Inter), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_CAfile = "+dir+"/rootca.pem\n"), 0o644))

	var out bytes.Buffer
	code := run(context.Background(), []string{"-c", dir, "-version", "3.7.11", "-json",
		"-o", "smtp_tls_security_level=secure",
		"-cert", filepath.Join(dir, "chain.pem"), "-mx", "in1-smtp.messagingengine.test", "user@fastmail.test"}, &out, os.Stderr)
	var v struct {
		Outcome, DSN, Reason string
		Findings             []struct{ Fixes []string }
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &v))
	assert.Equal(t, 1, code)
	assert.Equal(t, []string{"defer", "4.7.5", "Server certificate not verified"}, []string{v.Outcome, v.DSN, v.Reason})
	require.NotEmpty(t, v.Findings)
	assert.Equal(t, "fastmail.test secure match=.messagingengine.test", v.Findings[0].Fixes[0])
}

// BenchmarkRunOffline is one offline check in-process: configuration, policy, chain
// verification, findings and JSON.
func BenchmarkRunOffline(b *testing.B) {
	w := newOfflineWorld(b)
	args := []string{"-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.meChain, "-mx", "in1-smtp.messagingengine.test", "user@fastmail.test"}
	for b.Loop() {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 1 {
			b.Fatal(code, errb.String())
		}
	}
}

// TestConfigDiagnostics: what Postfix would warn about in main.cf is shown and kept in the JSON.
func TestConfigDiagnostics(t *testing.T) {
	w := newOfflineWorld(t)
	f, err := os.OpenFile(filepath.Join(w.dir, "main.cf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("smtp_tls_loglevel = 1\nsmtp_tls_loglevel = 2\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	args := []string{"-c", w.dir, "-version", "3.7.11", "-cert", w.mxChain, "[mx.example.test]"}
	_, out, _ := invoke(t, append([]string{"-json"}, args...)...)
	var v struct {
		Diagnostics []string `json:"config_diagnostics"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	require.Len(t, v.Diagnostics, 1)
	require.Contains(t, v.Diagnostics[0], "overriding earlier entry: smtp_tls_loglevel=1")
	_, human, _ := invoke(t, args...)
	require.Contains(t, human, "warning      "+v.Diagnostics[0])
}
