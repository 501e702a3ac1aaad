package pki

import (
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLeafNamesAndChain(t *testing.T) {
	h := MustHierarchy(t)
	leaf := h.Leaf(t, Spec{CN: []string{"first.example", "second.example"}})
	require.Empty(t, leaf.Cert.DNSNames, "no SAN extension requested")
	var cns []string
	for _, a := range leaf.Cert.Subject.Names {
		if a.Type.Equal(oidCN) {
			cns = append(cns, a.Value.(string))
		}
	}
	require.Equal(t, []string{"first.example", "second.example"}, cns)

	roots := x509.NewCertPool()
	roots.AddCert(h.Root.Cert)
	inter := x509.NewCertPool()
	inter.AddCert(h.Inter.Cert)
	_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	require.NoError(t, err)
}

func TestSANsDatesAndSelfSigned(t *testing.T) {
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Must(t, Spec{DNS: []string{"*.example.org"}, IPs: []net.IP{net.ParseIP("127.0.1.10")},
		NotBefore: past, NotAfter: past.AddDate(1, 0, 0), Key: RSA2048}, nil)
	require.Equal(t, []string{"*.example.org"}, c.Cert.DNSNames)
	require.True(t, c.Cert.IPAddresses[0].Equal(net.ParseIP("127.0.1.10")))
	require.Equal(t, c.Cert.RawIssuer, c.Cert.RawSubject)
	require.NotEmpty(t, c.KeyPEM())
	require.Contains(t, string(ChainPEM(c, c)), "BEGIN CERTIFICATE")
}
