package verdict_test

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// check_chain_extensions() ("X509_V_FLAG_X509_STRICT is implicit for intermediate CAs")
// and check_purpose_ssl_server(): checked with openssl verify -purpose sslserver, an
// intermediate with keyCertSign but no basicConstraints is "79 invalid CA certificate",
// and a leaf whose only extended key usage is anyExtendedKeyUsage is "26 unsuitable
// certificate purpose". Postfix defers in both cases.
func TestChainStrictIntermediateAndPurpose(t *testing.T) {
	root := pki.Must(t, pki.Spec{CN: []string{"Root"}, CA: true, Edit: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign }}, nil)
	inter := pki.Must(t, pki.Spec{CN: []string{"Inter"}, Edit: func(c *x509.Certificate) {
		c.BasicConstraintsValid, c.KeyUsage, c.ExtKeyUsage = false, x509.KeyUsageCertSign, nil
	}}, root)
	leaf := pki.Must(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}}, inter)
	r := verdict.VerifyChain([]*x509.Certificate{leaf.Cert, inter.Cert}, verdict.ChainOptions{Roots: []*x509.Certificate{root.Cert}})
	require.False(t, r.OK)
	assert.Equal(t, verdict.X509InvalidCA, r.Errors[0].Num)
	assert.Equal(t, 1, r.Errors[0].Depth)

	anyLeaf := pki.Must(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}, Edit: func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}}, root)
	r = verdict.VerifyChain([]*x509.Certificate{anyLeaf.Cert}, verdict.ChainOptions{Roots: []*x509.Certificate{root.Cert}})
	require.False(t, r.OK)
	assert.Equal(t, verdict.X509InvalidPurpose, r.Errors[0].Num)
}
