package openssl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func makeCert(t *testing.T, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// X509_check_ca() (v3_purp.c check_ca): ku_reject first, then basicConstraints, then the
// legacy rules. The keyUsage case was checked with openssl verify: a CA:TRUE intermediate
// whose keyUsage is digitalSignature only gives "error 79 at 1 depth lookup: invalid CA
// certificate" before errors 26 and 32.
func TestIsCACheckCA(t *testing.T) {
	ca := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "ca"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign})
	assert.True(t, IsCA(ca), "basicConstraints CA:TRUE with keyCertSign")
	assert.True(t, SelfIssued(ca))
	noSign := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "int"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature})
	assert.False(t, IsCA(noSign), "ku_reject: keyUsage without keyCertSign is no CA even with CA:TRUE")
	leaf := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}, BasicConstraintsValid: true})
	assert.False(t, IsCA(leaf), "basicConstraints CA:FALSE")
	kuOnly := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "ku"}, KeyUsage: x509.KeyUsageCertSign})
	assert.True(t, IsCA(kuOnly), "no basicConstraints, keyCertSign: tolerated (check_ca returns 4)")
	v1 := *kuOnly
	v1.KeyUsage, v1.Version = 0, 1
	assert.True(t, IsCA(&v1), "a version 1 self-issued certificate is a V1 root")
	v1.RawIssuer = []byte("other")
	assert.False(t, IsCA(&v1), "a version 1 certificate issued by another is not")
}
