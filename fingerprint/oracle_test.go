package fingerprint

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/finger"
	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
)

func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		need.Missing(t, "openssl not installed (apt-get install openssl)")
	}
	return p
}

func runOpenSSL(t *testing.T, bin string, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	require.NoError(t, err, "openssl %v", args)
	return out
}

// TestOpenSSLWitness compares our fingerprints with OpenSSL's own: the certificate digest
// from `openssl x509 -fingerprint`, the public key from `openssl x509 -pubkey` turned into
// DER and digested by `openssl dgst -c`.
func TestOpenSSLWitness(t *testing.T) {
	if testing.Short() {
		t.Skip("openssl oracle: skipped in -short mode")
	}
	bin := requireOpenSSL(t)
	for _, key := range []pki.KeyType{pki.ECDSAP256, pki.RSA2048} {
		c := pki.Must(t, pki.Spec{CN: []string{"witness.example"}, DNS: []string{"witness.example"}, Key: key}, nil)
		pubPEM := runOpenSSL(t, bin, c.PEM(), "x509", "-noout", "-pubkey")
		pubDER := runOpenSSL(t, bin, pubPEM, "pkey", "-pubin", "-outform", "DER")
		require.Equal(t, c.Cert.RawSubjectPublicKeyInfo, pubDER, "SPKI DER differs from OpenSSL's")
		for _, d := range append(Digests(), "SHA256", "sha2-256", "sha512-256", "sha3-256") {
			want := strings.TrimSpace(string(runOpenSSL(t, bin, c.PEM(), "x509", "-noout", "-fingerprint", "-"+d)))
			got, err := OpenSSLLine(c.Cert, d)
			if assert.NoError(t, err, "§5.1 %s cert", d) {
				assert.Equal(t, want, got, "§5.1 %s cert", d)
			}
			dg := strings.TrimSpace(string(runOpenSSL(t, bin, pubDER, "dgst", "-"+d, "-c")))
			f, _ := Compute(c.Cert, d)
			_, hexs, _ := strings.Cut(dg, "= ")
			assert.Equal(t, strings.ToUpper(hexs), strings.ToUpper(f.PublicKeyString()), "§5.1 %s pkey (openssl %q)", d, dg)
		}
	}
}

// TestOraclePrinting compares PostfixStack and PostfixLogLine with what posttls-finger
// prints for the same chain (-C and the certmatch log line).
func TestOraclePrinting(t *testing.T) {
	if testing.Short() {
		t.Skip("posttls-finger oracle: skipped in -short mode")
	}
	finger.Require(t)
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{CN: []string{"mx.example.com"}, DNS: []string{"mx.example.com"}})
	ctx := context.Background()
	srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.0.1:0", Certificates: []tls.Certificate{pki.TLSCertificate(leaf, h.Inter)}})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	for _, digest := range []string{"sha256", "md5"} {
		fr, err := finger.Run(ctx, finger.Options{Destination: "[127.0.0.1]:" + strconv.Itoa(srv.Port()), Level: "secure",
			Match: []string{"mx.example.com"}, CAPEM: h.Root.PEM(), Digest: digest, PrintChain: true})
		require.NoError(t, err)
		want, err := PostfixStack([]*x509.Certificate{leaf.Cert, h.Inter.Cert}, digest)
		require.NoError(t, err)
		assert.Equal(t, fr.Chain, want, "%s chain: posttls-finger's, ours", digest)
		line, _ := PostfixLogLine(leaf.Cert, digest, false)
		found := false
		for _, l := range fr.Lines {
			found = found || strings.HasSuffix(l, ": "+line)
		}
		assert.True(t, found, "%s: no line ends with %q in\n%s", digest, line, strings.Join(fr.Lines, "\n"))
	}
}

// TestOracleAgreement runs real posttls-finger at the fingerprint level over digests x
// certificates x value lists and checks that Check agrees: verdict, warnings (in order),
// verification error and the matched value.
func TestOracleAgreement(t *testing.T) {
	finger.Require(t)
	if testing.Short() {
		t.Skip("oracle matrix skipped in -short mode")
	}
	ctx := context.Background()
	certs := map[string]*pki.Cert{
		"ecdsa":   pki.Must(t, pki.Spec{CN: []string{"ec.example"}}, nil),
		"rsa":     pki.Must(t, pki.Spec{CN: []string{"rsa.example"}, Key: pki.RSA2048}, nil),
		"expired": pki.Must(t, pki.Spec{CN: []string{"old.example"}, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}, nil),
	}
	other := pki.Must(t, pki.Spec{CN: []string{"other.example"}}, nil)
	sem := make(chan struct{}, 3)
	var mu sync.Mutex
	verified, failed := 0, 0
	t.Cleanup(func() {
		if !t.Failed() {
			assert.True(t, verified >= 10 && failed >= 10, "matrix too one-sided: %d verified, %d failed", verified, failed)
		}
		t.Logf("posttls-finger agreement: %d verified, %d failed", verified, failed)
	})
	for cname, c := range certs {
		srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.0.1:0", Certificates: []tls.Certificate{pki.TLSCertificate(c)}})
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		dest := "[127.0.0.1]:" + strconv.Itoa(srv.Port())
		for _, digest := range []string{"md5", "sha1", "sha256", "sha512"} {
			fp, _ := Compute(c.Cert, digest)
			fo, _ := Compute(other.Cert, digest)
			wrong := "sha256"
			if digest == "sha256" {
				wrong = "md5"
			}
			fw, _ := Compute(c.Cert, wrong)
			lists := map[string][]string{
				"cert colons":              {fp.CertString()},
				"cert lower no colons":     {strings.ToLower(strings.ReplaceAll(fp.CertString(), ":", ""))},
				"pkey":                     {fp.PublicKeyString()},
				"pkey mixed colons":        {strings.Replace(fp.PublicKeyString(), ":", "", 3)},
				"other certificate":        {fo.CertString(), fo.PublicKeyString()},
				"wrong digest":             {fw.CertString()},
				"garbage then pkey":        {"001122", fp.PublicKeyString()},
				"malformed and good":       {"zz:11", fp.CertString()},
				"unusable and other":       {"00", fo.CertString()},
				"wrong digest and garbage": {fw.PublicKeyString(), "AB:CD"},
			}
			for lname, vals := range lists {
				t.Run(cname+"/"+digest+"/"+lname, func(t *testing.T) {
					t.Parallel()
					sem <- struct{}{}
					fr, err := finger.Run(ctx, finger.Options{Destination: dest, Level: "fingerprint", Digest: digest, Match: vals})
					<-sem
					require.NoError(t, err)
					l, pw, err := ParseList(vals, Table, Options{Digest: digest, ColonsOptional: true})
					require.NoError(t, err)
					r := Check(c.Cert, l)
					var ours []string
					for _, w := range pw {
						ours = append(ours, w.Text)
					}
					for _, w := range r.Warnings {
						ours = append(ours, strings.TrimPrefix(w.Render(""), ": "))
					}
					bad := false
					if !assert.Equal(t, fr.Trust == "Verified", r.Matched, "matched, posttls-finger %q (%s): %s", fr.Trust, fr.VerifyFailure, r.Summary()) {
						bad = true
					}
					if !r.Matched && !assert.Equal(t, fr.VerifyFailure, r.Error, "verification error") {
						bad = true
					}
					if !assert.Equal(t, strings.Join(fr.Warnings, "\n"), strings.Join(ours, "\n"), "warnings") {
						bad = true
					}
					if r.Matched {
						b, _ := DecodeHex(r.MatchedValue)
						if want := "Matched fingerprint: " + hexPlain(b); !assert.True(t, len(fr.Matched) > 0 && fr.Matched[0] == want, "posttls-finger %q, we say %q", fr.Matched, want) {
							bad = true
						}
					}
					if bad {
						t.Logf("posttls-finger %q:\n%s", fr.Args, strings.Join(fr.Lines, "\n"))
					}
					mu.Lock()
					if fr.Trust == "Verified" {
						verified++
					} else {
						failed++
					}
					mu.Unlock()
				})
			}
		}
	}
}
