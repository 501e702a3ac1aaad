package match

import (
	"bytes"
	"crypto/x509"
	"net"
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// Reasons used in Try.Why; findings may compare against them.
const (
	WhySameName          = "same name (ASCII case-insensitive)"
	WhyWildcardOneLabel  = "the wildcard covers exactly one label"
	WhyWildcardNeedLabel = "a wildcard needs one label in front of its domain; it does not match the domain itself"
	WhyWildcardChars     = "the label covered by a wildcard may hold only letters, digits and hyphens"
	WhyPartialWildcard   = "partial wildcards are compared literally (Postfix >= 3.6 disables them)"
	WhyShortWildcard     = "a wildcard needs at least two labels after it, so this name is compared literally"
	WhyLiteralStar       = "this '*' is not a valid wildcard, so the name is compared literally"
	WhySuffixNotItself   = "a .suffix pattern does not match the domain itself"
	WhySuffixEnds        = "ends in the suffix"
	WhySuffixNoEnd       = "does not end in the suffix"
	WhyTrailingDot       = "trailing dots are not ignored"
	WhyDifferent         = "different name"
	WhyCNIgnored         = whyCNIgnored
	WhyCNNotFirst        = whyCNFirstOnly
	WhyNonASCII          = "names that are not all-ASCII never match before Postfix 3.6"
	WhyIPSame            = "same IP address"
	WhyIPDifferent       = "different IP address"
	WhyNoIPSAN           = "the certificate has no iPAddress SAN; an IP reference is not compared with DNS names or CNs"
	WhyNoNames           = "the certificate has neither a DNS SAN nor a CN"
)

func hasStar(s string) bool { return strings.IndexByte(s, '*') >= 0 }

func hasSuffixFold(s, suf string) bool {
	return len(s) >= len(suf) && pfutil.StrcaseEq(s[len(s)-len(suf):], suf)
}

// whyOpenSSL explains one X509_check_host comparison.
func whyOpenSSL(pattern, ref string) (bool, string) {
	if openssl.HostMatch(pattern, ref) {
		switch {
		case len(ref) > 1 && ref[0] == '.':
			return true, WhySuffixEnds
		case openssl.ValidStar(pattern) >= 0 && !pfutil.StrcaseEq(pattern, ref):
			return true, "the wildcard matches one label"
		}
		return true, WhySameName
	}
	if pattern == "" {
		return false, "empty name"
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return false, "the certificate name contains a NUL"
	}
	if len(ref) > 1 && ref[0] == '.' {
		if pfutil.StrcaseEq(pattern, ref[1:]) {
			return false, WhySuffixNotItself
		}
		if pfutil.StrcaseEq(pattern+".", ref[1:]) || pfutil.StrcaseEq(pattern, ref[1:]+".") || hasSuffixFold(pattern, ref+".") {
			return false, WhyTrailingDot
		}
		return false, WhySuffixNoEnd
	}
	if star := openssl.ValidStar(pattern); star >= 0 {
		suffix := pattern[star+1:]
		switch {
		case hasSuffixFold(ref, suffix) && len(ref) > len(suffix):
			w := ref[:len(ref)-len(suffix)]
			if strings.IndexByte(w, '.') >= 0 {
				return false, WhyWildcardOneLabel
			}
			return false, WhyWildcardChars
		case pfutil.StrcaseEq(ref, suffix[1:]):
			return false, WhyWildcardNeedLabel
		case pfutil.StrcaseEq(ref, pattern+".") || pfutil.StrcaseEq(ref+".", pattern) || hasSuffixFold(ref, suffix+"."):
			return false, WhyTrailingDot
		}
		return false, WhyDifferent
	}
	if hasStar(pattern) && !pfutil.StrcaseEq(pattern, ref) {
		first := pattern
		if i := strings.IndexByte(pattern, '.'); i >= 0 {
			first = pattern[:i]
		}
		switch {
		case strings.IndexByte(first, '*') >= 0 && first != "*":
			return false, WhyPartialWildcard
		case first == "*" && strings.Count(pattern, ".") < 2:
			return false, WhyShortWildcard
		}
		return false, WhyLiteralStar
	}
	if pfutil.StrcaseEq(pattern, ref+".") || pfutil.StrcaseEq(pattern+".", ref) {
		return false, WhyTrailingDot
	}
	return false, WhyDifferent
}

// whyLegacy explains one match_servername comparison.
func whyLegacy(certid string, ref Reference, multi bool) (bool, string) {
	if !isASCII(certid) {
		return false, WhyNonASCII
	}
	sub := ref.Kind == Subdomain
	if legacyMatch(certid, ref.Name, sub, multi) {
		switch {
		case sub:
			return true, WhySuffixEnds
		case pfutil.StrcaseEq(certid, ref.Name):
			return true, WhySameName
		case multi:
			return true, "the wildcard matches one or more labels (tls_wildcard_matches_multiple_labels = yes)"
		}
		return true, "the wildcard matches one label"
	}
	if sub {
		if pfutil.StrcaseEq(certid, ref.Name[1:]) {
			return false, WhySuffixNotItself
		}
		return false, WhySuffixNoEnd
	}
	if len(certid) > 2 && certid[0] == '*' && certid[1] == '.' {
		suffix := certid[1:]
		if !multi && hasSuffixFold(ref.Name, suffix) && strings.IndexByte(ref.Name[:len(ref.Name)-len(suffix)], '.') >= 0 {
			return false, "the wildcard covers one label (tls_wildcard_matches_multiple_labels = no)"
		}
		if pfutil.StrcaseEq(ref.Name, suffix[1:]) {
			return false, WhyWildcardNeedLabel
		}
	}
	if hasStar(certid) && !(len(certid) > 2 && certid[0] == '*' && certid[1] == '.') {
		return false, WhyPartialWildcard
	}
	if pfutil.StrcaseEq(certid, ref.Name+".") || pfutil.StrcaseEq(certid+".", ref.Name) {
		return false, WhyTrailingDot
	}
	return false, WhyDifferent
}

// explain records every comparison that Check made or skipped, in order.
func explain(cert *x509.Certificate, refs *RefList, opt Options) []Try {
	var tries []Try
	hasDNS := len(cert.DNSNames) > 0
	for i, ref := range refs.Refs {
		if !ref.Installed {
			tries = append(tries, Try{Ref: ref.Name, RefIndex: i, Why: "not installed: " + ref.Why})
			continue
		}
		if opt.Mode == Legacy {
			tries = append(tries, explainLegacy(cert, ref, i, opt)...)
			continue
		}
		switch ref.Kind {
		case Empty:
			tries = append(tries, Try{Ref: ref.Name, RefIndex: i, Why: ref.Why})
			continue
		case IPAddress:
			if len(cert.IPAddresses) == 0 {
				tries = append(tries, Try{Ref: ref.Name, RefIndex: i, CertKind: IPName, Why: WhyNoIPSAN})
			}
			for _, ip := range cert.IPAddresses {
				t := Try{Ref: ref.Name, RefIndex: i, CertName: net.IP(ip).String(), CertKind: IPName, Why: WhyIPDifferent}
				if bytes.Equal(ip, ref.IP) {
					t.Matched, t.Why = true, WhyIPSame
				} else if len(ip) != len(ref.IP) {
					t.Why = "different address family (OpenSSL compares the raw " + strconv.Itoa(len(ref.IP)) + "-byte address)"
				}
				tries = append(tries, t)
			}
			continue
		}
		if hasDNS {
			for _, d := range cert.DNSNames {
				ok, why := whyOpenSSL(d, ref.Name)
				tries = append(tries, Try{Ref: ref.Name, RefIndex: i, CertName: d, CertKind: DNSName, Matched: ok, Why: why})
			}
		}
		nCN := 0
		commonNames(cert, func(cn string) bool {
			nCN++
			t := Try{Ref: ref.Name, RefIndex: i, CertName: cn, CertKind: CommonName}
			if hasDNS {
				t.Why = WhyCNIgnored
			} else {
				t.Matched, t.Why = whyOpenSSL(cn, ref.Name)
			}
			tries = append(tries, t)
			return false
		})
		if !hasDNS && nCN == 0 {
			tries = append(tries, Try{Ref: ref.Name, RefIndex: i, Why: WhyNoNames})
		}
	}
	return tries
}

func explainLegacy(cert *x509.Certificate, ref Reference, i int, opt Options) []Try {
	var tries []Try
	if len(cert.DNSNames) > 0 {
		for _, d := range cert.DNSNames {
			t := Try{Ref: ref.Name, RefIndex: i, CertName: d, CertKind: DNSName}
			v, w, ok := legacyDNSName(d)
			switch {
			case !ok:
				t.Why = "skipped: " + w.Text[len("tls_dns_name: {namaddr}: "):]
			case v == "":
				t.Why = "empty name"
			default:
				t.Matched, t.Why = whyLegacy(v, ref, opt.WildcardMultipleLabels)
			}
			tries = append(tries, t)
		}
	}
	first := true
	commonNames(cert, func(cn string) bool {
		t := Try{Ref: ref.Name, RefIndex: i, CertName: cn, CertKind: CommonName}
		switch {
		case len(cert.DNSNames) > 0:
			t.Why = WhyCNIgnored
		case !first:
			t.Why = WhyCNNotFirst
		default:
			v, w, ok := legacyCN(cn)
			switch {
			case !ok:
				t.Why = "skipped: " + w.Text[len("tls_text_name: {namaddr}: "):]
			case v == "":
				t.Why = "empty name"
			default:
				t.Matched, t.Why = whyLegacy(v, ref, opt.WildcardMultipleLabels)
			}
		}
		first = false
		tries = append(tries, t)
		return false
	})
	if len(tries) == 0 {
		tries = append(tries, Try{Ref: ref.Name, RefIndex: i, Why: WhyNoNames})
	}
	return tries
}

// notable reasons are worth a mention in a one-sentence summary.
func notable(t Try, opt Options) bool {
	switch t.Why {
	case WhyWildcardOneLabel, WhyWildcardNeedLabel, WhyWildcardChars, WhyPartialWildcard, WhyShortWildcard,
		WhySuffixNotItself, WhyTrailingDot, WhyNonASCII, WhyNoIPSAN,
		"the wildcard covers one label (tls_wildcard_matches_multiple_labels = no)":
		return true
	case WhyCNIgnored, WhyCNNotFirst:
		// Worth saying only when the CN would have matched.
		if opt.Mode == Legacy {
			return legacyMatch(t.CertName, t.Ref, len(t.Ref) > 1 && t.Ref[0] == '.', opt.WildcardMultipleLabels)
		}
		return openssl.HostMatch(t.CertName, t.Ref)
	}
	return false
}

// Summary says in one sentence whether the names matched and, if not, why.
func (r Result) Summary() string {
	if r.names == nil {
		if r.Error != "" {
			return "no certificate to match"
		}
		return ""
	}
	refs, cert := &r.refs, r.names
	if r.Matched {
		if r.MatchedRefIndex >= 0 {
			ref := refs.Refs[r.MatchedRefIndex]
			if ref.Kind == IPAddress {
				return "iPAddress SAN " + r.MatchedName + " equals the IP reference " + ref.Describe()
			}
			return "certificate name " + quote(r.MatchedName) + " matches " + ref.Describe()
		}
		return "no host name check was configured"
	}
	if r.MustFail {
		return "no reference name could be configured (Postfix logs \"could not configure peer name checks\"), so verification fails with " + ErrUnspecified
	}
	opt := Options{Mode: refs.Mode}
	var s strings.Builder
	if r.Error == ErrIPMismatch {
		s.WriteString("IP address mismatch: ")
	} else {
		s.WriteString("hostname mismatch: ")
	}
	var hostRefs, ipRefs []string
	for _, ref := range refs.Refs {
		if !ref.Installed || ref.Kind == Empty {
			continue
		}
		if ref.Kind == IPAddress {
			ipRefs = append(ipRefs, ref.Describe())
		} else {
			hostRefs = append(hostRefs, ref.Describe())
		}
	}
	if r.HostChecked && !r.HostOK {
		names := candidateNames(cert, refs.Mode)
		if names == "" {
			s.WriteString(WhyNoNames + ", so nothing can match " + orList(hostRefs))
		} else {
			s.WriteString("no certificate name (" + names + ") matches " + orList(hostRefs))
		}
	} else {
		s.WriteString("no iPAddress SAN of the certificate equals " + orList(ipRefs))
		if r.HostChecked {
			s.WriteString(" (the host-name check passed, but with OpenSSL 3 every configured check must pass)")
		}
	}
	for _, t := range r.Tries {
		if !t.Matched && t.CertName != "" && notable(t, opt) {
			s.WriteString("; " + t.CertName + " vs " + quote(t.Ref) + ": " + t.Why)
			break
		}
	}
	return s.String()
}

func candidateNames(cert *x509.Certificate, mode Mode) string {
	if len(cert.DNSNames) > 0 {
		return "DNS SANs: " + strings.Join(cert.DNSNames, ", ")
	}
	var cns []string
	commonNames(cert, func(cn string) bool {
		cns = append(cns, cn)
		return mode == Legacy
	})
	if len(cns) == 0 {
		return ""
	}
	if mode == Legacy {
		return "first CN: " + cns[0] + ", no DNS SAN"
	}
	return "CNs: " + strings.Join(cns, ", ") + ", no DNS SAN"
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return "any reference"
	case 1:
		return items[0]
	case 2:
		return items[0] + " or " + items[1]
	}
	return "any of " + strings.Join(items, ", ")
}
