package policy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

func TestBuiltinDefaultsByVersion(t *testing.T) {
	cases := []struct {
		name    string // the rule, from postfix-semantics.md §8
		version Version
		param   string
		want    string
	}{
		{"§8 fingerprint digest md5 up to 3.5", V(3, 5, 0), "smtp_tls_fingerprint_digest", "md5"},
		{"§8 fingerprint digest depends on compatibility_level from 3.6", V(3, 6, 0), "smtp_tls_fingerprint_digest", defFingerprintDigest36},
		{"§8 security level empty before 3.11", V(3, 10, 4), "smtp_tls_security_level", ""},
		{"§8 security level may at compatibility 3.11", V(3, 11, 0), "smtp_tls_security_level", defSecurityLevel311},
		{"§0 lmtp_tls_security_level stays empty in 3.11", V(3, 11, 0), "lmtp_tls_security_level", ""},
		{"§0 lmtp secure match defaults to nexthop only", V(3, 7, 11), "lmtp_tls_secure_cert_match", "nexthop"},
		{"§0 smtp secure match nexthop, dot-nexthop", V(3, 7, 11), "smtp_tls_secure_cert_match", "nexthop, dot-nexthop"},
		{"§7.1 opportunistic ciphers export up to 3.0", V(3, 0, 0), "smtp_tls_ciphers", "export"},
		{"§7.1 opportunistic ciphers medium from 3.1", V(3, 1, 0), "smtp_tls_ciphers", "medium"},
		{"§7.1 protocols !SSLv2 up to 3.0", V(2, 11, 0), "smtp_tls_protocols", "!SSLv2"},
		{"§7.1 protocols !SSLv2, !SSLv3 in 3.1-3.5", V(3, 5, 0), "smtp_tls_mandatory_protocols", "!SSLv2, !SSLv3"},
		{"§7.1 protocols >=TLSv1 from 3.6", V(3, 6, 0), "smtp_tls_protocols", ">=TLSv1"},
		{"§8 insecure-MX dane in 3.1", V(3, 1, 0), "smtp_tls_dane_insecure_mx_policy", "dane"},
		{"§8 insecure-MX conditional from 3.4.19", V(3, 4, 19), "smtp_tls_dane_insecure_mx_policy", defInsecureMXCond},
		{"§8 insecure-MX dane in 3.4.18", V(3, 4, 18), "smtp_tls_dane_insecure_mx_policy", "dane"},
		{"§8 insecure-MX conditional in 3.7.11 (Debian 12)", V(3, 7, 11), "smtp_tls_dane_insecure_mx_policy", defInsecureMXCond},
		{"§8 insecure-MX dane again in 3.7.13", V(3, 7, 13), "smtp_tls_dane_insecure_mx_policy", "dane"},
		{"§8 insecure-MX conditional in 3.9.1", V(3, 9, 1), "smtp_tls_dane_insecure_mx_policy", defInsecureMXCond},
		{"§8 insecure-MX dane in 3.10", V(3, 10, 0), "smtp_tls_dane_insecure_mx_policy", "dane"},
		{"§3.1 no CA configured by default", V(3, 7, 11), "smtp_tls_CAfile", ""},
		{"§2.4 TLS-Required header support from 3.10", V(3, 10, 0), "tls_required_enable", "yes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := BuiltinDefault(c.version, c.param)
			require.True(t, ok)
			require.Equal(t, c.want, got)
		})
	}
	_, ok := BuiltinDefault(V(3, 3, 0), "smtp_tls_servername")
	require.False(t, ok, "§8 servername is new in 3.4")
	_, ok = BuiltinDefault(V(3, 7, 11), "lmtp_tls_dane_insecure_mx_policy")
	require.False(t, ok, "the LMTP client has no insecure-MX policy (no MX lookups)")
	_, ok = BuiltinDefault(V(3, 7, 11), "no_such_parameter")
	require.False(t, ok)
}

// TestBuiltinDefaultsAgreeWithInstalledPostfix asks the installed Postfix (postconf -d) for
// every default this module knows and compares, for the installed version.
func TestBuiltinDefaultsAgreeWithInstalledPostfix(t *testing.T) {
	postconf := lookTool(t, "postconf", "postfix")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "master.cf"), nil, 0o644))
	out, err := exec.Command(postconf, "-c", dir, "-h", "mail_version").Output()
	require.NoError(t, err)
	v := MustParseVersion(strings.TrimSpace(string(out)))

	var names []string
	for k := range clientDefaults {
		if strings.ContainsRune(k, '#') {
			continue
		}
		if strings.HasPrefix(k, "@") {
			names = append(names, "smtp"+k[1:], "lmtp"+k[1:])
		} else {
			names = append(names, k)
		}
	}
	names = append(names, "smtp_tls_dane_insecure_mx_policy", "lmtp_tls_dane_insecure_mx_policy")
	sort.Strings(names)
	checked := 0
	for _, n := range names {
		want, ok := BuiltinDefault(v, n)
		if !ok {
			continue
		}
		out, err := exec.Command(postconf, "-c", dir, "-d", "-h", n).CombinedOutput()
		if !assert.Truef(t, err == nil && !strings.Contains(string(out), "unknown parameter"),
			"%s: this module has a default for Postfix %s, postconf does not know it: %s", n, v, out) {
			continue
		}
		assert.Equal(t, want, strings.TrimSpace(string(out)), "postconf -d %s (Postfix %s)", n, v)
		checked++
	}
	require.Greater(t, checked, 50)
}

// lookTool finds an installed program; missing, it fails the test in CI and skips it elsewhere.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p
		}
	}
	need.Missing(t, "%s is not installed (Debian package %s); CI must have it: run make deps", name, pkg)
	return ""
}

// TestResolveOlderReleasesWithDefaults: every emulated release must resolve with nothing but
// its own built-in defaults (whose conditional syntax changed in 3.0 and 3.6).
func TestResolveOlderReleasesWithDefaults(t *testing.T) {
	for _, v := range []Version{V(2, 11, 0), V(3, 0, 0), V(3, 3, 0), V(3, 5, 9), V(3, 6, 0), V(3, 7, 11), V(3, 10, 4), Latest()} {
		s, err := NewSettings(v, map[string]string{"smtp_tls_security_level": "may"})
		require.NoError(t, err)
		_, err = s.Resolve(context.Background(), "user@example.com")
		require.NoError(t, err, "Postfix %s", v)
	}
	got, _ := BuiltinDefault(V(3, 5, 0), "relay_domains")
	require.Equal(t, defRelayDomains30, got, "§8 3.0-3.5 compare numerically")
}
