package openssl

import (
	"fmt"
	"strconv"
)

// Errno is an OpenSSL X509_V_ERR_* verification error number (OpenSSL 3.0 numbering).
type Errno int

// The verification errors this module reports. The numbers are OpenSSL 3.0's
// (include/openssl/x509_vfy.h).
const (
	Unspecified            Errno = 1
	UnableToGetIssuer      Errno = 2
	SignatureFailure       Errno = 7
	NotYetValid            Errno = 9
	Expired                Errno = 10
	DepthZeroSelfSigned    Errno = 18
	SelfSignedInChain      Errno = 19
	UnableToGetIssuerLocal Errno = 20
	UnableToVerifyLeaf     Errno = 21
	ChainTooLong           Errno = 22
	PathLengthExceeded     Errno = 25
	InvalidPurpose         Errno = 26
	KeyUsageNoCertSign     Errno = 32
	HostnameMismatch       Errno = 62
	IPMismatch             Errno = 64
	DANENoMatch            Errno = 65
	InvalidCA              Errno = 79 // 24 in OpenSSL 1.1.1
	// EmptyChain is not an OpenSSL error: the server presented no certificate at all
	// (a TLS server always sends one, or the handshake fails).
	EmptyChain Errno = 1000
)

// texts are X509_verify_cert_error_string()'s texts in OpenSSL 3.0 (crypto/x509/x509_txt.c).
var texts = map[Errno]string{
	Unspecified:            "unspecified certificate verification error",
	UnableToGetIssuer:      "unable to get issuer certificate",
	SignatureFailure:       "certificate signature failure",
	NotYetValid:            "certificate is not yet valid",
	Expired:                "certificate has expired",
	DepthZeroSelfSigned:    "self-signed certificate",
	SelfSignedInChain:      "self-signed certificate in certificate chain",
	UnableToGetIssuerLocal: "unable to get local issuer certificate",
	UnableToVerifyLeaf:     "unable to verify the first certificate",
	ChainTooLong:           "certificate chain too long",
	PathLengthExceeded:     "path length constraint exceeded",
	InvalidPurpose:         "unsuitable certificate purpose",
	KeyUsageNoCertSign:     "key usage does not include certificate signing",
	HostnameMismatch:       "hostname mismatch",
	IPMismatch:             "IP address mismatch",
	DANENoMatch:            "no matching DANE TLSA records",
	InvalidCA:              "invalid CA certificate",
	EmptyChain:             "no certificate presented",
}

// Text is OpenSSL's X509_verify_cert_error_string() text for n, or "error number N" for a
// number this table does not know (as OpenSSL prints unknown numbers).
func (n Errno) Text() string {
	if t, ok := texts[n]; ok {
		return t
	}
	return "error number " + strconv.Itoa(int(n))
}

// String returns the text, so that an Errno prints as OpenSSL names it.
func (n Errno) String() string { return n.Text() }

// LogLine renders the warning Postfix's tls_log_verify_error() (tls_verify.c, 3.6 and
// later wording) logs for error n raised at chain depth depth, for the server
// "host[addr]:port". issuer is the issuer DN in OpenSSL's one-line form, used by the
// "untrusted issuer" line.
func (n Errno) LogLine(depth int, issuer, namaddrport string) string {
	purpose := "server"
	if depth > 0 {
		purpose = "CA"
	}
	switch n {
	case DepthZeroSelfSigned:
		return "certificate verification failed for " + namaddrport + ": self-signed certificate"
	case UnableToGetIssuerLocal, SelfSignedInChain:
		return "certificate verification failed for " + namaddrport + ": untrusted issuer " + issuer
	case NotYetValid:
		return purpose + " certificate verification failed for " + namaddrport + ": certificate not yet valid"
	case Expired:
		return purpose + " certificate verification failed for " + namaddrport + ": certificate has expired"
	case InvalidPurpose:
		return "certificate verification failed for " + namaddrport + ": not designated for use as a " + purpose + " certificate"
	case ChainTooLong:
		return fmt.Sprintf("certificate verification failed for %s: certificate chain longer than limit(%d)", namaddrport, depth-1)
	case EmptyChain:
		return purpose + " certificate verification failed for " + namaddrport + ": no certificate presented"
	}
	return fmt.Sprintf("%s certificate verification failed for %s: num=%d:%s", purpose, namaddrport, int(n), n.Text())
}
