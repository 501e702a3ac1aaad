package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// world writes main.cf and tables into a temp config directory and loads it.
func world(t *testing.T, v Version, mainCF string, files map[string]string) *Settings {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	mainCF = strings.ReplaceAll(mainCF, "{{dir}}", dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644))
	s, err := Load(context.Background(), LoadOptions{Version: v, ConfigDir: dir, MyHostname: "client.example.net"})
	require.NoError(t, err)
	return s
}

func resolve1(t *testing.T, s *Settings, dest string) (Route, Hop) {
	t.Helper()
	r, err := s.Resolve(context.Background(), dest)
	require.NoError(t, err)
	require.NotEmpty(t, r.Hops)
	return r.Route, r.Hops[0]
}

const base = "compatibility_level = 3.6\nsmtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt\n"

func TestResolvePolicyTable(t *testing.T) {
	v := V(3, 7, 11)
	policyMain := base + "smtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"
	cases := []struct {
		name      string
		table     string
		extraMain string
		dest      string
		wantKey   string // the key that hit ("" = global level)
		wantLevel Level
		valid     bool
		warning   string // a warning that must be present
		match     []string
	}{
		{"§9.1 valid secure entry with attributes", "example.com secure match=nexthop:dot-nexthop ciphers=high protocols=>=TLSv1.2\n", "",
			"user@example.com", "example.com", Secure, true, "", []string{"nexthop", "dot-nexthop"}},
		{"§9.2 unknown attribute invalidates (no fallback to the global level)", "example.com secure tls_connection_reuse=yes\n", "",
			"user@example.com", "example.com", Secure, false, `smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "tls_connection_reuse"`, nil},
		{"§9.20 parent-domain recursion finds .example.com", ".example.com secure\n", "",
			"user@a.b.example.com", ".example.com", Secure, true, "", []string{"nexthop", "dot-nexthop"}},
		{"§9.21 bare key does not match subdomains", "example.com secure\n", "",
			"user@sub.example.com", "", May, true, "", nil},
		{"§9.22 [host] key misses [host]:587 relayhost", "[smtp.example.net] secure\n", "relayhost = [smtp.example.net]:587\n",
			"user@example.com", "", May, true, "", nil},
		{"§2.1 [host]:587 key hits [host]:587 relayhost", "[smtp.example.net]:587 encrypt\n", "relayhost = [smtp.example.net]:587\n",
			"user@example.com", "[smtp.example.net]:587", Encrypt, true, "", nil},
		{"§9.25 table beats a stronger global level", ".com may\n", "smtp_tls_security_level = secure\n",
			"user@example.com", ".com", May, true, "", nil},
		{"§0.1 table none beats a global secure", "example.com none\n", "smtp_tls_security_level = secure\n",
			"user@example.com", "example.com", None, true, "", nil},
		{"§1.1 keys folded: upper-case key in the table, mixed-case next hop (kept as written)", "EXAMPLE.COM verify\n", "",
			"user@Example.Com", "Example.Com", Verify, true, "", []string{"hostname"}},
		{"§9.15 trailing comment makes the entry invalid", "example.com secure # primary MX\n", "",
			"user@example.com", "example.com", Secure, false, `malformed attribute/value pair "#": missing '=' after attribute name`, nil},
		{"§9.16 comment line inside a multi-line entry", "example.com verify\n# note\n  match=mx.example.com\n", "",
			"user@example.com", "example.com", Verify, true, "", []string{"mx.example.com"}},
		{"§5.1/§9.54 fingerprint with no usable value is invalid", "example.com fingerprint match=zz:11\n", "",
			"user@example.com", "example.com", Fingerprint, false, "nexthop domain example.com: configured at fingerprint security level, but with no fingerprints to match.", nil},
		{"§6.1 dane without dnssec lookups becomes may with a warning", "example.com dane\n", "",
			"user@example.com", "example.com", May, true, "example.com: dane configured with dnssec lookups disabled", nil},
		{"§6.1 dane-only without dnssec lookups is invalid", "example.com dane-only\n", "",
			"user@example.com", "example.com", DaneOnly, false, "example.com: dane-only configured with dnssec lookups disabled", nil},
		{"§6.1 dane with dnssec stays dane", "example.com dane\n", "smtp_dns_support_level = dnssec\n",
			"user@example.com", "example.com", Dane, true, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := world(t, v, policyMain+c.extraMain, map[string]string{"tls_policy": c.table})
			_, h := resolve1(t, s, c.dest)
			p := h.Policy
			require.Equal(t, c.wantLevel, p.Level, "level; warnings %q", p.Warnings)
			require.Equal(t, c.valid, !p.Invalid, "valid; warnings %q", p.Warnings)
			if c.wantKey == "" {
				require.Equal(t, FromGlobal, p.Source.Kind)
			} else {
				require.Equal(t, FromPolicyTable, p.Source.Kind)
				require.Equal(t, c.wantKey, p.Source.Key)
				require.Equal(t, 1, p.Source.Line)
				require.Contains(t, p.Source.String(), "texthash:")
			}
			if !c.valid {
				require.Equal(t, InvalidDSN, p.DSN)
				require.Equal(t, "client TLS configuration problem", p.Reason)
			}
			if c.warning != "" {
				require.Contains(t, strings.Join(p.Warnings, "\n"), c.warning)
			}
			if c.match != nil {
				require.Equal(t, c.match, p.Match)
			}
		})
	}
}

func TestResolveNextHopNamesAndTransport(t *testing.T) {
	v := V(3, 7, 11)
	main := base + "smtp_tls_policy_maps = texthash:{{dir}}/tls_policy\ntransport_maps = texthash:{{dir}}/transport\n"
	s := world(t, v, main, map[string]string{
		"tls_policy": "[mx.example.net] secure\nexample.net secure\n",
		"transport":  "example.com smtp:[mx.example.net]\nexample.org smtp:example.net\nexample.info :[relay.example]\nexample.biz lmtp:\n",
	})
	// §9.23: transport smtp:[mx.example.net] gives key [mx.example.net]; names mx.example.net.
	rt, h := resolve1(t, s, "user@example.com")
	require.Equal(t, "[mx.example.net]", rt.Nexthop)
	require.Equal(t, "[mx.example.net]", h.Key)
	require.Equal(t, "mx.example.net", h.Domain)
	require.False(t, h.MX)
	require.Equal(t, Secure, h.Policy.Level)
	require.Contains(t, strings.Join(rt.From, "\n"), "transport_maps texthash:")
	// §9.24: transport smtp:example.net: key example.net, MX lookups of example.net.
	_, h = resolve1(t, s, "user@example.org")
	require.Equal(t, "example.net", h.Key)
	require.True(t, h.MX)
	require.Equal(t, Secure, h.Policy.Level)
	// transport(5): a null transport keeps the transport and changes the nexthop.
	rt, h = resolve1(t, s, "user@example.info")
	require.Equal(t, "smtp", rt.Transport)
	require.Equal(t, "[relay.example]", h.Key)
	// transport(5): a transport with a null nexthop resets the nexthop to the domain.
	rt, h = resolve1(t, s, "user@example.biz")
	require.Equal(t, "lmtp", rt.Transport)
	require.Equal(t, LMTP, h.Client)
	require.Equal(t, "example.biz", h.Key)
	require.Equal(t, 24, h.Port)
}

func TestResolveGlobalAndLegacyLevels(t *testing.T) {
	cases := []struct {
		name string
		v    Version
		main string
		want Level
		kind SourceKind
	}{
		{"§2.4 empty level and no booleans: none", V(3, 7, 11), "", None, FromLegacy},
		{"§9.28 smtp_enforce_tls=yes and enforce_peername=no: encrypt", V(3, 7, 11), "smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n", Encrypt, FromLegacy},
		{"§2.4 smtp_enforce_tls=yes (peername default yes): verify", V(3, 7, 11), "smtp_enforce_tls = yes\n", Verify, FromLegacy},
		{"§2.4 smtp_use_tls=yes: may", V(3, 7, 11), "smtp_use_tls = yes\n", May, FromLegacy},
		{"§9.28 3.11 at compatibility 3.11 ignores the booleans: may", V(3, 11, 0), "compatibility_level = 3.11\nsmtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n", May, FromGlobal},
		{"§2.4 3.11 at compatibility 3.6 keeps the empty default", V(3, 11, 0), "compatibility_level = 3.6\nsmtp_use_tls = yes\n", May, FromLegacy},
		{"§2.4 explicit global level", V(3, 7, 11), "smtp_tls_security_level = encrypt\n", Encrypt, FromGlobal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := world(t, c.v, c.main, nil)
			_, h := resolve1(t, s, "user@example.com")
			require.Equal(t, c.want, h.Policy.Level)
			require.Equal(t, c.kind, h.Policy.Source.Kind)
		})
	}
}

func TestResolvePerSite(t *testing.T) {
	main := base + "smtp_tls_per_site = texthash:{{dir}}/per_site\n"
	s := world(t, V(3, 7, 11), main+"smtp_tls_security_level = encrypt\n", map[string]string{"per_site": "example.com MAY\nmx.example.com MUST\nnone.example NONE\n"})
	ctx := context.Background()
	r, err := s.Resolve(ctx, "user@example.com")
	require.NoError(t, err)
	// §9.27: nexthop MAY, host not listed, global encrypt -> encrypt.
	p, err := s.PolicyFor(ctx, r.Route, r.Hops[0].NextHop, "other.example.com")
	require.NoError(t, err)
	require.Equal(t, Encrypt, p.Level)
	// §9.27: nexthop MAY, host MUST -> verify.
	p, err = s.PolicyFor(ctx, r.Route, r.Hops[0].NextHop, "mx.example.com")
	require.NoError(t, err)
	require.Equal(t, Verify, p.Level)
	require.Equal(t, []string{"hostname"}, p.Match)
	// per-site NONE overrides the global level.
	_, h := resolve1(t, s, "user@none.example")
	require.Equal(t, None, h.Policy.Level)

	// §9.26: both tables set -> warning, per-site ignored.
	s2 := world(t, V(3, 7, 11), main+"smtp_tls_policy_maps = inline:{ {example.com = encrypt} }\n", map[string]string{"per_site": "example.com MUST\n"})
	r2, err := s2.Resolve(ctx, "user@example.com")
	require.NoError(t, err)
	require.Equal(t, []string{"smtp_tls_per_site ignored when smtp_tls_policy_maps is not empty."}, r2.Warnings)
	require.Equal(t, Encrypt, r2.Hops[0].Policy.Level)
}

func TestResolveConfigErrors(t *testing.T) {
	s := world(t, V(3, 7, 11), "smtp_tls_security_level = halfdane\n", nil)
	_, err := s.Resolve(context.Background(), "user@example.com")
	require.True(t, errors.Is(err, ErrConfig))
	require.Contains(t, err.Error(), `Invalid TLS level "halfdane"`)

	s = world(t, V(3, 7, 11), "smtp_tls_security_level = dane\nsmtp_tls_dane_insecure_mx_policy = bogus\n", nil)
	_, err = s.Resolve(context.Background(), "user@example.com")
	require.True(t, errors.Is(err, ErrConfig))
	require.Contains(t, err.Error(), `invalid smtp_tls_dane_insecure_mx_policy: "bogus"`)

	s = world(t, V(3, 7, 11), "mydestination = example.com\n", nil)
	_, err = s.Resolve(context.Background(), "user@example.com")
	require.True(t, errors.Is(err, ErrNotSMTP))
}

func TestResolveRelayhostListAndFallback(t *testing.T) {
	s := world(t, V(3, 7, 11), base+"relayhost = [a.example]:587, [b.example]:587\nsmtp_fallback_relay = [c.example]\nsmtp_tls_security_level = encrypt\n", nil)
	r, err := s.Resolve(context.Background(), "user@example.com")
	require.NoError(t, err)
	require.Len(t, r.Hops, 3)
	require.Equal(t, "[a.example]:587", r.Hops[0].Key)
	require.Equal(t, "[b.example]:587", r.Hops[1].Key)
	require.Equal(t, "[c.example]", r.Hops[2].Key)
	require.True(t, r.Hops[2].Fallback)
	require.Equal(t, Encrypt, r.Hops[2].Policy.Level)
	require.Equal(t, []string{"eNULL"}, r.Hops[0].Policy.Exclude, "§7.1 encrypt adds eNULL")
	require.Equal(t, ">=TLSv1", r.Hops[0].Policy.Protocols, "§7.1 mandatory protocols at encrypt")
	require.Equal(t, "medium", r.Hops[0].Policy.Ciphers)
}

func TestResolveExplicitNextHop(t *testing.T) {
	s := world(t, V(3, 7, 11), base+"smtp_tls_policy_maps = inline:{ {[mx.example.test]:2525 = fingerprint match=AB:CD} }\nsmtp_tls_fingerprint_digest = md5\n", nil)
	_, h := resolve1(t, s, "[mx.example.test]:2525")
	require.Equal(t, Fingerprint, h.Policy.Level)
	require.Equal(t, []string{"AB:CD"}, h.Policy.Match)
	require.Equal(t, "md5", h.Policy.FingerprintDigest)
	require.Equal(t, []string{"aNULL"}, h.Policy.Exclude, "§7.1 aNULL above encrypt")
}

func TestResolveTrustAnchorsAndAttributes(t *testing.T) {
	dir := t.TempDir()
	ta := filepath.Join(dir, "ta.pem")
	require.NoError(t, os.WriteFile(ta, []byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWi6nhBWZ7sX+WZpIZCXqtaRJ3nI2\nvTkBXEQXqj0pNvdz+qaGBfMyXWg4O9QbVVM4ln+4A0MvCQjzWGPHp4lrzg==\n-----END PUBLIC KEY-----\n"), 0o644))
	empty := filepath.Join(dir, "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("no pem here\n"), 0o644))
	cases := []struct {
		name    string
		entry   string
		main    string
		level   Level
		valid   bool
		warning string
		check   func(t *testing.T, p Policy)
	}{
		{"§6.5 tafile attribute loaded at parse time", "secure tafile=" + ta, "", Secure, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, []string{ta}, p.TrustAnchorFiles)
		}},
		{"§6.5 tafile that cannot be opened invalidates the policy", "secure tafile=" + filepath.Join(dir, "missing.pem"), "", Secure, false,
			"error opening trust anchor file: " + filepath.Join(dir, "missing.pem") + ": No such file or directory", nil},
		{"§6.5 tafile without any PEM object invalidates the policy", "verify tafile=" + empty, "", Verify, false, "", nil},
		{"§6.5 smtp_tls_trust_anchor_file used when the entry has none", "secure", "smtp_tls_trust_anchor_file = " + ta + "\n", Secure, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, []string{ta}, p.TrustAnchorFiles)
		}},
		{"§9.9 tafile invalid at may", "may tafile=" + ta, "", May, false, `attribute "tafile" invalid at security level "may"`, nil},
		{"§9.12 empty protocols= and exclude= remove the main.cf limits (aNULL stays)", "verify protocols= exclude=", "smtp_tls_exclude_ciphers = RC4\n", Verify, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, "", p.Protocols)
			require.Equal(t, []string{"aNULL"}, p.Exclude)
		}},
		{"§7.1 main.cf exclusions at verify: exclude + mandatory exclude + aNULL", "verify", "smtp_tls_exclude_ciphers = RC4\nsmtp_tls_mandatory_exclude_ciphers = 3DES, MD5\n", Verify, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, []string{"RC4", "3DES", "MD5", "aNULL"}, p.Exclude)
			require.Equal(t, "medium", p.Ciphers)
		}},
		{"§7.1 at may only the opportunistic settings apply", "may", "smtp_tls_exclude_ciphers = RC4\nsmtp_tls_mandatory_exclude_ciphers = 3DES\nsmtp_tls_protocols = >=TLSv1.2\n", May, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, []string{"RC4"}, p.Exclude)
			require.Equal(t, ">=TLSv1.2", p.Protocols)
		}},
		{"§9.13 servername=HOSTNAME is literal", "encrypt servername=HOSTNAME", "", Encrypt, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, "HOSTNAME", p.ServerName)
		}},
		{"§1.4 invalid smtp_tls_servername invalidates every policy", "encrypt", "smtp_tls_servername = -bad.example\n", Encrypt, false,
			`"smtp_tls_servername = -bad.example" specifies an invalid hostname`, nil},
		{"§5.1 policy match= values replace smtp_tls_fingerprint_cert_match", "fingerprint match=AB:CD", "smtp_tls_fingerprint_cert_match = 11:22\n", Fingerprint, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, []string{"AB:CD"}, p.Match)
			require.Equal(t, MatchFromEntry, p.MatchFrom)
			require.Equal(t, "sha256", p.FingerprintDigest, "§5.1 sha256 at compatibility_level 3.6")
		}},
		{"§9.56 fp1|fp2 in main.cf is one malformed value", "fingerprint", "smtp_tls_fingerprint_cert_match = AB:CD|EF:01\n", Fingerprint, false,
			"configured at fingerprint security level, but with no fingerprints to match.", nil},
		{"§5.1 md5 below compatibility_level 3.6", "fingerprint match=AB:CD", "compatibility_level = 2\n", Fingerprint, true, "", func(t *testing.T, p Policy) {
			require.Equal(t, "md5", p.FingerprintDigest)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			main := base + c.main + "smtp_tls_policy_maps = inline:{ {example.com = " + c.entry + "} }\n"
			s := world(t, V(3, 7, 11), main, nil)
			_, h := resolve1(t, s, "user@example.com")
			require.Equal(t, c.level, h.Policy.Level)
			require.Equal(t, c.valid, !h.Policy.Invalid, "warnings %q", h.Policy.Warnings)
			if c.warning != "" {
				require.Contains(t, strings.Join(h.Policy.Warnings, "\n"), c.warning)
			}
			if c.check != nil {
				c.check(t, h.Policy)
			}
		})
	}
}

func TestResolveLMTP(t *testing.T) {
	s := world(t, V(3, 7, 11), base+"lmtp_tls_security_level = may\n", nil)
	rt := Route{Transport: "lmtp", Client: LMTP}
	ctx := context.Background()
	hop, err := ParseNextHop(LMTP, "unix:private/dovecot-lmtp", NextHopOptions{MyHostname: "client.example.net", DefaultService: "24"})
	require.NoError(t, err)
	p, err := s.PolicyFor(ctx, rt, hop, "")
	require.NoError(t, err)
	require.Equal(t, None, p.Level, "§2.4 may over a UNIX-domain socket becomes none")
	require.Contains(t, p.Warnings, "smtp_connect_local: opportunistic TLS encryption is not appropriate for unix-domain destinations.")

	s = world(t, V(3, 7, 11), base+"lmtp_tls_security_level = dane\nlmtp_dns_support_level = dnssec\n", nil)
	p, err = s.PolicyFor(ctx, rt, hop, "")
	require.NoError(t, err)
	require.True(t, p.Invalid)
	require.Contains(t, p.Warnings, `private/dovecot-lmtp: the "dane" security level is invalid for delivery via unix-domain sockets`)

	s = world(t, V(3, 7, 11), base+"lmtp_tls_security_level = secure\n", nil)
	p, err = s.PolicyFor(ctx, rt, hop, "")
	require.NoError(t, err)
	require.Equal(t, []string{"nexthop"}, p.Match, "§0 lmtp_tls_secure_cert_match defaults to nexthop")
	require.Equal(t, "client.example.net", hop.Domain, "§4.4 LMTP unix names are $myhostname")
}

func TestResolveReportsTableAndConfigProblems(t *testing.T) {
	s := world(t, V(3, 7, 11), base+"smtp_tls_policy_maps = texthash:{{dir}}/tls_policy\nsmtp_tls_security_level = may\nsmtp_tls_security_level = encrypt\n",
		map[string]string{"tls_policy": "example.com\nexample.net secure\n"})
	r, err := s.Resolve(context.Background(), "user@example.net")
	require.NoError(t, err)
	require.Equal(t, Secure, r.Hops[0].Policy.Level)
	// §1.1: a line without a value is skipped with postmap's warning, never silently.
	require.Contains(t, strings.Join(r.Warnings, "\n"), "line 1: expected format: key whitespace value")
	// main.cf duplicates: the last one wins, with Postfix's warning.
	require.Contains(t, fmt.Sprint(s.Diagnostics()), "overriding earlier entry")
	_, h := resolve1(t, s, "user@example.org")
	require.Equal(t, Encrypt, h.Policy.Level)
}

func TestDetectVersion(t *testing.T) {
	lookTool(t, "postconf", "postfix")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644))
	v, err := DetectVersion(context.Background(), dir)
	require.NoError(t, err)
	require.True(t, v.AtLeast(2, 11, 0), "installed Postfix %s", v)
}

func TestResolveBadBoolean(t *testing.T) {
	// mail_conf_bool.c: only yes/no (any case) are booleans.
	s := world(t, V(3, 7, 11), "smtp_use_tls = true\n", nil)
	_, err := s.Resolve(context.Background(), "user@example.com")
	require.True(t, errors.Is(err, ErrConfig))
	require.Contains(t, err.Error(), "bad boolean configuration: smtp_use_tls = true")
	s = world(t, V(3, 7, 11), "smtp_use_tls = YES\n", nil)
	_, h := resolve1(t, s, "user@example.com")
	require.Equal(t, May, h.Policy.Level)
}

func TestResolveDNSLookupsSwitch(t *testing.T) {
	cases := []struct {
		name string
		main string
		mx   bool
	}{
		{"§4.4 default: MX lookups for a bare domain", "", true},
		{"smtp_dns_support_level = disabled: no MX lookups", "smtp_dns_support_level = disabled\n", false},
		{"obsolete disable_dns_lookups = yes with an empty support level", "disable_dns_lookups = yes\n", false},
		{"smtp_host_lookup = native: no DNS", "smtp_host_lookup = native\n", false},
		{"dnssec keeps MX lookups", "smtp_dns_support_level = dnssec\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := world(t, V(3, 7, 11), c.main, nil)
			_, h := resolve1(t, s, "user@example.com")
			require.Equal(t, c.mx, h.MX)
		})
	}
	s := world(t, V(3, 7, 11), "smtp_dns_support_level = maybe\n", nil)
	_, err := s.Resolve(context.Background(), "user@example.com")
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), `invalid smtp_dns_support_level: "maybe"`)
}

func TestResolveTLSEngineUnavailable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(good, []byte("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"), 0o644))
	cases := []struct {
		name string
		main string
		want []string
	}{
		{"§2.4 item 5: readable CAfile: engine starts", "smtp_tls_CAfile = " + good + "\n", nil},
		{"§2.4 item 5: missing CAfile disables TLS", "smtp_tls_CAfile = " + filepath.Join(dir, "nope.pem") + "\n",
			[]string{`cannot load Certification Authority data, CAfile="` + filepath.Join(dir, "nope.pem") + `": disabling TLS support`}},
		{"§5.1 unknown fingerprint digest disables TLS", "smtp_tls_fingerprint_digest = sha3-999\n",
			[]string{`Digest algorithm "sha3-999" not found`, "disabling TLS support"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := world(t, V(3, 7, 11), "smtp_tls_security_level = encrypt\n"+c.main, nil)
			_, h := resolve1(t, s, "user@example.com")
			require.Equal(t, c.want, h.Policy.EngineUnavailable)
			require.False(t, h.Policy.Invalid, "Postfix still connects; the failure comes at STARTTLS time")
		})
	}
	// No TLS at all: the engine is never started, so nothing can fail.
	s := world(t, V(3, 7, 11), "smtp_tls_fingerprint_digest = sha3-999\n", nil)
	_, h := resolve1(t, s, "user@example.com")
	require.Empty(t, h.Policy.EngineUnavailable)
}

func TestResolveMasterCFOverrides(t *testing.T) {
	master := `smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
  -o smtp_tls_security_level=encrypt
  -o smtp_tls_mandatory_protocols=>=TLSv1.2
lmtp      unix  -       -       y       -       -       lmtp
local     unix  -       n       n       -       -       local
secure-out unix -       -       y       -       -       smtp -o smtp_tls_security_level=secure
`
	main := base + "smtp_tls_security_level = may\nrelay_domains = relay.example\ntransport_maps = inline:{ {pinned.example = secure-out:[mx.pinned.example]} }\n"
	s := world(t, V(3, 7, 11), main, map[string]string{"master.cf": master})
	// §2.4 / design: a transport's master.cf -o settings apply to its deliveries.
	rt, h := resolve1(t, s, "user@relay.example")
	require.Equal(t, "relay", rt.Transport)
	require.Equal(t, Encrypt, h.Policy.Level)
	require.Equal(t, ">=TLSv1.2", h.Policy.Protocols)
	require.Contains(t, h.Policy.Source.String(), "master.cf")
	rt, h = resolve1(t, s, "user@other.example")
	require.Equal(t, "smtp", rt.Transport)
	require.Equal(t, May, h.Policy.Level)
	rt, h = resolve1(t, s, "user@pinned.example")
	require.Equal(t, "secure-out", rt.Transport)
	require.Equal(t, Secure, h.Policy.Level)
	require.Equal(t, "[mx.pinned.example]", h.Key)
	// A transport master.cf does not define cannot deliver.
	s2 := world(t, V(3, 7, 11), base+"transport_maps = inline:{ {x.example = nosuch:} }\n", map[string]string{"master.cf": master})
	_, err := s2.Resolve(context.Background(), "user@x.example")
	require.ErrorIs(t, err, ErrNotSMTP)
	// Local delivery is not the SMTP client's.
	s3 := world(t, V(3, 7, 11), base+"mydestination = $myhostname, local.example\n", map[string]string{"master.cf": master})
	_, err = s3.Resolve(context.Background(), "user@local.example")
	require.ErrorIs(t, err, ErrNotSMTP)
}

func TestRouteTransportWildcardAndPatterns(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "transport.re"), []byte("/^special@/ smtp:[special.example]\n/example\\.org$/ smtp:[never.example]\n"), 0o644))
	main := base + "transport_maps = regexp:" + filepath.Join(dir, "transport.re") + ", inline:{ {* = smtp:[wild.example]:2525} }\n"
	s := world(t, V(3, 7, 11), main, nil)
	ctx := context.Background()
	// transport(5): pattern tables see the full address only.
	rt, err := s.Route(ctx, "special@example.org")
	require.NoError(t, err)
	require.Equal(t, "[special.example]", rt.Nexthop)
	// ... so the domain-only regexp rule never applies to the domain lookup; "*" does.
	rt, err = s.Route(ctx, "user@example.net")
	require.NoError(t, err)
	require.Equal(t, "[wild.example]:2525", rt.Nexthop)
	// transport(5): error: with an empty nexthop is not an SMTP delivery.
	s2 := world(t, V(3, 7, 11), base+"transport_maps = inline:{ {blocked.example = error:} }\n", nil)
	_, err = s2.Resolve(ctx, "user@blocked.example")
	require.ErrorIs(t, err, ErrNotSMTP)
}

// TestResolvePatternTableCase: a regexp: policy table sees the next hop as the recipient
// wrote it (real Postfix 3.7.11, conformance table/regexp-case-sensitive): with flag i
// (case-sensitive in regexp_table(5)) "/^example\.test$/i" misses "EXAMPLE.Test" and the
// global level applies; a fixed-string table folds and hits.
func TestResolvePatternTableCase(t *testing.T) {
	main := base + "smtp_tls_security_level = may\nsmtp_tls_policy_maps = regexp:{{dir}}/tls_policy\n"
	s := world(t, V(3, 7, 11), main, map[string]string{"tls_policy": "/^example\\.test$/i secure\n"})
	_, h := resolve1(t, s, "user@EXAMPLE.Test")
	require.Equal(t, "EXAMPLE.Test", h.Key)
	require.Equal(t, May, h.Policy.Level, "the case-sensitive pattern misses")
	_, h = resolve1(t, s, "user@example.test")
	require.Equal(t, Secure, h.Policy.Level)
}

// TestResolveFingerprintAllMalformed (§5.1, smtp_tls_policy.c policy_create()): when every
// match= value of a fingerprint row is malformed, 3.6-3.8 warn once and use
// smtp_tls_fingerprint_cert_match (real Postfix 3.7.11 delivers: conformance
// table/fingerprint-all-malformed-main-cf-match); 3.9 and later find the policy invalid;
// 3.5 and earlier compare text and never call a value malformed.
func TestResolveFingerprintAllMalformed(t *testing.T) {
	pin := "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
	main := base + "smtp_tls_policy_maps = texthash:{{dir}}/tls_policy\nsmtp_tls_fingerprint_cert_match = " + pin + "\n"
	for _, c := range []struct {
		v     Version
		valid bool
		match []string
		warns int
	}{
		{V(3, 5, 25), true, []string{"zz:zz"}, 0},
		{V(3, 6, 0), true, []string{pin}, 1},
		{V(3, 7, 11), true, []string{pin}, 1},
		{V(3, 8, 20), true, []string{pin}, 1},
		{V(3, 9, 14), false, nil, 1},
		{V(3, 11, 6), false, nil, 1},
	} {
		t.Run(c.v.String(), func(t *testing.T) {
			s := world(t, c.v, main, map[string]string{"tls_policy": "example.com fingerprint match=zz:zz\n"})
			_, h := resolve1(t, s, "user@example.com")
			require.Equal(t, c.valid, !h.Policy.Invalid, "%+v", h.Policy.Warnings)
			if c.valid {
				require.Equal(t, c.match, h.Policy.Match)
			}
			n := 0
			for _, w := range h.Policy.Warnings {
				if strings.HasPrefix(w, "malformed fingerprint value: zz:zz") {
					n++
				}
			}
			require.Equal(t, c.warns, n, "%q", h.Policy.Warnings)
		})
	}
}

// TestRouteSenderDependent (trivial-rewrite resolve.c, mail_addr_find()): the sender picks
// the relayhost (or the default transport), and so the policy table key; real Postfix 3.7.11
// agrees in the conformance cases route/sender-dependent-*.
func TestRouteSenderDependent(t *testing.T) {
	main := base + "relayhost = [fallback.example]\nrecipient_delimiter = +\n" +
		"sender_dependent_relayhost_maps = texthash:{{dir}}/relay\n" +
		"sender_dependent_default_transport_maps = texthash:{{dir}}/xport\n"
	s := world(t, V(3, 7, 11), main, map[string]string{
		"relay": "alice@a.example [alice-relay.example]:587\n@a.example [a-relay.example]\n<> [bounce-relay.example]\nbob@b.example DUNNO\n",
		"xport": "carol@c.example relay:[c-relay.example]\n",
	})
	ctx := context.Background()
	for _, c := range []struct{ name, sender, transport, nexthop string }{
		{"full address", "alice@a.example", "smtp", "[alice-relay.example]:587"},
		{"address without its extension", "alice+list@a.example", "smtp", "[alice-relay.example]:587"},
		{"@domain", "dave@a.example", "smtp", "[a-relay.example]"},
		{"null sender is looked up as <>", "", "smtp", "[bounce-relay.example]"},
		{"DUNNO falls back to relayhost", "bob@b.example", "smtp", "[fallback.example]"},
		{"no entry: relayhost", "erin@e.example", "smtp", "[fallback.example]"},
		{"sender-dependent default transport with its own next hop", "carol@c.example", "relay", "[c-relay.example]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt, err := s.RouteFor(ctx, "user@dest.example", RouteOptions{Sender: c.sender})
			require.NoError(t, err)
			require.Equal(t, c.transport, rt.Transport)
			require.Equal(t, c.nexthop, rt.Nexthop, "%q", rt.From)
		})
	}
}

// TestRouteRejectsBadDestinations: what no address or next hop can be is an error naming
// the problem, in valid_hostname()'s words for the domain (issue: 'us er@exa mple.com' was
// accepted with the policy key "exa").
func TestRouteRejectsBadDestinations(t *testing.T) {
	s := world(t, V(3, 7, 11), base, nil)
	ctx := context.Background()
	for _, c := range []struct{ dest, err string }{
		{"us er@exa mple.com", "space at byte 2"},
		{"user@exa mple.com", "space at byte 8"},
		{"a\x1b]0;x\x07@b.example", "control character 0x1b"},
		{"user@", "no domain after '@'"},
		{"@b.example", "empty local part"},
		{"user@-b.example", "valid_hostname: misplaced hyphen: -b.example"},
		{"user@b..example", "misplaced delimiter"},
		{"user@[999.1.1.1]", "not an IPv4 or IPv6 address literal"},
	} {
		_, err := s.Route(ctx, c.dest)
		require.ErrorIs(t, err, ErrNextHop, c.dest)
		require.ErrorContains(t, err, c.err, c.dest)
	}
	for _, ok := range []string{`"us er"@b.example`, "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]", "user@bücher.example", "b.example", "[mx.b.example]:587"} {
		_, err := s.Route(ctx, ok)
		require.NoError(t, err, ok)
	}
}
