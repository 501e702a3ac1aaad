package match

import (
	"bytes"
	"crypto/x509"
	"net"
	"strings"

	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// OpenSSL verification errors that name checks produce, as Postfix logs them after
// "server certificate verification failed for <namaddrport>: ".
const (
	ErrHostnameMismatch = "num=62:hostname mismatch"
	ErrIPMismatch       = "num=64:IP address mismatch"
	ErrUnspecified      = "num=1:unspecified certificate verification error"
)

// Try is one comparison of a reference name with a certificate name.
type Try struct {
	// Ref is the reference name (as installed) and RefIndex its index in RefList.Refs.
	Ref      string
	RefIndex int // index of Ref in RefList.Refs
	// CertName is the certificate name and CertKind where it was found.
	CertName string
	CertKind NameKind // DNS SAN, IP SAN or CN
	// Matched is the comparison's outcome.
	Matched bool
	// Why says why it matched or not, in words a finding can quote.
	Why string
}

// Result is the outcome of matching a certificate against a reference list.
type Result struct {
	// Matched is true when Postfix would accept the certificate's names.
	Matched bool
	// MatchedName is the certificate name that matched (OpenSSL's peername) and MatchedRef
	// the reference name it matched; MatchedRefIndex indexes RefList.Refs (-1 if none).
	MatchedName     string
	MatchedRef      string
	MatchedRefIndex int
	// HostChecked/HostOK: host-name references were installed / one of them matched.
	HostChecked, HostOK bool
	// IPChecked/IPOK: an IP-address reference was installed / an iPAddress SAN equals it.
	IPChecked, IPOK bool
	// MustFail repeats RefList.MustFail: no name could be configured.
	MustFail bool
	// Error is the OpenSSL verification error Postfix >= 3.6 logs for the name check
	// (ErrHostnameMismatch, ErrIPMismatch, ErrUnspecified), empty on success and in Legacy
	// mode (Postfix <= 3.5 logs no detail line for a name mismatch).
	Error string
	// Tries lists the comparisons made (filled on a mismatch, or always with Options.Trace).
	Tries []Try

	refs  RefList
	names *x509.Certificate
}

// Check matches the certificate's names against the reference list the way the chosen
// Postfix version does. Build refs with References using the same Options. In OpenSSL mode
// a list with no installed name never matches (Postfix's must_fail, ErrUnspecified).
//
// The success path for ASCII names does not allocate (without Options.Trace).
func Check(cert *x509.Certificate, refs RefList, opt Options) Result {
	if opt.Mode == OpenSSL && !refs.MustFail && !anyInstalled(refs.Refs) {
		// No name reached OpenSSL: Postfix's must_fail, whoever built the list.
		refs.MustFail = true
	}
	r := Result{MatchedRefIndex: -1, MustFail: refs.MustFail}
	if cert == nil {
		r.Error = ErrUnspecified
		return r
	}
	if opt.Mode == Legacy {
		r.HostChecked = true
		r.Matched = legacyCheck(cert, &refs, opt, &r)
		r.HostOK = r.Matched
	} else {
		opensslCheck(cert, &refs, opt, &r)
	}
	if !r.Matched || opt.Trace {
		r.Tries = explain(cert, &refs, opt)
	}
	r.refs = refs
	r.names = cert
	return r
}

func anyInstalled(refs []Reference) bool {
	for i := range refs {
		if refs[i].Installed {
			return true
		}
	}
	return false
}

func opensslCheck(cert *x509.Certificate, refs *RefList, opt Options, r *Result) {
	hasDNS := len(cert.DNSNames) > 0
	var stars starCache
	for i := range refs.Refs {
		ref := &refs.Refs[i]
		if !ref.Installed {
			continue
		}
		switch ref.Kind {
		case IPAddress:
			r.IPChecked = true
			for _, ip := range cert.IPAddresses {
				if bytes.Equal(ip, ref.IP) {
					r.IPOK = true
					break
				}
			}
			continue
		case Empty:
			continue
		}
		r.HostChecked = true
		if r.HostOK {
			continue
		}
		if hasDNS {
			if !stars.done {
				stars.compute(cert.DNSNames)
			}
			if j := stars.first(cert.DNSNames, ref.Name); j >= 0 {
				r.HostOK, r.MatchedName, r.MatchedRef, r.MatchedRefIndex = true, cert.DNSNames[j], ref.Name, i
			}
		} else {
			commonNames(cert, func(cn string) bool {
				if openssl.HostMatch(cn, ref.Name) {
					r.HostOK, r.MatchedName, r.MatchedRef, r.MatchedRefIndex = true, cn, ref.Name, i
					return true
				}
				return false
			})
		}
	}
	switch {
	case refs.MustFail:
		r.Error = ErrUnspecified
	case r.HostChecked && !r.HostOK:
		r.Error = ErrHostnameMismatch
	case r.IPChecked && !r.IPOK:
		r.Error = ErrIPMismatch
	}
	r.Matched = r.Error == ""
	if r.Matched && r.MatchedRefIndex < 0 && r.IPChecked {
		for i := range refs.Refs {
			if refs.Refs[i].Installed && refs.Refs[i].Kind == IPAddress {
				r.MatchedRef, r.MatchedRefIndex = refs.Refs[i].Name, i
				for _, ip := range cert.IPAddresses {
					if bytes.Equal(ip, refs.Refs[i].IP) {
						r.MatchedName = net.IP(ip).String()
					}
				}
			}
		}
	}
}

// starCache remembers, for the first 256 DNS SANs, which are valid wildcards, so that
// valid_star() runs once per name rather than once per (name, reference) pair.
type starCache struct {
	done  bool
	known [4]uint64 // bit set: validity computed
	valid [4]uint64 // bit set: valid wildcard
}

func (c *starCache) compute(names []string) {
	c.done = true
	for j, d := range names {
		if j >= 256 {
			break
		}
		c.known[j/64] |= 1 << (j % 64)
		if len(d) > 0 && d[0] == '*' && openssl.ValidStar(d) == 0 {
			c.valid[j/64] |= 1 << (j % 64)
		}
	}
}

// match is opensslHostMatch using the cached wildcard validity of name j.
func (c *starCache) match(j int, pattern, ref string) bool {
	if j >= 256 || c.known[j/64]&(1<<(j%64)) == 0 || (len(ref) > 1 && ref[0] == '.') {
		return openssl.HostMatch(pattern, ref)
	}
	if c.valid[j/64]&(1<<(j%64)) != 0 {
		return openssl.WildcardMatch("", pattern[1:], ref)
	}
	return len(pattern) > 0 && openssl.EqualNoCase(pattern, ref)
}

// first returns the index of the first name that matches ref, or -1: the hot loop of
// Check, with the cheap length tests inline and comparisons run from the end (names
// usually differ in their last labels).
func (c *starCache) first(names []string, ref string) int {
	sub := len(ref) > 1 && ref[0] == '.'
	for j, p := range names {
		if j >= 256 {
			if openssl.HostMatch(p, ref) {
				return j
			}
			continue
		}
		switch {
		case len(p) == 0:
			continue
		case sub:
			if len(p) < len(ref) || !equalFoldFromEnd(p[len(p)-len(ref):], ref) {
				continue
			}
		case c.valid[j/64]&(1<<(j%64)) != 0:
			if len(ref) <= len(p)-1 || !equalFoldFromEnd(ref[len(ref)-len(p)+1:], p[1:]) {
				continue
			}
		default:
			if len(p) != len(ref) || !equalFoldFromEnd(p, ref) {
				continue
			}
		}
		if c.match(j, p, ref) { // the exact rules (NULs, wildcard label characters)
			return j
		}
	}
	return -1
}

// equalFoldFromEnd is equalFoldASCII for strings of equal length, comparing from the end.
func equalFoldFromEnd(a, b string) bool {
	for i := len(a) - 1; i >= 0; i-- {
		if pfutil.LowerByte(a[i]) != pfutil.LowerByte(b[i]) {
			return false
		}
	}
	return true
}

// legacyCheck is Postfix 2.11-3.5: every usable DNS SAN in turn against every reference
// (match_servername); without any DNS SAN, the first CN.
func legacyCheck(cert *x509.Certificate, refs *RefList, opt Options, r *Result) bool {
	if len(cert.DNSNames) > 0 {
		for _, d := range cert.DNSNames {
			v := d
			if !allPrint(d) { // fast path: printable ASCII needs no cleaning
				var ok bool
				if v, _, ok = legacyDNSName(d); !ok {
					continue
				}
			}
			if v == "" {
				continue
			}
			if i := legacyMatchAny(v, refs, opt); i >= 0 {
				r.MatchedName, r.MatchedRef, r.MatchedRefIndex = d, refs.Refs[i].Name, i
				return true
			}
		}
		return false
	}
	matched := false
	commonNames(cert, func(cn string) bool {
		v, _, ok := legacyCN(cn)
		if ok && v != "" {
			if i := legacyMatchAny(v, refs, opt); i >= 0 {
				r.MatchedName, r.MatchedRef, r.MatchedRefIndex = cn, refs.Refs[i].Name, i
				matched = true
			}
		}
		return true // first CN only
	})
	return matched
}

func legacyMatchAny(certid string, refs *RefList, opt Options) int {
	if !isASCII(certid) {
		return -1
	}
	wild := len(certid) > 2 && certid[0] == '*' && certid[1] == '.'
	for i := range refs.Refs {
		ref := &refs.Refs[i]
		// Cheap rejections first; legacyMatch has the full rules.
		switch {
		case ref.Kind == Subdomain:
			if len(certid) <= len(ref.Name) || !equalFoldFromEnd(certid[len(certid)-len(ref.Name)+1:], ref.Name[1:]) {
				continue
			}
		case !wild:
			if len(certid) != len(ref.Name) || !equalFoldFromEnd(certid, ref.Name) {
				continue
			}
		}
		if legacyMatch(certid, ref.Name, ref.Kind == Subdomain, opt.WildcardMultipleLabels) {
			return i
		}
	}
	return -1
}

// legacyMatch is match_servername() for one reference; for a subdomain reference, ref
// includes its leading dot.
func legacyMatch(certid, ref string, sub, multi bool) bool {
	if sub {
		domain := ref[1:]
		idlen, domlen := len(certid), len(domain)
		return idlen > domlen+1 && certid[idlen-domlen-1] == '.' &&
			pfutil.StrcaseEq(certid[idlen-domlen:], domain)
	}
	if pfutil.StrcaseEq(certid, ref) {
		return true
	}
	if len(certid) > 2 && certid[0] == '*' && certid[1] == '.' {
		dot := strings.IndexByte(ref, '.')
		if dot < 0 {
			return false
		}
		parent := ref[dot:]
		id := certid[1:]
		if len(id) > len(parent) {
			return false
		}
		if multi {
			return pfutil.StrcaseEq(parent[len(parent)-len(id):], id)
		}
		return pfutil.StrcaseEq(parent, id)
	}
	return false
}
