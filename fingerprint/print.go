package fingerprint

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrNoCertificate is returned when PEM input holds no CERTIFICATE block.
var ErrNoCertificate = errors.New("fingerprint: no certificate found in PEM input")

// ParsePEM returns every certificate of the PEM input, in order.
func ParsePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out, fmt.Errorf("fingerprint: certificate %d: %w", len(out), err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// PostfixStack prints certificates the way posttls-finger's -P and -c -L certmatch
// chain dumps do (print_stack): for each certificate its depth and subject, its issuer,
// "cert digest=" and "pkey digest=" in the given digest, then the PEM.
//
//	 0 subject: /CN=mx.example.com
//	    issuer: /O=Example/CN=Example CA
//	   cert digest=AB:CD:...
//	   pkey digest=12:34:...
//	-----BEGIN CERTIFICATE-----
func PostfixStack(certs []*x509.Certificate, digest string) (string, error) {
	var s strings.Builder
	for i, c := range certs {
		f, err := Compute(c, digest)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&s, "%2d subject: %s\n", i, OneLine(c.RawSubject))
		fmt.Fprintf(&s, "    issuer: %s\n", OneLine(c.RawIssuer))
		fmt.Fprintf(&s, "   cert digest=%s\n", f.CertString())
		fmt.Fprintf(&s, "   pkey digest=%s\n", f.PublicKeyString())
		s.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return s.String(), nil
}

// PostfixLogLine is the loglevel >= 2 line of Postfix 3.6-3.8 for a peer certificate
// (without the "<namaddrport>: " prefix): "subject_CN=<cn>, issuer_CN=<cn>,
// fingerprint=<FP>, pkey_fingerprint=<FP>". Postfix 3.9+ writes "issuer=", "cert
// fingerprint=" and "pkey fingerprint=" instead (newStyle).
func PostfixLogLine(cert *x509.Certificate, digest string, newStyle bool) (string, error) {
	f, err := Compute(cert, digest)
	if err != nil {
		return "", err
	}
	subject := firstAttr(cert.Subject, oidCN)
	issuer := firstAttr(cert.Issuer, oidCN)
	if issuer == "" {
		issuer = firstAttr(cert.Issuer, oidO) // tls_issuer_CN falls back to the organization
	}
	if newStyle {
		return fmt.Sprintf("subject_CN=%s, issuer=%s, cert fingerprint=%s, pkey fingerprint=%s",
			subject, issuer, f.CertString(), f.PublicKeyString()), nil
	}
	return fmt.Sprintf("subject_CN=%s, issuer_CN=%s, fingerprint=%s, pkey_fingerprint=%s",
		subject, issuer, f.CertString(), f.PublicKeyString()), nil
}

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// firstAttr is the first attribute of the given type, as Postfix's tls_text_name() takes it.
func firstAttr(n pkix.Name, oid asn1.ObjectIdentifier) string {
	for _, atv := range n.Names {
		if atv.Type.Equal(oid) {
			if s, ok := atv.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// OpenSSLLine is what `openssl x509 -noout -fingerprint -<digest>` (OpenSSL 3) prints:
// "<digest as given> Fingerprint=AB:CD:...".
func OpenSSLLine(cert *x509.Certificate, digest string) (string, error) {
	f, err := Compute(cert, digest)
	if err != nil {
		return "", err
	}
	return digest + " Fingerprint=" + f.CertString(), nil
}

// PEMReport prints, for every certificate in the PEM input, the certificate and public-key
// fingerprints under every digest of Digests(), one line each, ready to paste into
// smtp_tls_fingerprint_cert_match or a policy match= attribute.
func PEMReport(data []byte) (string, error) {
	certs, err := ParsePEM(data)
	if err != nil {
		return "", err
	}
	var s strings.Builder
	for i, c := range certs {
		fmt.Fprintf(&s, "%2d subject: %s\n", i, OneLine(c.RawSubject))
		for _, f := range ComputeAll(c) {
			fmt.Fprintf(&s, "   %-6s cert=%s\n", f.Digest, f.CertString())
			fmt.Fprintf(&s, "   %-6s pkey=%s\n", f.Digest, f.PublicKeyString())
		}
	}
	return s.String(), nil
}

// shortNames are OpenSSL's short names for common DN attribute types.
func shortName(oid asn1.ObjectIdentifier) string {
	switch oid.String() {
	case "2.5.4.3":
		return "CN"
	case "2.5.4.6":
		return "C"
	case "2.5.4.7":
		return "L"
	case "2.5.4.8":
		return "ST"
	case "2.5.4.10":
		return "O"
	case "2.5.4.11":
		return "OU"
	case "2.5.4.5":
		return "serialNumber"
	case "2.5.4.9":
		return "street"
	case "2.5.4.17":
		return "postalCode"
	case "1.2.840.113549.1.9.1":
		return "emailAddress"
	case "0.9.2342.19200300.100.1.25":
		return "DC"
	case "0.9.2342.19200300.100.1.1":
		return "UID"
	}
	return oid.String()
}

// OneLine renders a DER distinguished name like OpenSSL's X509_NAME_oneline():
// "/C=DE/O=Example/CN=mx.example.com", bytes outside printable ASCII as \xHH.
func OneLine(rawName []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(rawName, &seq); err != nil {
		return "<invalid name>"
	}
	var s strings.Builder
	for _, rdn := range seq {
		for _, atv := range rdn {
			s.WriteString("/" + shortName(atv.Type) + "=")
			v := fmt.Sprint(atv.Value)
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < 0x20 || c >= 0x7f {
					fmt.Fprintf(&s, "\\x%02X", c)
				} else {
					s.WriteByte(c)
				}
			}
		}
	}
	if s.Len() == 0 {
		return "NO X509_NAME"
	}
	return s.String()
}
