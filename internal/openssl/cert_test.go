package openssl

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/stretchr/testify/assert"
)

// makeCert makes a self-signed certificate from tmpl's subject, constraints and usages.
func makeCert(t *testing.T, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	return pki.Must(t, pki.Spec{Edit: func(c *x509.Certificate) {
		c.Subject, c.BasicConstraintsValid, c.IsCA = tmpl.Subject, tmpl.BasicConstraintsValid, tmpl.IsCA
		c.KeyUsage, c.ExtKeyUsage = tmpl.KeyUsage, tmpl.ExtKeyUsage
	}}, nil).Cert
}

// X509_check_ca() (v3_purp.c check_ca): ku_reject first, then basicConstraints, then the
// legacy rules. The keyUsage case was checked with openssl verify: a CA:TRUE intermediate
// whose keyUsage is digitalSignature only gives "error 79 at 1 depth lookup: invalid CA
// certificate" before errors 26 and 32.
func TestIsCACheckCA(t *testing.T) {
	ca := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "ca"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign})
	for _, top := range []bool{true, false} {
		assert.True(t, IsCA(ca, top), "basicConstraints CA:TRUE with keyCertSign")
	}
	assert.True(t, SelfIssued(ca))
	noSign := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "int"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature})
	assert.False(t, IsCA(noSign, false), "ku_reject: keyUsage without keyCertSign is no CA even with CA:TRUE")
	leaf := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}, BasicConstraintsValid: true})
	assert.False(t, IsCA(leaf, true), "basicConstraints CA:FALSE")
	kuOnly := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "ku"}, KeyUsage: x509.KeyUsageCertSign})
	assert.True(t, IsCA(kuOnly, true), "no basicConstraints, keyCertSign: tolerated at the top (check_ca returns 4)")
	// openssl verify -purpose sslserver, leaf <- intermediate (keyCertSign, no
	// basicConstraints) <- root in the CAfile: "error 79 at 1 depth lookup: invalid CA
	// certificate" ("X509_V_FLAG_X509_STRICT is implicit for intermediate CAs").
	assert.False(t, IsCA(kuOnly, false), "below the top a CA needs basicConstraints CA:TRUE")
	v1 := *kuOnly
	v1.KeyUsage, v1.Version = 0, 1
	assert.True(t, IsCA(&v1, true), "a version 1 self-issued certificate is a V1 root")
	assert.False(t, IsCA(&v1, false), "but not an intermediate")
	v1.RawIssuer = []byte("other")
	assert.False(t, IsCA(&v1, true), "a version 1 certificate issued by another is not")
}

// check_purpose_ssl_server(): xku_reject (anyExtendedKeyUsage is not serverAuth) and, for
// the leaf, ku_reject. Checked with openssl: a leaf whose only EKU is anyExtendedKeyUsage
// fails with "unsuitable certificate purpose" (26).
func TestServerPurpose(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *x509.Certificate
		ca   bool
		want bool
	}{
		{"no extensions", &x509.Certificate{}, false, true},
		{"serverAuth", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, false, true},
		{"clientAuth only", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, false, false},
		{"anyExtendedKeyUsage only", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, false, false},
		{"anyExtendedKeyUsage on a CA", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, true, false},
		{"Netscape SGC", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageNetscapeServerGatedCrypto}}, false, true},
		{"leaf keyUsage certSign only", &x509.Certificate{KeyUsage: x509.KeyUsageCertSign}, false, false},
		{"CA keyUsage certSign only", &x509.Certificate{KeyUsage: x509.KeyUsageCertSign}, true, true},
		{"leaf keyUsage digitalSignature", &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature}, false, true},
	} {
		assert.Equal(t, tc.want, ServerPurpose(tc.c, tc.ca), tc.name)
	}
}
