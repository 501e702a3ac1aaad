package match

import (
	"crypto/x509"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

type certSpec struct {
	dns []string
	cn  []string
	ips []string
}

func mkCert(t testing.TB, s certSpec) *x509.Certificate {
	t.Helper()
	spec := pki.Spec{DNS: s.dns, CN: s.cn}
	for _, ip := range s.ips {
		spec.IPs = append(spec.IPs, net.ParseIP(ip))
	}
	return pki.Must(t, spec, nil).Cert
}

var (
	osslOpts  = Options{}
	legacy    = Options{Mode: Legacy, WildcardMultipleLabels: true}
	legacyOne = Options{Mode: Legacy}
	secureDef = []string{"nexthop", "dot-nexthop"}
	verifyDef = []string{"hostname"}
)

func TestCheck(t *testing.T) {
	fastmail := certSpec{dns: []string{"*.messagingengine.com", "messagingengine.com"}}
	cases := []struct {
		name              string
		cert              certSpec
		items             []string
		nexthop, hostname string
		opt               Options
		want              bool
		wantErr           string // Result.Error
		wantName          string // Result.MatchedName
		wantWhy           string // substring of some Try.Why or of Summary on mismatch
	}{
		{name: "§9.41 secure default: MX under the nexthop matches dot-nexthop", cert: certSpec{dns: []string{"mx.example.com"}},
			items: secureDef, nexthop: "example.com", hostname: "mx.example.com", want: true, wantName: "mx.example.com"},
		{name: "§9.41 secure default: SAN equal to the nexthop matches nexthop", cert: certSpec{dns: []string{"example.com"}},
			items: secureDef, nexthop: "example.com", hostname: "mx.example.com", want: true, wantName: "example.com"},
		{name: "§9.42 match=nexthop does not accept the MX name", cert: certSpec{dns: []string{"mx.example.com"}},
			items: []string{"nexthop"}, nexthop: "example.com", hostname: "mx.example.com", wantErr: ErrHostnameMismatch},
		{name: "§9.43 fastmail secure default fails", cert: fastmail, items: secureDef, nexthop: "fastmail.fm",
			hostname: "in1-smtp.messagingengine.com", wantErr: ErrHostnameMismatch, wantWhy: WhySuffixNoEnd},
		{name: "§9.43 fastmail verify passes through the one-label wildcard", cert: fastmail, items: verifyDef,
			nexthop: "fastmail.fm", hostname: "in1-smtp.messagingengine.com", want: true, wantName: "*.messagingengine.com"},
		{name: "§9.43 fastmail secure match=.messagingengine.com passes", cert: fastmail, items: []string{".messagingengine.com"},
			nexthop: "fastmail.fm", hostname: "in1-smtp.messagingengine.com", want: true},
		{name: "§4.5 fastmail match=messagingengine.com:.messagingengine.com passes on the exact SAN", cert: fastmail,
			items: []string{"messagingengine.com", ".messagingengine.com"}, nexthop: "fastmail.fm", want: true, wantName: "messagingengine.com"},
		{name: "§9.44 one-label wildcard does not cover a.b (3.6+)", cert: certSpec{dns: []string{"*.example.com"}},
			items: verifyDef, nexthop: "example.com", hostname: "a.b.example.com", wantErr: ErrHostnameMismatch, wantWhy: WhyWildcardOneLabel},
		{name: "§9.44 legacy multi-label wildcard covers a.b", cert: certSpec{dns: []string{"*.example.com"}},
			items: verifyDef, nexthop: "example.com", hostname: "a.b.example.com", opt: legacy, want: true},
		{name: "§4.3 legacy with tls_wildcard_matches_multiple_labels=no covers one label", cert: certSpec{dns: []string{"*.example.com"}},
			items: verifyDef, nexthop: "example.com", hostname: "a.b.example.com", opt: legacyOne, wantWhy: "covers one label"},
		{name: "§4.3 legacy multi-label example.com.mx1.example.net", cert: certSpec{dns: []string{"*.example.net"}},
			items: []string{"example.com.mx1.example.net"}, opt: legacy, want: true},
		{name: "§9.45 partial wildcard mx* is literal", cert: certSpec{dns: []string{"mx*.example.com"}},
			items: []string{"mx1.example.com"}, wantErr: ErrHostnameMismatch, wantWhy: WhyPartialWildcard},
		{name: "§9.45 .suffix ignores the invalid wildcard and matches", cert: certSpec{dns: []string{"mx*.example.com"}},
			items: []string{".example.com"}, want: true},
		{name: "§9.45 *.com is not a wildcard on 3.6+", cert: certSpec{dns: []string{"*.com"}},
			items: []string{"example.com"}, wantErr: ErrHostnameMismatch, wantWhy: WhyShortWildcard},
		{name: "§9.45 *.com matches example.com on <= 3.5", cert: certSpec{dns: []string{"*.com"}},
			items: []string{"example.com"}, opt: legacy, want: true},
		{name: "§9.46 CN ignored when a DNS SAN exists", cert: certSpec{dns: []string{"other.example.com"}, cn: []string{"mx.example.com"}},
			items: verifyDef, hostname: "mx.example.com", wantErr: ErrHostnameMismatch, wantWhy: WhyCNIgnored},
		{name: "§9.46 second CN matches on 3.6+", cert: certSpec{cn: []string{"first.example.com", "second.example.com"}},
			items: []string{"second.example.com"}, want: true, wantName: "second.example.com"},
		{name: "§9.46 only the first CN counts on <= 3.5", cert: certSpec{cn: []string{"first.example.com", "second.example.com"}},
			items: []string{"second.example.com"}, opt: legacy, wantWhy: WhyCNNotFirst},
		{name: "§9.47 trailing dot in the reference is not ignored", cert: certSpec{dns: []string{"messagingengine.com"}},
			items: []string{"messagingengine.com."}, wantErr: ErrHostnameMismatch, wantWhy: WhyTrailingDot},
		{name: "§4.2 SAN with trailing dot matches only the dotted reference", cert: certSpec{dns: []string{"dot.example.com."}},
			items: []string{"dot.example.com."}, want: true},
		{name: "§4.2 SAN with trailing dot does not match the plain reference", cert: certSpec{dns: []string{"dot.example.com."}},
			items: []string{"dot.example.com"}, wantErr: ErrHostnameMismatch},
		{name: "§9.48 U-label reference matches the A-label SAN", cert: certSpec{dns: []string{"xn--bcher-kva.example"}},
			items: []string{"bücher.example"}, want: true},
		{name: "§4.1 UTS-46 mapping folds case of U-labels", cert: certSpec{dns: []string{"xn--bcher-kva.example"}},
			items: []string{"BÜCHER.example"}, want: true},
		{name: "§4.1 IDNA dot variant U+3002 starts a suffix", cert: certSpec{dns: []string{"mx.xn--bcher-kva.example"}},
			items: []string{"\u3002bücher.example"}, want: true},
		{name: "§4.1 nexthop in Unicode is converted (3.6+)", cert: certSpec{dns: []string{"mx.xn--bcher-kva.example"}},
			items: []string{"dot-nexthop"}, nexthop: "bücher.example", want: true},
		{name: "§9.49 match=. cannot be configured", cert: certSpec{dns: []string{"mx.example.com"}},
			items: []string{"."}, wantErr: ErrUnspecified, wantWhy: "could not configure peer name checks"},
		{name: "§4.1 empty match list cannot be configured", cert: certSpec{dns: []string{"mx.example.com"}},
			items: nil, wantErr: ErrUnspecified},
		{name: "§9.50 default secure to [IP] fails although the IP SAN matches", cert: certSpec{dns: []string{"mx.example.com"}, ips: []string{"192.0.2.10"}},
			items: secureDef, nexthop: "192.0.2.10", hostname: "192.0.2.10", wantErr: ErrHostnameMismatch},
		{name: "§9.50 match=<IP> passes with the IP SAN", cert: certSpec{dns: []string{"mx.example.com"}, ips: []string{"192.0.2.10"}},
			items: []string{"192.0.2.10"}, nexthop: "192.0.2.10", want: true, wantName: "192.0.2.10"},
		{name: "§9.50 verify to [IP] with a DNS-only certificate: IP address mismatch", cert: certSpec{dns: []string{"mx.example.com"}},
			items: verifyDef, nexthop: "192.0.2.10", hostname: "192.0.2.10", wantErr: ErrIPMismatch, wantWhy: WhyNoIPSAN},
		{name: "§4.2 IP literal is a DNS name with OpenSSL 1.1.1", cert: certSpec{dns: []string{"192.0.2.10"}},
			items: []string{"192.0.2.10"}, opt: Options{IPLiterals: IPAsDNSName}, want: true},
		{name: "§4.2 host and IP checks must both pass", cert: certSpec{dns: []string{"mx.example.com"}},
			items: []string{"mx.example.com", "192.0.2.10"}, wantErr: ErrIPMismatch},
		{name: "§4.2 CN is used when only an IP SAN is present", cert: certSpec{cn: []string{"mx.example.com"}, ips: []string{"192.0.2.10"}},
			items: verifyDef, hostname: "mx.example.com", want: true, wantName: "mx.example.com"},
		{name: "§4.2 wildcard does not match the bare domain", cert: certSpec{dns: []string{"*.example.org"}},
			items: []string{"example.org"}, wantErr: ErrHostnameMismatch, wantWhy: WhyWildcardNeedLabel},
		{name: "§4.2 wildcard matches one label", cert: certSpec{dns: []string{"*.example.org"}},
			items: []string{"X.Example.ORG"}, want: true},
		{name: "§4.2 full-label wildcard matches an A-label", cert: certSpec{dns: []string{"*.xn--p1ai.example"}},
			items: []string{"xn--d1acufc.xn--p1ai.example"}, want: true},
		{name: "§4.2 wildcard not in the first label is literal", cert: certSpec{dns: []string{"foo.*.example.org"}},
			items: []string{"foo.bar.example.org"}, wantErr: ErrHostnameMismatch, wantWhy: WhyLiteralStar},
		{name: "§4.2 reference with * is compared literally", cert: certSpec{dns: []string{"*.messagingengine.com"}},
			items: []string{"*.messagingengine.com"}, want: true},
		{name: "§4.2 .suffix matches a literal wildcard SAN", cert: certSpec{dns: []string{"*.example.org"}},
			items: []string{".example.org"}, want: true},
		{name: "§4.2 .suffix matches deeper names", cert: certSpec{dns: []string{"a.b.example.org"}},
			items: []string{".b.example.org"}, want: true},
		{name: "§4.2 .suffix does not match the domain itself", cert: certSpec{dns: []string{"example.org"}},
			items: []string{".example.org"}, wantErr: ErrHostnameMismatch, wantWhy: WhySuffixNotItself},
		{name: "§4.2 partial wildcard matches .com as a plain suffix", cert: certSpec{dns: []string{"mx*.example.com"}},
			items: []string{".com"}, want: true},
		{name: "§4.2 wildcard label may not hold an underscore", cert: certSpec{dns: []string{"*.example.com"}},
			items: []string{"a_b.example.com"}, wantErr: ErrHostnameMismatch, wantWhy: WhyWildcardChars},
		{name: "§4.1 a nexthop with a leading dot is a subdomain check for OpenSSL", cert: certSpec{dns: []string{"a.example.com"}},
			items: []string{"nexthop"}, nexthop: ".example.com", want: true},
		{name: "§4.1 keywords are case-insensitive", cert: certSpec{dns: []string{"example.com"}},
			items: []string{"NextHop"}, nexthop: "example.com", want: true},
		{name: "§4.3 legacy: hostname is not converted to A-labels", cert: certSpec{dns: []string{"xn--bcher-kva.example"}},
			items: verifyDef, hostname: "bücher.example", opt: legacy},
		{name: "§4.3 legacy: literal names are converted to A-labels", cert: certSpec{dns: []string{"xn--bcher-kva.example"}},
			items: []string{"bücher.example"}, opt: legacy, want: true},
		{name: "§4.3 legacy: non-ASCII CN never matches", cert: certSpec{cn: []string{"bücher.example"}},
			items: []string{"bücher.example"}, opt: legacy, wantWhy: WhyNonASCII},
		{name: "§4.3 legacy: '.' is a literal name", cert: certSpec{dns: []string{"."}},
			items: []string{"."}, opt: legacy, want: true},
		{name: "§4.3 legacy: IP literal compared as a DNS name", cert: certSpec{ips: []string{"192.0.2.10"}, cn: []string{"192.0.2.10"}},
			items: []string{"192.0.2.10"}, opt: legacy, want: true, wantName: "192.0.2.10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cert := mkCert(t, tc.cert)
			refs, warns := References(tc.items, tc.nexthop, tc.hostname, tc.opt)
			r := Check(cert, refs, tc.opt)
			require.Equal(t, tc.want, r.Matched, "Matched: %s; tries %+v", r.Summary(), r.Tries)
			assert.Equal(t, tc.wantErr, r.Error)
			if tc.wantName != "" {
				assert.Equal(t, tc.wantName, r.MatchedName)
			}
			if tc.wantWhy != "" {
				found := strings.Contains(r.Summary(), tc.wantWhy)
				for _, tr := range r.Tries {
					found = found || strings.Contains(tr.Why, tc.wantWhy)
				}
				for _, w := range warns {
					found = found || strings.Contains(w.Text, tc.wantWhy)
				}
				assert.True(t, found, "no explanation mentions %q; summary %q; tries %+v", tc.wantWhy, r.Summary(), r.Tries)
			}
			if !r.Matched {
				assert.NotEmpty(t, r.Summary(), "summary on mismatch")
			}
		})
	}
}

func TestReferencesWarnings(t *testing.T) {
	cases := []struct {
		name  string
		items []string
		opt   Options
		want  []string
		fail  bool
	}{
		{name: "§9.49 '.' is ignored, nothing installed", items: []string{"."},
			want: []string{`{namaddr}: ignoring invalid match name: "."`, "{namaddr}: could not configure peer name checks"}, fail: true},
		{name: "§4.2 a second IP address cannot be loaded", items: []string{"192.0.2.1", "192.0.2.2"},
			want: []string{`{namaddr}: error loading match name: "192.0.2.2"`}},
		{name: "§4.1 empty list", items: nil, want: []string{"{namaddr}: could not configure peer name checks"}, fail: true},
		{name: "§4.1 name that cannot become an A-label keeps its form and warns", items: []string{"bad\xff.example"},
			want: []string{"midna_domain_to_ascii_create: Problem translating domain \"bad\xff.example\" to ASCII form: malformed UTF-8"}},
		{name: "§4.3 legacy: '.' and empty lists are silent", items: []string{"."}, opt: legacy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refs, warns := References(tc.items, "example.com", "mx.example.com", tc.opt)
			assert.Equal(t, tc.fail, refs.MustFail, "MustFail")
			if len(tc.want) == 0 {
				require.Empty(t, warns)
			}
			require.GreaterOrEqual(t, len(warns), len(tc.want), "warnings %q, want %q", warns, tc.want)
			for i, w := range tc.want {
				assert.True(t, strings.HasPrefix(warns[i].Text, w), "warning %d = %q, want %q", i, warns[i].Text, w)
			}
		})
	}
}

func TestParseOpenSSLIP(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.010", "192.0.2.10"}, // sscanf %d accepts leading zeros
		{"192.0.2.256", ""},
		{"192.0.2", ""},
		{"192.0.2.1x", ""},
		{".192.0.2.1", ""},
		{"::1", "::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"fe80::1%eth0", ""},
		{"mx.example.com", ""},
	}
	for _, c := range cases {
		b, ok := parseOpenSSLIP(c.in)
		got := ""
		if ok {
			got = net.IP(b).String()
		}
		assert.Equal(t, c.want, got, "§4.2 a2i_IPADDRESS(%q)", c.in)
	}
}

func TestNames(t *testing.T) {
	cert := mkCert(t, certSpec{dns: []string{"a.example", "*.example"}, cn: []string{"c1", "c2"}, ips: []string{"192.0.2.1"}})
	n := Names(cert, osslOpts)
	require.Len(t, n.DNS, 2, "§4.2 names: %+v", n)
	require.Len(t, n.IP, 1, "§4.2 names: %+v", n)
	require.Len(t, n.CN, 2, "§4.2 names: %+v", n)
	require.False(t, n.UsesCN, "§4.2 names: %+v", n)
	require.Equal(t, WhyCNIgnored, n.Note, "§4.2 names")
	assert.False(t, n.DNS[1].Wildcard, "§4.2 *.example (one label after *) is not a wildcard")
	cert = mkCert(t, certSpec{cn: []string{"c1.example", "c2.example"}})
	n = Names(cert, osslOpts)
	assert.True(t, n.UsesCN && n.CN[1].Considered, "§4.2 every CN is used without DNS SANs: %+v", n)
	n = Names(cert, legacy)
	assert.True(t, n.CN[0].Considered, "§4.3 only the first CN before 3.6: %+v", n)
	assert.False(t, n.CN[1].Considered, "§4.3 only the first CN before 3.6: %+v", n)
	assert.Equal(t, WhyCNNotFirst, n.CN[1].Why, "§4.3 only the first CN before 3.6")
	cert = mkCert(t, certSpec{dns: []string{"bad\x01name.example", "ok.example"}})
	n = Names(cert, legacy)
	assert.False(t, n.DNS[0].Considered, "§4.3 non-printable SAN skipped")
	if assert.Len(t, n.Warnings, 1, "§4.3 non-printable SAN warning") {
		assert.Equal(t, "tls_dns_name: {namaddr}: non-printable characters in subjectAltName: bad?name.example", n.Warnings[0].Text)
	}
}

func TestTrace(t *testing.T) {
	cert := mkCert(t, certSpec{dns: []string{"a.example.com", "b.example.com"}})
	refs, _ := References([]string{"b.example.com"}, "", "", osslOpts)
	assert.Empty(t, Check(cert, refs, osslOpts).Tries, "no tries without Trace on success")
	opt := Options{Trace: true}
	r := Check(cert, refs, opt)
	if assert.Len(t, r.Tries, 2, "trace") {
		assert.False(t, r.Tries[0].Matched, "trace: %+v", r.Tries)
		assert.True(t, r.Tries[1].Matched, "trace: %+v", r.Tries)
	}
}

// §4.1: when no reference name is installed Postfix sets must_fail ("could not configure peer
// name checks"), so a hand-built RefList without installed names must never match, even when
// its MustFail flag was not set.
func TestCheckNoInstalledNamesFailsClosed(t *testing.T) {
	cert := mkCert(t, certSpec{dns: []string{"mx.example.com"}})
	for _, c := range []struct {
		name string
		refs RefList
	}{
		{"§4.1 empty reference list", RefList{}},
		{"§4.1 only a name that was not installed", RefList{Refs: []Reference{{Item: ".", Name: ".", Kind: Host}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Check(cert, c.refs, osslOpts)
			require.False(t, r.Matched)
			require.Equal(t, ErrUnspecified, r.Error)
			require.True(t, r.MustFail)
		})
	}
}
