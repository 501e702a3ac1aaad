package pki_test

import (
	"crypto/x509"
	"fmt"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// New makes a root and a leaf it signs; the leaf verifies against the root.
func ExampleNew() {
	root, _ := pki.New(pki.Spec{CN: []string{"Test Root"}, CA: true}, nil)
	leaf, _ := pki.New(pki.Spec{DNS: []string{"mx.example.com"}}, root)
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "mx.example.com"})
	fmt.Println(leaf.Cert.DNSNames, leaf.Cert.Issuer.CommonName, err == nil)
	// Output:
	// [mx.example.com] Test Root true
}
