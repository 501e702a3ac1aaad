package smtpclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/finger"
	"github.com/postfixtls/postfixtls/policy"
)

// fingerRun runs posttls-finger with -p/-g (which the shared test kit does not pass) in a
// private configuration directory and returns its output.
func fingerRun(t *testing.T, bin, dest, level, protocols, grade string) string {
	t.Helper()
	dir := t.TempDir()
	cf := "compatibility_level = 3.6\nsmtp_tls_CAfile =\nsmtp_tls_CApath =\nsmtp_tls_loglevel = 1\n" +
		"myhostname = client.finger.test\nmydomain = finger.test\ninet_protocols = ipv4\n"
	mainCF := filepath.Join(dir, "main.cf")
	require.NoError(t, os.WriteFile(mainCF, []byte(cf), 0o644))
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(mainCF, old, old))
	args := []string{"-c", "-l", level, "-L", "summary", "-t", "5", "-T", "10"}
	if protocols != "" {
		args = append(args, "-p", protocols)
	}
	if grade != "" {
		args = append(args, "-g", grade)
	}
	args = append(args, "--", dest)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+dir)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	_ = cmd.Run()
	require.NoError(t, ctx.Err(), "posttls-finger %v", args)
	return out.String()
}

var reEstablished = regexp.MustCompile(`TLS connection established to \S+: (\S+) with cipher (\S+)`)

// TestProtocolMappingOracle runs posttls-finger (Postfix 3.7 + OpenSSL 3) and Probe with the
// same protocol list and level against the same loopback server (TLS 1.0-1.3) and compares
// the negotiated version and cipher, or that both fail.
func TestProtocolMappingOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("posttls-finger oracle: skipped in -short mode")
	}
	bin := finger.Require(t)
	cert := testCert(t, "mx.test")
	addr := serveScript(t, standard(&tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS13}))
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	dest := "[127.0.0.1]:" + port
	tests := []struct{ name, level, protocols string }{
		{"§7.1 3.6+ default >=TLSv1 at may", "may", ">=TLSv1"},
		{"§7.3 >=TLSv1.2", "may", ">=TLSv1.2"},
		{"§7.3 <=TLSv1.2", "may", "<=TLSv1.2"},
		{"§7.3 <=TLSv1.1 at may (security level 0 allows TLS 1.1)", "encrypt", "<=TLSv1.1"},
		{"§7.3 !TLSv1.1 keeps the lowest contiguous run (TLSv1)", "may", "!TLSv1.1"},
		{"§7.3 !TLSv1.2 caps at TLSv1.1", "encrypt", "!TLSv1.2"},
		{"§7.3 include list TLSv1.1", "may", "TLSv1.1"},
		{"§7.3 hex ceiling <=0x0302", "may", "<=0x0302"},
		{"§7.3 !TLSv1.3", "may", "!TLSv1.3"},
		{"§3.1 verify: security level 1 refuses TLS 1.0/1.1", "verify", "<=TLSv1.1"},
		{"§3.1 secure with !TLSv1.1: only TLSv1 left, refused at security level 1", "secure", "!TLSv1.1"},
		{"§7.3 invalid list aborts", "may", "TLSv1.4"},
		{"§7.3 only SSLv3: no protocol OpenSSL 3 can use", "may", "SSLv3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := fingerRun(t, bin, dest, tc.level, tc.protocols, "")
			wantVer, wantCipher := "", ""
			if m := reEstablished.FindStringSubmatch(out); m != nil {
				wantVer, wantCipher = m[1], m[2]
			}
			excl := []string{"aNULL"}
			if tc.level == "may" || tc.level == "encrypt" {
				excl = []string{"eNULL"} // posttls-finger excludes eNULL at may too
			}
			m, _ := TLSConfigFor(TLSParams{Protocols: tc.protocols, Level: testLevel(tc.level), Exclusions: excl, Release: policy.V(3, 7, 11)})
			opt := quick()
			opt.TLS = &m
			s, _ := Probe(context.Background(), addr, opt)
			gotVer, gotCipher := "", ""
			if s.TLS != nil {
				gotVer, gotCipher = s.TLS.Version, s.TLS.Cipher
			}
			assert.Equal(t, [2]string{wantVer, wantCipher}, [2]string{gotVer, gotCipher},
				"version and cipher: posttls-finger's, Probe's (mapping %v, abort %v)\n%s", m.Versions, m.Abort, out)
			if m.Abort != nil {
				assert.Contains(t, out, m.Abort.Warning, "posttls-finger output")
			}
		})
	}
}

// TestGradeOracle checks the cipher-grade warnings against posttls-finger.
func TestGradeOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("posttls-finger oracle: skipped in -short mode")
	}
	bin := finger.Require(t)
	cert := testCert(t, "mx.test")
	addr := serveScript(t, standard(&tls.Config{Certificates: []tls.Certificate{cert}}))
	dest := "[127.0.0.1]:" + addr[strings.LastIndexByte(addr, ':')+1:]
	for _, tc := range []struct{ name, level, grade string }{
		{"§7.2 unknown grade", "may", "strong"},
		{"§7.2 null at encrypt: eNULL excluded, empty list", "encrypt", "null"},
		{"§7.2 high at secure", "secure", "high"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := fingerRun(t, bin, dest, tc.level, "", tc.grade)
			excl := []string{"aNULL"}
			if tc.level == "may" || tc.level == "encrypt" {
				excl = []string{"eNULL"}
			}
			m, err := TLSConfigFor(TLSParams{Grade: tc.grade, Level: testLevel(tc.level), Exclusions: excl, Release: policy.V(3, 7, 11)})
			established := reEstablished.MatchString(out)
			require.Equal(t, established, err == nil, "mapping error %v, posttls-finger established %v\n%s", err, established, out)
			if err != nil {
				assert.Contains(t, out, m.Abort.Warning, "posttls-finger output")
			}
			fmt.Fprint(os.Stderr, "")
		})
	}
}
