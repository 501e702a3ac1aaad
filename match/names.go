package match

import (
	"crypto/x509"
	"encoding/asn1"
	"net"
	"strconv"

	"github.com/postfixtls/postfixtls/internal/openssl"
)

// NameKind is the kind of a certificate identity.
type NameKind int

const (
	// DNSName is a dNSName subjectAltName.
	DNSName NameKind = iota
	// IPName is an iPAddress subjectAltName.
	IPName
	// CommonName is a commonName attribute of the subject DN.
	CommonName
)

// String names the kind the way explanations use it.
func (k NameKind) String() string {
	switch k {
	case DNSName:
		return "DNS SAN"
	case IPName:
		return "IP SAN"
	case CommonName:
		return "CN"
	}
	return "unknown"
}

// CertName is one identity found in a certificate.
type CertName struct {
	// Kind is where the name was found.
	Kind NameKind
	// Value is the name (IP addresses in their usual text form).
	Value string
	// Considered says whether Postfix compares this name with host-name references
	// (iPAddress SANs are considered for IP references only).
	Considered bool
	// Wildcard is set for a DNS name or CN that the matcher treats as a wildcard.
	Wildcard bool
	// Why explains a name that is not considered, or how it is used.
	Why string
}

// CertNames lists a certificate's identities and which of them Postfix uses.
type CertNames struct {
	// DNS, IP and CN list the dNSName SANs, iPAddress SANs and subject CNs, in order.
	DNS, IP, CN []CertName
	// UsesCN is set when the subject CN takes part in host-name matching.
	UsesCN bool
	// Note summarises the CN rule that applied, e.g. "CN ignored: the certificate has DNS SANs".
	Note string
	// Warnings are the warnings Postfix logs while extracting names (Legacy mode).
	Warnings []Warning
}

// All returns every name in the order DNS SANs, IP SANs, CNs.
func (n CertNames) All() []CertName {
	out := make([]CertName, 0, len(n.DNS)+len(n.IP)+len(n.CN))
	out = append(out, n.DNS...)
	out = append(out, n.IP...)
	return append(out, n.CN...)
}

var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// commonNames calls f for every CN attribute of the subject, in DER order; it stops when
// f returns true.
func commonNames(cert *x509.Certificate, f func(cn string) bool) {
	for _, atv := range cert.Subject.Names {
		if !atv.Type.Equal(oidCommonName) {
			continue
		}
		s, ok := atv.Value.(string)
		if !ok {
			continue
		}
		if f(s) {
			return
		}
	}
}

const (
	whyCNIgnored     = "CN ignored: the certificate has DNS SANs"
	whyCNFirstOnly   = "only the first CN is used before Postfix 3.6"
	whyIPSANOnlyIP   = "IP SANs are compared only with an IP-address reference"
	whyIPSANNeverLeg = "IP SANs are never compared before Postfix 3.6"
)

// Names lists the certificate's identities and says which ones Postfix compares, and why
// the others are not.
//
// OpenSSL mode: if there is at least one dNSName SAN, only DNS SANs count and every CN is
// ignored; otherwise every CN counts. iPAddress SANs serve only IP-address references.
// Legacy mode: DNS SANs with an embedded NUL or non-printable characters are skipped with
// Postfix's warning (but still suppress the CN); without any DNS SAN only the first CN
// counts; names that are not all-ASCII never match.
func Names(cert *x509.Certificate, opt Options) CertNames {
	var n CertNames
	if cert == nil {
		n.Note = "no certificate"
		return n
	}
	hasDNS := len(cert.DNSNames) > 0
	for _, d := range cert.DNSNames {
		cn := CertName{Kind: DNSName, Value: d, Considered: true}
		if opt.Mode == Legacy {
			v, w, ok := legacyDNSName(d)
			if !ok {
				cn.Considered = false
				cn.Why = "skipped: " + w.Text[len("tls_dns_name: {namaddr}: "):]
				n.Warnings = append(n.Warnings, w)
			} else if v == "" {
				cn.Considered = false
				cn.Why = "empty name"
			} else {
				cn.Wildcard = len(v) > 2 && v[0] == '*' && v[1] == '.'
			}
		} else {
			cn.Wildcard = openssl.ValidStar(d) >= 0
			if d == "" {
				cn.Considered = false
				cn.Why = "empty name"
			}
		}
		n.DNS = append(n.DNS, cn)
	}
	for _, ip := range cert.IPAddresses {
		cn := CertName{Kind: IPName, Value: net.IP(ip).String()}
		if opt.Mode == OpenSSL && opt.IPLiterals == IPAddressChecks {
			cn.Considered = true
			cn.Why = whyIPSANOnlyIP
		} else {
			cn.Why = whyIPSANNeverLeg
			if opt.Mode == OpenSSL {
				cn.Why = "IP SANs are not compared when IP literals are treated as DNS names"
			}
		}
		n.IP = append(n.IP, cn)
	}
	first := true
	commonNames(cert, func(s string) bool {
		cn := CertName{Kind: CommonName, Value: s}
		switch {
		case hasDNS:
			cn.Why = whyCNIgnored
		case opt.Mode == Legacy && !first:
			cn.Why = whyCNFirstOnly
		case opt.Mode == Legacy:
			v, w, ok := legacyCN(s)
			if !ok {
				cn.Why = "skipped: " + w.Text[len("tls_text_name: {namaddr}: "):]
				n.Warnings = append(n.Warnings, w)
			} else if v == "" {
				cn.Why = "empty name"
			} else {
				cn.Considered = true
				n.UsesCN = true
				cn.Wildcard = len(v) > 2 && v[0] == '*' && v[1] == '.'
				if !isASCII(v) {
					cn.Why = "names that are not all-ASCII never match before Postfix 3.6"
				}
			}
		default:
			if s == "" {
				cn.Why = "empty name"
			} else {
				cn.Considered = true
				n.UsesCN = true
				cn.Wildcard = openssl.ValidStar(s) >= 0
			}
		}
		first = false
		n.CN = append(n.CN, cn)
		return false
	})
	switch {
	case hasDNS && len(n.CN) > 0:
		n.Note = whyCNIgnored
	case hasDNS:
		n.Note = "DNS SANs are used"
	case len(n.CN) == 0:
		n.Note = "the certificate has neither DNS SANs nor a CN: no host name can match"
	case opt.Mode == Legacy:
		n.Note = "no DNS SANs: the first CN is used"
	default:
		n.Note = "no DNS SANs: every CN is used"
	}
	return n
}

// legacyDNSName is Postfix <= 3.5 tls_dns_name(): trailing NULs are trimmed, an internal
// NUL or a non-printable character makes the SAN unusable.
func legacyDNSName(d string) (string, Warning, bool) {
	v := trimNULs(d)
	if i := indexNUL(v); i >= 0 {
		return "", warnf("tls_dns_name: ", namaddrToken, ": internal NUL in subjectAltName"), false
	}
	if v != "" && !allPrint(v) {
		return "", warnf("tls_dns_name: ", namaddrToken, ": non-printable characters in subjectAltName: ",
			truncBytes(printable(v), 100)), false
	}
	return v, Warning{}, true
}

// legacyCN is Postfix <= 3.5 tls_text_name() for the subject CN.
func legacyCN(s string) (string, Warning, bool) {
	v := trimNULs(s)
	if len(v) >= 256 {
		return "", warnf("tls_text_name: ", namaddrToken, ": peer subject CN too long: ", strconv.Itoa(len(v))), false
	}
	if indexNUL(v) >= 0 {
		return "", warnf("tls_text_name: ", namaddrToken, ": NULL character in peer subject CN"), false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x80 && (c < 0x20 || c == 0x7f) {
			return "", warnf("tls_text_name: ", namaddrToken, ": non-printable content in peer subject CN"), false
		}
	}
	return v, Warning{}, true
}

func trimNULs(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// allPrint is Postfix's allprint(): ASCII isprint() only.
func allPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// printable is Postfix's printable(s, '?').
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
