package match

import (
	"crypto/x509"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// FuzzReferences feeds match lists (split on ':' as a policy match= value is) through
// References in both modes and checks the invariants of §4.1.
func FuzzReferences(f *testing.F) {
	for _, s := range []string{"nexthop:dot-nexthop", "hostname", ".", ":", ".messagingengine.com", "bücher.example",
		"\u3002bücher.example", "192.0.2.10:192.0.2.11", "messagingengine.com.", "*.example.com", "NEXTHOP", "::1", "\xff"} {
		f.Add(s, "example.com", "mx.example.com")
	}
	f.Add("dot-nexthop", "", "")
	f.Add("nexthop", "192.0.2.1", "192.0.2.1")
	f.Fuzz(func(t *testing.T, list, nexthop, hostname string) {
		items := strings.FieldsFunc(list, func(r rune) bool { return r == ':' })
		for _, opt := range []Options{{}, {Mode: Legacy}, {IPLiterals: IPAsDNSName}} {
			refs, warns := References(items, nexthop, hostname, opt)
			require.Len(t, refs.Refs, len(items), "one reference per item")
			installed, ips := 0, 0
			for _, r := range refs.Refs {
				if r.Installed {
					installed++
					if r.Kind == IPAddress {
						ips++
					}
				} else {
					require.NotEmpty(t, r.Why, "uninstalled reference without reason: %+v", r)
				}
				if r.Kind == Subdomain {
					require.False(t, r.Name == "" || r.Name[0] != '.' || (opt.Mode == OpenSSL && len(r.Name) < 2), "subdomain reference %q", r.Name)
				}
			}
			require.LessOrEqual(t, ips, 1, "IP references installed")
			if opt.Mode == OpenSSL {
				require.Equal(t, installed == 0, refs.MustFail, "MustFail with %d installed", installed)
			}
			for _, w := range warns {
				require.NotEmpty(t, w.Text, "empty warning")
			}
		}
	})
}

// FuzzHostMatch checks the X509_check_host port against simple properties.
func FuzzHostMatch(f *testing.F) {
	for _, p := range [][2]string{{"*.example.com", "a.example.com"}, {"*.example.com", "a.b.example.com"}, {"mx*.example.com", ".com"},
		{"*.com", "example.com"}, {"example.org", ".example.org"}, {"*.xn--p1ai.example", "xn--d1acufc.xn--p1ai.example"},
		{"a\x00b.example", ".example"}, {".example.org", ".example.org"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, pattern, ref string) {
		got := openssl.HostMatch(pattern, ref)
		if !strings.Contains(pattern, "*") && !(len(ref) > 1 && ref[0] == '.') {
			want := pattern != "" && !strings.Contains(pattern, "\x00") && pfutil.StrcaseEq(pattern, ref)
			require.Equal(t, want, got, "plain compare %q %q", pattern, ref)
		}
		if got && len(ref) > 1 && ref[0] == '.' {
			require.True(t, hasSuffixFold(pattern, ref), "suffix match without suffix: %q %q", pattern, ref)
		}
		if got && pattern[0] == '*' && openssl.ValidStar(pattern) == 0 && !pfutil.StrcaseEq(pattern, ref) && !(len(ref) > 1 && ref[0] == '.') {
			require.Equal(t, strings.Count(pattern, "."), strings.Count(ref, "."), "wildcard covered more than one label: %q %q", pattern, ref)
		}
		var sc starCache
		sc.compute([]string{pattern})
		require.Equal(t, got, sc.match(0, pattern, ref), "starCache.match disagrees on %q %q", pattern, ref)
		require.Equal(t, got, sc.first([]string{pattern}, ref) == 0, "starCache.first disagrees on %q %q", pattern, ref)
		for _, multi := range []bool{false, true} {
			lr := Reference{Name: ref, Kind: Host, Installed: true}
			if len(ref) > 0 && ref[0] == '.' {
				lr.Kind = Subdomain
			}
			want := isASCII(pattern) && legacyMatch(pattern, ref, lr.Kind == Subdomain, multi)
			got := legacyMatchAny(pattern, &RefList{Refs: []Reference{lr}, Mode: Legacy}, Options{Mode: Legacy, WildcardMultipleLabels: multi}) == 0
			require.Equal(t, want, got, "legacy prefilter disagrees on %q %q multi=%v", pattern, ref, multi)
		}
		ok, why := whyOpenSSL(pattern, ref)
		require.Equal(t, got, ok, "explanation disagrees: %q", why)
		require.NotEmpty(t, why, "explanation")
	})
}

// FuzzCertNames parses arbitrary DER and runs name extraction and matching on whatever
// Go accepts as a certificate.
func FuzzCertNames(f *testing.F) {
	for _, s := range []pki.Spec{
		{DNS: []string{"*.messagingengine.com", "messagingengine.com"}, CN: []string{"x"}},
		{CN: []string{"first.example.com", "second.example.com"}},
		{DNS: []string{"bad\x01.example"}},
	} {
		c, err := pki.New(s, nil)
		require.NoError(f, err)
		f.Add(c.DER, "hostname:.example.com", "mx.example.com")
	}
	f.Fuzz(func(t *testing.T, der []byte, list, host string) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		items := strings.Split(list, ":")
		for _, opt := range []Options{{}, {Mode: Legacy, WildcardMultipleLabels: true}} {
			n := Names(cert, opt)
			require.Len(t, n.DNS, len(cert.DNSNames), "DNS names lost")
			require.Len(t, n.IP, len(cert.IPAddresses), "IP addresses lost")
			refs, _ := References(items, "example.com", host, opt)
			r := Check(cert, refs, opt)
			if !r.Matched {
				s := r.Summary()
				require.False(t, s == "" || !utf8.ValidString(s) && utf8.ValidString(list+host+strings.Join(cert.DNSNames, "")), "bad summary %q", s)
			} else {
				require.False(t, r.MatchedRefIndex < 0 && r.HostChecked, "match without reference")
			}
		}
	})
}
