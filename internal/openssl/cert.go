package openssl

import (
	"bytes"
	"crypto/x509"
	"time"
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

// FindIssuer is find_issuer() of OpenSSL's chain building: the candidates of pools, searched
// in order as one list, that Issued says issued child and accept allows; the first one valid
// at now wins, else the one that expires last (nil when there is none). OpenSSL 1.1.1m and
// 3.0.1 and later put the certificates of DANE "2 0 0" records before the peer's.
func FindIssuer(child *x509.Certificate, now time.Time, accept func(*x509.Certificate) bool, pools ...[]*x509.Certificate) *x509.Certificate {
	var best *x509.Certificate
	for _, pool := range pools {
		for _, c := range pool {
			if c == nil || !Issued(child, c) || (accept != nil && !accept(c)) {
				continue
			}
			if !now.Before(c.NotBefore) && !now.After(c.NotAfter) {
				return c
			}
			if best == nil || c.NotAfter.After(best.NotAfter) {
				best = c
			}
		}
	}
	return best
}
