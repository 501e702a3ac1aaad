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
// applies it to a certificate above the leaf; top says whether it is the last certificate of
// the chain OpenSSL built:
//   - a keyUsage extension without keyCertSign rejects the certificate (ku_reject), even
//     when basicConstraints says CA:TRUE;
//   - otherwise basicConstraints decides when present;
//   - without basicConstraints, a version 1 self-issued certificate (V1_ROOT) and a
//     certificate whose keyUsage has keyCertSign count as CAs only at the top of the chain:
//     "X509_V_FLAG_X509_STRICT is implicit for intermediate CAs", so every certificate
//     below the top needs basicConstraints CA:TRUE.
//
// OpenSSL 3.0 reports a certificate that fails this as "invalid CA certificate" (79).
func IsCA(c *x509.Certificate, top bool) bool {
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return false
	}
	if c.BasicConstraintsValid {
		return c.IsCA
	}
	return top && ((c.Version == 1 && SelfIssued(c)) || c.KeyUsage&x509.KeyUsageCertSign != 0)
}

// ServerPurpose is X509_check_purpose() for the "ssl_server" purpose Postfix's client
// verifies with (check_purpose_ssl_server, v3_purp.c), for a leaf (ca false) or a CA
// certificate above it (ca true; its CA status is IsCA's to judge):
//   - xku_reject: an extendedKeyUsage extension must list serverAuth, or Netscape or
//     Microsoft server gated crypto; anyExtendedKeyUsage is not enough;
//   - for the leaf, ku_reject: a keyUsage extension must allow digitalSignature,
//     keyEncipherment or keyAgreement.
//
// OpenSSL 3.0 reports a certificate that fails this as "unsuitable certificate purpose" (26).
func ServerPurpose(c *x509.Certificate, ca bool) bool {
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		ok := false
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageNetscapeServerGatedCrypto || u == x509.ExtKeyUsageMicrosoftServerGatedCrypto {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if !ca && c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
		return false
	}
	return true
}
