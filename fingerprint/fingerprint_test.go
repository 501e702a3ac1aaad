package fingerprint

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func TestDecodeHex(t *testing.T) {
	cases := []struct {
		name, in, want string
		ok             bool
	}{
		{"§5.2 colon-separated upper case", "AB:CD:EF", "abcdef", true},
		{"§5.2 no colons, lower case", "abcdef", "abcdef", true},
		{"§5.2 colons optional between any pairs", "AB:CDEF", "abcdef", true},
		{"§5.2 empty string decodes to nothing", "", "", true},
		{"§5.2 leading colon", ":AB:CD", "", false},
		{"§5.2 trailing colon", "AB:CD:", "", false},
		{"§5.2 double colon", "AB::CD", "", false},
		{"§5.2 odd digit count", "ABC", "", false},
		{"§5.2 colon after one digit", "A:BC", "", false},
		{"§5.2 colon inside a pair position", "ABC:D", "", false},
		{"§5.2 non-hex digit", "zz:11", "", false},
		{"§5.2 two digits then colon then end", "AB:", "", false},
		{"hex_code.c test: plain text is not hex", "this is a test", "", false},
		{"hex_code.c test: decode lower case", "fffefdfcfbfa", "fffefdfcfbfa", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, ok := DecodeHex(c.in)
			require.Equal(t, c.ok, ok, "DecodeHex(%q)", c.in)
			if ok {
				assert.Equal(t, c.want, hex.EncodeToString(b), "DecodeHex(%q)", c.in)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	long := strings.Repeat("AB", 97) // 194 characters > 192
	cases := []struct {
		name      string
		raw       []string
		from      Source
		opt       Options
		wantVals  []string
		wantBad   int
		wantWarns []string
		wantErr   error
	}{
		{name: "§5.1 table values split on '|'", raw: []string{"AB:CD|ef01"}, from: Table, opt: Options{ColonsOptional: true},
			wantVals: []string{"AB:CD", "ef01"}},
		{name: "§1.3 several match= attributes add up", raw: []string{"AB", "CD"}, from: Table, opt: Options{ColonsOptional: true},
			wantVals: []string{"AB", "CD"}},
		{name: "§5.1 main.cf splits on whitespace and commas", raw: []string{"AB, CD\tEF\n01"}, from: MainCF, opt: Options{ColonsOptional: true},
			wantVals: []string{"AB", "CD", "EF", "01"}},
		{name: "§9.56 main.cf fp1|fp2 is one malformed value", raw: []string{"AB|CD"}, from: MainCF, opt: Options{ColonsOptional: true},
			wantVals: []string{"AB|CD"}, wantBad: 1, wantWarns: []string{"malformed fingerprint value: AB|CD"}, wantErr: ErrNoFingerprints},
		{name: "§9.54 only value malformed is a configuration error", raw: []string{"zz:11"}, from: Table, opt: Options{ColonsOptional: true},
			wantVals: []string{"zz:11"}, wantBad: 1, wantWarns: []string{"malformed fingerprint value: zz:11"}, wantErr: ErrNoFingerprints},
		{name: "§5.2 malformed value skipped next to a good one", raw: []string{"zz|AB"}, from: Table, opt: Options{ColonsOptional: true},
			wantVals: []string{"zz", "AB"}, wantBad: 1, wantWarns: []string{"malformed fingerprint value: zz"}},
		{name: "§5.2 value longer than 192 characters", raw: []string{long + "|AB"}, from: Table, opt: Options{ColonsOptional: true},
			wantVals: []string{long, "AB"}, wantBad: 1, wantWarns: []string{"malformed fingerprint value: " + long[:100] + "..."}},
		{name: "§5.1 empty list is a configuration error", raw: []string{"||"}, from: Table, opt: Options{ColonsOptional: true},
			wantErr: ErrNoFingerprints},
		{name: "§5.2 <= 3.5 keeps values as text, no warnings", raw: []string{"zz:11"}, from: Table,
			wantVals: []string{"zz:11"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, warns, err := ParseList(c.raw, c.from, c.opt)
			require.ErrorIs(t, err, c.wantErr)
			var vals []string
			bad := 0
			for _, v := range l.Values {
				vals = append(vals, v.Text)
				if v.Malformed {
					bad++
				}
			}
			assert.Equal(t, strings.Join(c.wantVals, " "), strings.Join(vals, " "), "values")
			assert.Equal(t, c.wantBad, bad, "malformed values")
			var ws []string
			for _, w := range warns {
				ws = append(ws, w.Text)
			}
			assert.Equal(t, strings.Join(c.wantWarns, "\n"), strings.Join(ws, "\n"), "warnings")
		})
	}
	_, _, err := ParseList([]string{"AB"}, Table, Options{Digest: "bogus"})
	require.ErrorIs(t, err, ErrUnknownDigest, "§5.1 unknown digest")
	assert.EqualError(t, err, `Digest algorithm "bogus" not found`)
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func TestCheck(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{CN: []string{"mx.example.com"}}, nil)
	expired := pki.Must(t, pki.Spec{CN: []string{"old"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}, nil)
	other := pki.Must(t, pki.Spec{CN: []string{"other"}}, nil)
	c256 := sha256.Sum256(leaf.DER)
	p256 := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	cmd5 := md5.Sum(leaf.DER)
	csha1 := sha1.Sum(leaf.DER)
	e256 := sha256.Sum256(expired.DER)
	new36 := Options{ColonsOptional: true}
	cases := []struct {
		name      string
		cert      *pki.Cert
		raw       string
		opt       Options
		want      bool
		wantKind  Kind
		wantErr   string
		wantWarns []string
		wantSum   string
	}{
		{name: "§9.51 sha256 of the cert, lower case, no colons, 3.6+", cert: leaf, raw: hexOf(c256[:]), opt: new36,
			want: true, wantKind: Certificate},
		{name: "§9.51 same value never matches on <= 3.5 (colons required)", cert: leaf, raw: hexOf(c256[:]),
			wantSum: "needs the colon form"},
		{name: "§5.2 <= 3.5 colon form matches case-insensitively", cert: leaf, raw: strings.ToLower(Format(c256[:])), want: true},
		{name: "§9.52 SPKI digest plus a garbage value", cert: leaf, raw: hexOf(p256[:]) + "|001122", opt: new36, want: true,
			wantKind: PublicKey, wantWarns: []string{"{namaddr}: unusable TLSA RR: 3 1 255 001122", "{namaddr}: unusable TLSA RR: 3 0 255 001122"}},
		{name: "§9.53 md5 value with digest sha256: all unusable", cert: leaf, raw: hexOf(cmd5[:]), opt: new36, wantErr: ErrUnspecified,
			wantWarns: []string{"{namaddr}: unusable TLSA RR: 3 1 255 " + strings.ToUpper(hexOf(cmd5[:])),
				"{namaddr}: unusable TLSA RR: 3 0 255 " + strings.ToUpper(hexOf(cmd5[:])), "{namaddr}: all fingerprints unusable"},
			wantSum: "is the MD5 fingerprint of the certificate, but Postfix compares SHA-256"},
		{name: "§9.53 md5 value with digest md5 matches", cert: leaf, raw: Format(cmd5[:]), opt: Options{ColonsOptional: true, Digest: "md5"}, want: true},
		{name: "§9.55 expired self-signed certificate still matches", cert: expired, raw: hexOf(e256[:]), opt: new36, want: true},
		{name: "§9.55 fingerprint of another certificate", cert: other, raw: hexOf(c256[:]), opt: new36, wantErr: ErrNoMatch,
			wantSum: "no fingerprint value equals"},
		{name: "§5.1 a SHA-1 pin under sha256 is identified", cert: leaf, raw: hexOf(csha1[:]) + "|" + hexOf(p256[:1]) + hexOf(p256[1:]), opt: new36, want: true,
			wantKind: PublicKey, wantWarns: []string{"{namaddr}: unusable TLSA RR: 3 1 255 " + strings.ToUpper(hexOf(csha1[:])),
				"{namaddr}: unusable TLSA RR: 3 0 255 " + strings.ToUpper(hexOf(csha1[:]))}},
		{name: "§5.2 warnings come last value first (records are prepended)", cert: leaf, raw: "00|11|" + hexOf(c256[:]), opt: new36, want: true,
			wantWarns: []string{"{namaddr}: unusable TLSA RR: 3 1 255 11", "{namaddr}: unusable TLSA RR: 3 0 255 11",
				"{namaddr}: unusable TLSA RR: 3 1 255 00", "{namaddr}: unusable TLSA RR: 3 0 255 00"}},
		{name: "§5.2 raw public keys: only public-key digests count", cert: leaf, raw: hexOf(c256[:]), opt: Options{ColonsOptional: true, PublicKeyOnly: true},
			wantErr: ErrNoMatch, wantSum: "only public-key fingerprints are compared"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, _, err := ParseList([]string{c.raw}, Table, c.opt)
			require.NoError(t, err)
			r := Check(c.cert.Cert, l)
			require.Equal(t, c.want, r.Matched, "Matched: %s", r.Summary())
			if c.want {
				require.Equal(t, c.wantKind, r.MatchedKind, "MatchedKind: %s", r.Summary())
			}
			assert.Equal(t, c.wantErr, r.Error)
			var ws []string
			for _, w := range r.Warnings {
				ws = append(ws, w.Text)
			}
			assert.Equal(t, strings.Join(c.wantWarns, "\n"), strings.Join(ws, "\n"), "warnings")
			if c.wantSum != "" {
				assert.Contains(t, r.Summary(), c.wantSum, "summary")
			}
			if !r.Matched {
				assert.Len(t, r.All, len(Digests()), "a mismatch carries every digest")
			}
		})
	}
}

func TestTLSAHex(t *testing.T) {
	long := make([]byte, 96)
	for i := range long {
		long[i] = byte(i)
	}
	want := strings.ToUpper(hex.EncodeToString(long[:32])) + "..." + strings.ToUpper(hex.EncodeToString(long[64:]))
	assert.Equal(t, want, tlsaHex(long), "§5.2 tlsa_carp truncation")
	assert.Equal(t, "...", tlsaHex(nil), "empty data")
}

func TestIdentify(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{CN: []string{"x"}}, nil)
	for _, d := range Digests() {
		f, err := Compute(leaf.Cert, d)
		require.NoError(t, err)
		id := Identify(f.PublicKeyString(), leaf.Cert)
		assert.True(t, id.Found, "%s pkey: %+v", d, id)
		assert.Equal(t, d, id.Digest, "%s pkey", d)
		assert.Equal(t, PublicKey, id.Kind, "%s pkey", d)
		id = Identify(strings.ToLower(strings.ReplaceAll(f.CertString(), ":", "")), leaf.Cert)
		assert.True(t, id.Found, "%s cert: %+v", d, id)
		assert.Equal(t, d, id.Digest, "%s cert", d)
		assert.Equal(t, Certificate, id.Kind, "%s cert", d)
	}
	id := Identify("zz", leaf.Cert)
	assert.False(t, id.Found, "garbage identified: %+v", id)
}

func TestDigestNames(t *testing.T) {
	for in, want := range map[string]string{"SHA256": "sha256", "sha-256": "sha256", "sha2-256": "sha256", "MD5": "md5", "sha1": "sha1"} {
		got, err := CanonicalDigest(in)
		if assert.NoError(t, err, "§5.1 CanonicalDigest(%q)", in) {
			assert.Equal(t, want, got, "§5.1 CanonicalDigest(%q)", in)
		}
	}
	_, err := CanonicalDigest("bogus")
	assert.ErrorIs(t, err, ErrUnknownDigest, "bogus digest")
}

func TestPrinting(t *testing.T) {
	root := pki.Must(t, pki.Spec{CN: []string{"Root"}, Org: "Example", CA: true}, nil)
	leaf := pki.Must(t, pki.Spec{CN: []string{"mx.example.com"}}, root)
	out, err := PostfixStack([]*x509.Certificate{leaf.Cert, root.Cert}, "sha256")
	require.NoError(t, err)
	f, _ := Compute(leaf.Cert, "sha256")
	for _, want := range []string{" 0 subject: /CN=mx.example.com\n    issuer: /O=Example/CN=Root\n   cert digest=" + f.CertString() + "\n   pkey digest=" + f.PublicKeyString() + "\n-----BEGIN CERTIFICATE-----",
		" 1 subject: /O=Example/CN=Root\n"} {
		assert.Contains(t, out, want, "PostfixStack")
	}
	line, _ := PostfixLogLine(leaf.Cert, "sha256", false)
	assert.Equal(t, "subject_CN=mx.example.com, issuer_CN=Root, fingerprint="+f.CertString()+", pkey_fingerprint="+f.PublicKeyString(), line, "log line")
	ol, _ := OpenSSLLine(leaf.Cert, "sha256")
	assert.Equal(t, "sha256 Fingerprint="+f.CertString(), ol, "openssl line")
	rep, err := PEMReport(append(leaf.PEM(), root.PEM()...))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(rep, "subject:"), "report:\n%s", rep)
	assert.Contains(t, rep, "sha256 cert="+f.CertString(), "report")
	_, err = PEMReport([]byte("nothing"))
	assert.ErrorIs(t, err, ErrNoCertificate, "no PEM")
}

// TestCheckSize (§5.2): a pin whose length is not the compared digest's is "unusable TLSA
// RR" to Postfix and never matches; its length tells which digest made it.
func TestCheckSize(t *testing.T) {
	sha1pin := "50:89:E1:F3:4A:0D:6A:3D:FA:5C:54:AA:1C:30:AF:76:11:9E:A3:14"
	for _, c := range []struct {
		name, value, digest string
		bad                 bool
		text                string
	}{
		{"SHA-1 pin, SHA-256 compared", sha1pin, "sha256", true, "a 20-byte value (the length of a SHA-1 digest), but Postfix compares SHA-256 digests (32 bytes): it can never match"},
		{"SHA-1 pin without colons, MD5 compared", strings.ReplaceAll(sha1pin, ":", ""), "md5", true, "a 20-byte value (the length of a SHA-1 digest), but Postfix compares MD5 digests (16 bytes): it can never match"},
		{"MD5 pin, SHA-256 compared", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "sha256", true, "a 16-byte value (the length of an MD5 digest), but Postfix compares SHA-256 digests (32 bytes): it can never match"},
		{"odd length", "00:11:22", "sha256", true, "a 3-byte value, but Postfix compares SHA-256 digests (32 bytes): it can never match"},
		{"fits", sha1pin, "sha1", false, ""},
		{"not hex", "zz:zz", "sha256", false, ""},
		{"unknown digest", sha1pin, "nosuch", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, bad := CheckSize(c.value, c.digest)
			if bad != c.bad || (bad && m.String() != c.text) {
				t.Errorf("CheckSize(%q, %q) = %q, %v", c.value, c.digest, m, bad)
			}
		})
	}
}
