// Package pki makes throw-away X.509 certificates for tests: roots, intermediates and leaves
// with exactly the names, dates and key types a test needs (several CNs, no SAN extension,
// literal "*" names, IP SANs, expired or not-yet-valid certificates, self-signed leaves).
//
// Nothing here is for production use: keys are generated fresh, in memory, for each call.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType int

const (
	// ECDSAP256 is an ECDSA key on P-256 (the default, fast to make).
	ECDSAP256 KeyType = iota
	// RSA2048 is a 2048-bit RSA key.
	RSA2048
)

// Spec describes one certificate to make. The zero Spec is a leaf with no names, valid from one
// hour ago for one year, with a P-256 key.
type Spec struct {
	// CN lists subject commonName attributes, in order. Empty: no CN at all.
	CN []string
	// DNS lists dNSName subjectAltNames. With DNS and IPs both empty there is no SAN extension.
	DNS []string
	// IPs lists iPAddress subjectAltNames.
	IPs []net.IP
	// Org is an optional organizationName, handy to make issuer DNs distinct.
	Org string
	// NotBefore and NotAfter bound the validity; zero values mean now-1h and now+365d.
	NotBefore, NotAfter time.Time
	// CA makes a CA certificate (basicConstraints cA=TRUE, keyCertSign).
	CA bool
	// Key picks the key algorithm.
	Key KeyType
	// Signer, when set, is the certificate's key instead of a new one of type Key: with the
	// same subject it makes another copy of a CA, such as a cross-signed one.
	Signer crypto.Signer
	// Edit, when set, changes the template last, before it is signed: for extensions the
	// fields above do not cover (no basicConstraints, other key or extended key usages).
	Edit func(*x509.Certificate)
}

// Cert is a generated certificate with its private key.
type Cert struct {
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// DER is the certificate's DER encoding.
	DER []byte
	// Key is the private key.
	Key crypto.Signer
}

var oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}

// New makes a certificate from spec, signed by issuer, or self-signed when issuer is nil.
func New(spec Spec, issuer *Cert) (*Cert, error) {
	key := spec.Signer
	if key == nil {
		var err error
		if key, err = newKey(spec.Key); err != nil {
			return nil, err
		}
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	nb, na := spec.NotBefore, spec.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(365 * 24 * time.Hour)
	}
	subj := pkix.Name{}
	if spec.Org != "" {
		subj.Organization = []string{spec.Org}
	}
	for _, cn := range spec.CN {
		subj.ExtraNames = append(subj.ExtraNames, pkix.AttributeTypeAndValue{Type: oidCN, Value: cn})
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subj,
		NotBefore:             nb,
		NotAfter:              na,
		DNSNames:              spec.DNS,
		IPAddresses:           spec.IPs,
		BasicConstraintsValid: true,
	}
	if spec.CA {
		tmpl.IsCA = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if spec.Edit != nil {
		spec.Edit(tmpl)
	}
	parent, signer := tmpl, crypto.Signer(key)
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("pki: create certificate %v: %w", spec.CN, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse certificate: %w", err)
	}
	return &Cert{Cert: c, DER: der, Key: key}, nil
}

// Must is New for tests: it fails the test on error.
func Must(t testing.TB, spec Spec, issuer *Cert) *Cert {
	t.Helper()
	c, err := New(spec, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKey(k KeyType) (crypto.Signer, error) {
	switch k {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, errors.New("pki: unknown key type")
}

// PEM returns the certificate in PEM form.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})
}

// KeyPEM returns the private key in PKCS#8 PEM form.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		// Only keys made by this package are stored, and both kinds marshal.
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// SPKI returns the DER SubjectPublicKeyInfo of the certificate's key.
func (c *Cert) SPKI() []byte { return c.Cert.RawSubjectPublicKeyInfo }

// ChainPEM concatenates the PEM forms of certs, in order.
func ChainPEM(certs ...*Cert) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c.PEM()...)
	}
	return out
}

// TLSCertificate returns a tls.Certificate that presents leaf followed by chain, as a server
// would send it.
func TLSCertificate(leaf *Cert, chain ...*Cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.DER}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.DER)
	}
	return tc
}

// Hierarchy is the usual test PKI: a root, an intermediate under it, and an unrelated root.
type Hierarchy struct {
	Root, Inter, Other *Cert
}

// NewHierarchy makes a root "Test Root CA", an intermediate "Test Intermediate CA" and an
// unrelated "Other Root CA".
func NewHierarchy() (*Hierarchy, error) {
	root, err := New(Spec{CN: []string{"Test Root CA"}, Org: "postfixtls tests", CA: true,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour)}, nil)
	if err != nil {
		return nil, err
	}
	inter, err := New(Spec{CN: []string{"Test Intermediate CA"}, Org: "postfixtls tests", CA: true,
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour)}, root)
	if err != nil {
		return nil, err
	}
	other, err := New(Spec{CN: []string{"Other Root CA"}, Org: "elsewhere", CA: true,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour)}, nil)
	if err != nil {
		return nil, err
	}
	return &Hierarchy{Root: root, Inter: inter, Other: other}, nil
}

// MustHierarchy is NewHierarchy for tests.
func MustHierarchy(t testing.TB) *Hierarchy {
	t.Helper()
	h, err := NewHierarchy()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Leaf issues a leaf from the intermediate with the given spec.
func (h *Hierarchy) Leaf(t testing.TB, spec Spec) *Cert {
	t.Helper()
	return Must(t, spec, h.Inter)
}
