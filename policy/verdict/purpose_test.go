package verdict_test

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

	"github.com/postfixtls/postfixtls/policy/verdict"
)

func issue(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c, k
}

// check_chain_extensions() ("X509_V_FLAG_X509_STRICT is implicit for intermediate CAs")
// and check_purpose_ssl_server(): checked with openssl verify -purpose sslserver, an
// intermediate with keyCertSign but no basicConstraints is "79 invalid CA certificate",
// and a leaf whose only extended key usage is anyExtendedKeyUsage is "26 unsuitable
// certificate purpose". Postfix defers in both cases.
func TestChainStrictIntermediateAndPurpose(t *testing.T) {
	root, rootKey := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Root"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	inter, interKey := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Inter"}, KeyUsage: x509.KeyUsageCertSign}, root, rootKey)
	leaf, _ := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "mx.example.test"}, DNSNames: []string{"mx.example.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, inter, interKey)
	r := verdict.VerifyChain([]*x509.Certificate{leaf, inter}, verdict.ChainOptions{Roots: []*x509.Certificate{root}})
	require.False(t, r.OK)
	assert.Equal(t, verdict.X509InvalidCA, r.Errors[0].Num)
	assert.Equal(t, 1, r.Errors[0].Depth)

	anyLeaf, _ := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "mx.example.test"}, DNSNames: []string{"mx.example.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, root, rootKey)
	r = verdict.VerifyChain([]*x509.Certificate{anyLeaf}, verdict.ChainOptions{Roots: []*x509.Certificate{root}})
	require.False(t, r.OK)
	assert.Equal(t, verdict.X509InvalidPurpose, r.Errors[0].Num)
}
