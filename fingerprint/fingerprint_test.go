package fingerprint

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

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
			if ok != c.ok || (ok && hex.EncodeToString(b) != c.want) {
				t.Errorf("DecodeHex(%q) = %x, %v; want %s, %v", c.in, b, ok, c.want, c.ok)
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
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			var vals []string
			bad := 0
			for _, v := range l.Values {
				vals = append(vals, v.Text)
				if v.Malformed {
					bad++
				}
			}
			if strings.Join(vals, " ") != strings.Join(c.wantVals, " ") || bad != c.wantBad {
				t.Errorf("values %q (%d malformed), want %q (%d)", vals, bad, c.wantVals, c.wantBad)
			}
			var ws []string
			for _, w := range warns {
				ws = append(ws, w.Text)
			}
			if strings.Join(ws, "\n") != strings.Join(c.wantWarns, "\n") {
				t.Errorf("warnings %q, want %q", ws, c.wantWarns)
			}
		})
	}
	if _, _, err := ParseList([]string{"AB"}, Table, Options{Digest: "bogus"}); !errors.Is(err, ErrUnknownDigest) ||
		err.Error() != `Digest algorithm "bogus" not found` {
		t.Errorf("§5.1 unknown digest: %v", err)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			r := Check(c.cert.Cert, l)
			if r.Matched != c.want || (c.want && r.MatchedKind != c.wantKind) {
				t.Fatalf("Matched %v %v, want %v %v: %s", r.Matched, r.MatchedKind, c.want, c.wantKind, r.Summary())
			}
			if r.Error != c.wantErr {
				t.Errorf("Error %q, want %q", r.Error, c.wantErr)
			}
			var ws []string
			for _, w := range r.Warnings {
				ws = append(ws, w.Text)
			}
			if strings.Join(ws, "\n") != strings.Join(c.wantWarns, "\n") {
				t.Errorf("warnings %q\nwant %q", ws, c.wantWarns)
			}
			if c.wantSum != "" && !strings.Contains(r.Summary(), c.wantSum) {
				t.Errorf("summary %q lacks %q", r.Summary(), c.wantSum)
			}
			if !r.Matched && len(r.All) != len(Digests()) {
				t.Errorf("mismatch must carry every digest: %d", len(r.All))
			}
		})
	}
}

func TestTLSAHex(t *testing.T) {
	long := make([]byte, 96)
	for i := range long {
		long[i] = byte(i)
	}
	got := tlsaHex(long)
	want := strings.ToUpper(hex.EncodeToString(long[:32])) + "..." + strings.ToUpper(hex.EncodeToString(long[64:]))
	if got != want {
		t.Errorf("§5.2 tlsa_carp truncation: %s", got)
	}
	if tlsaHex(nil) != "..." {
		t.Errorf("empty data")
	}
}

func TestIdentify(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{CN: []string{"x"}}, nil)
	for _, d := range Digests() {
		f, err := Compute(leaf.Cert, d)
		if err != nil {
			t.Fatal(err)
		}
		if id := Identify(f.PublicKeyString(), leaf.Cert); !id.Found || id.Digest != d || id.Kind != PublicKey {
			t.Errorf("%s pkey: %+v", d, id)
		}
		if id := Identify(strings.ToLower(strings.ReplaceAll(f.CertString(), ":", "")), leaf.Cert); !id.Found || id.Digest != d || id.Kind != Certificate {
			t.Errorf("%s cert: %+v", d, id)
		}
	}
	if id := Identify("zz", leaf.Cert); id.Found {
		t.Errorf("garbage identified: %+v", id)
	}
}

func TestDigestNames(t *testing.T) {
	for in, want := range map[string]string{"SHA256": "sha256", "sha-256": "sha256", "sha2-256": "sha256", "MD5": "md5", "sha1": "sha1"} {
		if got, err := CanonicalDigest(in); err != nil || got != want {
			t.Errorf("§5.1 CanonicalDigest(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := CanonicalDigest("bogus"); !errors.Is(err, ErrUnknownDigest) {
		t.Errorf("bogus digest: %v", err)
	}
}

func TestPrinting(t *testing.T) {
	root := pki.Must(t, pki.Spec{CN: []string{"Root"}, Org: "Example", CA: true}, nil)
	leaf := pki.Must(t, pki.Spec{CN: []string{"mx.example.com"}}, root)
	out, err := PostfixStack([]*x509.Certificate{leaf.Cert, root.Cert}, "sha256")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Compute(leaf.Cert, "sha256")
	for _, want := range []string{" 0 subject: /CN=mx.example.com\n    issuer: /O=Example/CN=Root\n   cert digest=" + f.CertString() + "\n   pkey digest=" + f.PublicKeyString() + "\n-----BEGIN CERTIFICATE-----",
		" 1 subject: /O=Example/CN=Root\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("PostfixStack lacks %q:\n%s", want, out)
		}
	}
	line, _ := PostfixLogLine(leaf.Cert, "sha256", false)
	if line != "subject_CN=mx.example.com, issuer_CN=Root, fingerprint="+f.CertString()+", pkey_fingerprint="+f.PublicKeyString() {
		t.Errorf("log line %q", line)
	}
	ol, _ := OpenSSLLine(leaf.Cert, "sha256")
	if ol != "sha256 Fingerprint="+f.CertString() {
		t.Errorf("openssl line %q", ol)
	}
	rep, err := PEMReport(append(leaf.PEM(), root.PEM()...))
	if err != nil || strings.Count(rep, "subject:") != 2 || !strings.Contains(rep, "sha256 cert="+f.CertString()) {
		t.Errorf("report %v:\n%s", err, rep)
	}
	if _, err := PEMReport([]byte("nothing")); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("no PEM: %v", err)
	}
}
