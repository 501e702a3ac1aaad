package openssl

import (
	"bytes"
	"crypto/x509"
)

// Issued is X509_check_issued()'s name and key-identifier test: child names issuer as its
// issuer, and the authority key identifier, when both sides have one, matches. Signatures
// are checked later, as OpenSSL does.
func Issued(child, issuer *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, issuer.RawSubject) {
		return false
	}
	if len(child.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(child.AuthorityKeyId, issuer.SubjectKeyId) {
		return false
	}
	return true
}

// SelfIssued reports whether c is issued by itself (OpenSSL's EXFLAG_SI).
func SelfIssued(c *x509.Certificate) bool { return Issued(c, c) }

// IsCA is X509_check_ca() (crypto/x509/v3_purp.c, check_ca) as check_chain_extensions()
// applies it to every certificate above the leaf:
//   - a keyUsage extension without keyCertSign rejects the certificate (ku_reject), even
//     when basicConstraints says CA:TRUE;
//   - otherwise basicConstraints decides when present;
//   - without basicConstraints, a version 1 self-issued certificate (V1_ROOT) and a
//     certificate whose keyUsage has keyCertSign count as CAs.
//
// OpenSSL 3.0 reports a certificate that fails this as "invalid CA certificate" (79).
func IsCA(c *x509.Certificate) bool {
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return false
	}
	if c.BasicConstraintsValid {
		return c.IsCA
	}
	return (c.Version == 1 && SelfIssued(c)) || c.KeyUsage&x509.KeyUsageCertSign != 0
}
