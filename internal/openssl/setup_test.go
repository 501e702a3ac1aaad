package openssl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/policy/release"
)

// tls_proto_mask_lims() and parse_tls_version() (tls_misc.c): the inputs on which the
// evaluator's and the handshake mapping's former copies disagreed, now one rule.
func TestParseProtocolsTLSProtoMaskLims(t *testing.T) {
	v3311, v332, v3711 := release.V(3, 3, 1), release.V(3, 3, 2), release.V(3, 7, 11)
	for _, tc := range []struct {
		name string
		list string
		v    release.Version
		ok   bool
		want Protocols
	}{
		{"TLSv1.3 is not a protocol name in 3.3.1", "TLSv1.3", v3311, false, Protocols{}},
		{"!TLSv1.3 is unknown in 3.3.1", "!TLSv1.3", v3311, false, Protocols{}},
		{"TLSv1.3 is a name from 3.3.2", "!TLSv1.3", v332, true, Protocols{Exclude: TLSv13}},
		{"strtoul reads \"0x\" as 0 followed by an unused x", ">=0x", v3711, false, Protocols{}},
		{"strtoul accepts a + sign", ">=+0x303", v3711, true, Protocols{Floor: 0x303}},
		{"strtoul negates -0 to 0", ">=-0", v3711, true, Protocols{}},
		{"a negative number wraps above INT_MAX", ">=-1", v3711, false, Protocols{}},
		{"empty bound is 0", ">=", v3711, true, Protocols{}},
		{"names compare case-insensitively", ">=tlsv1.2", v3711, true, Protocols{Floor: 0x303}},
		{"None is a bound name", "<=None", v3711, true, Protocols{}},
		{"bounds are unknown names before 3.6", ">=TLSv1.2", release.V(3, 5, 25), false, Protocols{}},
		{"a list of names enables exactly those", "TLSv1.2:TLSv1.3", v3711, true, Protocols{Exclude: SSLv2 | SSLv3 | TLSv1 | TLSv11}},
		{"separators: comma, space, colon", "!SSLv2, !SSLv3:!TLSv1", v3711, true, Protocols{Exclude: SSLv2 | SSLv3 | TLSv1}},
		{"an unknown name is invalid", "TLSv1.4", v3711, false, Protocols{}},
		{"hex over INT_MAX", ">=80000000", v3711, false, Protocols{}},
		{"zero release means the newest", "TLSv1.3", release.Version{}, true, Protocols{Exclude: AllProtocols &^ TLSv13}},
	} {
		got, ok := ParseProtocols(tc.list, tc.v)
		require.Equal(t, tc.ok, ok, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// tls_client_start(): the order of the setup checks and Postfix's warning for each.
func TestNewSetupAborts(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    SetupParams
		want string
	}{
		{"protocols are checked first", SetupParams{Protocols: "bogus", Grade: "bogus"}, `Invalid TLS protocol list "bogus": aborting TLS session`},
		{"unknown grade", SetupParams{Grade: "bogus"}, `invalid cipher grade: "bogus"`},
		{"unary operator in an exclusion", SetupParams{Exclusions: []string{"aNULL !RC4"}}, `invalid unary '!+-@' in cipher exclusion: !RC4`},
		{"null grade with eNULL excluded enables nothing", SetupParams{Grade: "null", Exclusions: []string{"eNULL"}}, `error setting cipher grade: "null"`},
	} {
		assert.Equal(t, tc.want, NewSetup(tc.p).Abort, tc.name)
	}
	s := NewSetup(SetupParams{Protocols: "SSLv3", DANE: true})
	assert.Empty(t, s.Abort)
	assert.Contains(t, s.ConnectError, "no protocols available", "DANE levels disable SSLv2 and SSLv3")
	s = NewSetup(SetupParams{Protocols: ">=0x200"})
	assert.Equal(t, []string{"error setting minimum TLS version to: 0x0200"}, s.Warnings)
	assert.Equal(t, []Version{{"TLSv1", 0x301}, {"TLSv1.1", 0x302}, {"TLSv1.2", 0x303}, {"TLSv1.3", 0x304}}, s.Versions)
}

// X509_verify_cert_error_string() in OpenSSL 3.0 (checked with openssl verify -purpose
// sslserver on a clientAuth-only certificate: "error 26 at 0 depth lookup: unsuitable
// certificate purpose"); OpenSSL 1.1.1 said "unsupported certificate purpose".
func TestErrnoTextOpenSSL30(t *testing.T) {
	assert.Equal(t, "unsuitable certificate purpose", InvalidPurpose.Text())
	assert.Equal(t, "invalid CA certificate", InvalidCA.Text())
	assert.Equal(t, "error number 4242", Errno(4242).Text())
	assert.Equal(t, "certificate verification failed for mx[192.0.2.1]:25: not designated for use as a server certificate",
		InvalidPurpose.LogLine(0, "", "mx[192.0.2.1]:25"))
	assert.Equal(t, "CA certificate verification failed for mx[192.0.2.1]:25: num=79:invalid CA certificate",
		InvalidCA.LogLine(1, "", "mx[192.0.2.1]:25"))
	assert.Equal(t, "certificate verification failed for mx[192.0.2.1]:25: untrusted issuer /CN=X",
		UnableToGetIssuerLocal.LogLine(0, "/CN=X", "mx[192.0.2.1]:25"))
}
