package match

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Strategy is where a reference name came from in the match list.
type Strategy int

const (
	// Literal is a list item that is neither a keyword nor a ".suffix": a host name
	// compared exactly (wildcards in the certificate honoured).
	Literal Strategy = iota
	// Nexthop is the keyword "nexthop": the nexthop domain.
	Nexthop
	// DotNexthop is the keyword "dot-nexthop": any subdomain of the nexthop domain.
	DotNexthop
	// Hostname is the keyword "hostname": the name of the server connected to.
	Hostname
	// Suffix is a ".suffix" item (or one starting with an IDNA dot variant): any subdomain.
	Suffix
)

// String returns the strategy as Postfix spells the keyword ("literal" and "suffix" for
// the two non-keywords).
func (s Strategy) String() string {
	switch s {
	case Literal:
		return "literal"
	case Nexthop:
		return "nexthop"
	case DotNexthop:
		return "dot-nexthop"
	case Hostname:
		return "hostname"
	case Suffix:
		return "suffix"
	}
	return "unknown"
}

// Kind is how a reference name is compared with the certificate.
type Kind int

const (
	// Host is an exact DNS name; wildcard certificate names are honoured.
	Host Kind = iota
	// Subdomain is a ".suffix" name: certificate names that end in it (plain suffix test).
	Subdomain
	// IPAddress is an IP literal checked against iPAddress SANs (OpenSSL 3 SSL_add1_host).
	IPAddress
	// Empty is an empty name: OpenSSL accepts it without installing any check.
	Empty
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Host:
		return "host"
	case Subdomain:
		return "subdomain"
	case IPAddress:
		return "ip-address"
	case Empty:
		return "empty"
	}
	return "unknown"
}

// Reference is one reference name built from one match-list item.
type Reference struct {
	// Item is the match-list item as configured ("nexthop", ".example.com", "bücher.example").
	Item string
	// Strategy is where the name came from.
	Strategy Strategy
	// Name is the name as Postfix installs it: A-label form, with the leading "." of a
	// subdomain reference. Compared ASCII-case-insensitively.
	Name string
	// Kind is how Name is compared.
	Kind Kind
	// Unicode is the name before A-label conversion, when a conversion happened.
	Unicode string
	// IP holds the address of an IPAddress reference (4 or 16 bytes as OpenSSL parses it).
	IP []byte
	// Installed is false when Postfix does not use the item (the name "." is ignored, a
	// second IP address or a name with a NUL cannot be loaded); Why then says why.
	Installed bool
	// Why explains an item that is not installed or converted.
	Why string
}

// Describe says in a few words what the reference accepts, for explanations.
func (r Reference) Describe() string {
	src := ""
	if r.Strategy != Literal && r.Strategy != Suffix {
		src = " (" + r.Strategy.String() + ")"
	} else if r.Item != r.Name {
		src = " (from " + quote(r.Item) + ")"
	}
	switch r.Kind {
	case Subdomain:
		return "any name ending in " + quote(r.Name) + src
	case IPAddress:
		return "IP address " + r.Name + src
	case Empty:
		return "the empty name" + src
	}
	return quote(r.Name) + src
}

// RefList is the list of reference names for one TLS session.
type RefList struct {
	// Refs holds one Reference per list item, in list order, installed or not.
	Refs []Reference
	// Mode is the matcher the list was built for.
	Mode Mode
	// MustFail is set in OpenSSL mode when no name could be installed: Postfix logs
	// "could not configure peer name checks" and forces verification to fail with
	// "num=1:unspecified certificate verification error".
	MustFail bool
}

// Names returns the installed reference names, in order.
func (l RefList) Names() []string {
	var out []string
	for _, r := range l.Refs {
		if r.Installed {
			out = append(out, r.Name)
		}
	}
	return out
}

// idnaProfile approximates ICU's uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII) as used by
// Postfix's midna_domain_to_ascii(): UTS-46 mapping, non-transitional, no STD3 rules, no
// bidi or CONTEXTJ rules, hyphen and length checks; the result must pass valid_hostname().
func idnaProfile() *idna.Profile {
	return idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false),
		idna.CheckHyphens(true), idna.CheckJoiners(false), idna.VerifyDNSLength(true))
}

// toASCII is midna_domain_to_ascii(): ok is false (with Postfix's warning) when the name
// cannot be converted, and the caller then keeps the original name.
func toASCII(p *idna.Profile, name string) (string, Warning, bool) {
	const pre = "midna_domain_to_ascii_create: Problem translating domain \""
	if !utf8.ValidString(cstr(name)) {
		return "", warnf(pre, truncBytes(cstr(name), 100), "\" to ASCII form: malformed UTF-8"), false
	}
	a, err := p.ToASCII(cstr(name))
	if err != nil || a == "" {
		reason := "UIDNA_ERROR_DISALLOWED"
		if err != nil {
			reason = idnaReason(err.Error())
		}
		return "", warnf(pre, truncBytes(cstr(name), 100), "\" to ASCII form: ", reason), false
	}
	if !validHostname(a) {
		return "", warnf(pre, truncBytes(cstr(name), 100), "\" to ASCII form: malformed ASCII label(s)"), false
	}
	return a, Warning{}, true
}

// idnaReason maps an x/net/idna error to the nearest ICU error name Postfix would print.
// ICU's exact classification may differ (see the package documentation).
func idnaReason(e string) string {
	switch {
	case strings.Contains(e, "disallowed rune"):
		return "UIDNA_ERROR_DISALLOWED"
	case strings.Contains(e, "invalid label"), strings.Contains(e, "empty label"):
		return "UIDNA_ERROR_EMPTY_LABEL"
	case strings.Contains(e, "hyphen"):
		return "UIDNA_ERROR_LEADING_HYPHEN"
	case strings.Contains(e, "punycode"):
		return "UIDNA_ERROR_PUNYCODE"
	case strings.Contains(e, "bidi"):
		return "UIDNA_ERROR_BIDI"
	}
	return "UIDNA_ERROR_DISALLOWED"
}

// validHostname is Postfix's valid_hostname() without wildcard support: letters, digits,
// '_' and '-', labels of 1-63 characters, no leading or trailing hyphen, not all-numeric,
// at most 255 characters.
func validHostname(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	labelLen, nonNumeric := 0, false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= '0' && c <= '9':
			labelLen++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			labelLen++
			nonNumeric = true
		case c == '.':
			if labelLen == 0 || i+1 == len(name) {
				return false
			}
			labelLen = 0
			continue
		case c == '-':
			nonNumeric = true
			labelLen++
			if labelLen == 1 || i+1 == len(name) || name[i+1] == '.' {
				return false
			}
		default:
			return false
		}
		if labelLen > 63 {
			return false
		}
	}
	return nonNumeric
}

// dotVariant reports whether s starts with one of the IDNA full-stop variants U+3002,
// U+FF0E, U+FF61 (as UTF-8), the way Postfix tests for them.
func dotVariant(s string) bool {
	return strings.HasPrefix(s, "\u3002") || strings.HasPrefix(s, "\uff0e") || strings.HasPrefix(s, "\uff61")
}

// References builds the reference names the way Postfix's TLS client does from a match
// list (the already split policy match= values or smtp_tls_*_cert_match items), the
// nexthop domain (brackets and port removed) and the server hostname.
//
// In OpenSSL mode (Postfix >= 3.6, tls_client.c add_namechecks): keywords are
// case-insensitive; "." is ignored with "ignoring invalid match name: \".\""; every
// non-ASCII name is converted to A-labels; with OpenSSL 3 an IP-looking name becomes the
// iPAddress check (a second one cannot be loaded); with no installed name the list is
// MustFail with "could not configure peer name checks".
//
// In Legacy mode (Postfix 2.11-3.5, match_servername): the nexthop and literal names are
// converted to A-labels but the hostname is not, "." is an ordinary literal, and an empty
// list simply never matches.
func References(items []string, nexthopDomain, hostname string, opt Options) (RefList, []Warning) {
	list := RefList{Mode: opt.Mode, Refs: make([]Reference, 0, len(items))}
	var warns []Warning
	var prof *idna.Profile
	convert := func(r *Reference, name string) string {
		if isASCII(name) {
			return name
		}
		if prof == nil {
			prof = idnaProfile()
		}
		a, w, ok := toASCII(prof, name)
		if !ok {
			warns = append(warns, w)
			r.Why = "could not be converted to an A-label; compared as given"
			return name
		}
		r.Unicode = name
		return a
	}
	haveIP := false
	installed := 0
	for _, item := range items {
		r := Reference{Item: item, Strategy: Literal, Kind: Host, Installed: true}
		name := item
		sub := false
		switch {
		case strings.EqualFold(item, "nexthop"):
			r.Strategy, name = Nexthop, nexthopDomain
		case strings.EqualFold(item, "dot-nexthop"):
			r.Strategy, name, sub = DotNexthop, nexthopDomain, true
		case strings.EqualFold(item, "hostname"):
			r.Strategy, name = Hostname, hostname
		case strings.HasPrefix(item, "."):
			if item == "." {
				if opt.Mode == OpenSSL {
					r.Installed = false
					r.Name = "."
					r.Why = "Postfix ignores the match name \".\""
					warns = append(warns, warnf(namaddrToken, ": ignoring invalid match name: \".\""))
					list.Refs = append(list.Refs, r)
					continue
				}
				// Legacy: "." stays a literal name.
			} else {
				r.Strategy, name, sub = Suffix, item[1:], true
			}
		default:
			if dotVariant(item) && len(item) > 3 {
				r.Strategy, name, sub = Suffix, item[3:], true
			}
		}
		if opt.Mode == OpenSSL || r.Strategy != Hostname {
			name = convert(&r, name)
		}
		if sub {
			name = "." + name
			if r.Unicode != "" {
				r.Unicode = "." + r.Unicode
			}
			r.Kind = Subdomain
		}
		r.Name = name
		if opt.Mode == Legacy {
			installed++
			list.Refs = append(list.Refs, r)
			continue
		}
		// OpenSSL: SSL_add1_host / X509_VERIFY_PARAM_add1_host.
		if ip, ok := parseOpenSSLIP(name); ok && opt.IPLiterals == IPAddressChecks {
			if haveIP {
				r.Installed = false
				r.Why = "OpenSSL accepts only one IP address reference"
				warns = append(warns, warnf(namaddrToken, ": error loading match name: \"", cstr(name), "\""))
				list.Refs = append(list.Refs, r)
				continue
			}
			haveIP = true
			r.Kind, r.IP = IPAddress, ip
		} else if strings.IndexByte(name, 0) >= 0 {
			r.Installed = false
			r.Why = "OpenSSL refuses names with an embedded NUL"
			warns = append(warns, warnf(namaddrToken, ": error loading match name: \"", cstr(name), "\""))
			list.Refs = append(list.Refs, r)
			continue
		} else if name == "" {
			r.Kind = Empty
			r.Why = "an empty name is accepted by OpenSSL but checks nothing"
		} else if len(name) > 1 && name[0] == '.' {
			r.Kind = Subdomain // OpenSSL decides by the leading dot, whatever the source
		} else {
			r.Kind = Host // "." alone (e.g. dot-nexthop of an empty nexthop) is compared exactly
		}
		installed++
		list.Refs = append(list.Refs, r)
	}
	if opt.Mode == OpenSSL && installed == 0 {
		list.MustFail = true
		warns = append(warns, warnf(namaddrToken, ": could not configure peer name checks"))
	}
	return list, warns
}

// parseOpenSSLIP is OpenSSL's a2i_IPADDRESS(): a name with ':' is parsed as IPv6, else as
// a dotted quad with sscanf("%d.%d.%d.%d") leniency (leading zeros, signs and spaces).
func parseOpenSSLIP(s string) ([]byte, bool) {
	if strings.IndexByte(s, ':') >= 0 {
		if strings.ContainsAny(s, "%/ \t") {
			return nil, false
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, false
		}
		b := a.As16()
		return b[:], true
	}
	var out [4]byte
	p := s
	for i := 0; i < 4; i++ {
		if i > 0 {
			if p == "" || p[0] != '.' {
				return nil, false
			}
			p = p[1:]
		}
		v, rest, ok := scanInt(p)
		if !ok || v < 0 || v > 255 {
			return nil, false
		}
		out[i] = byte(v)
		p = rest
	}
	if p != "" && !isCSpace(p[0]) {
		return nil, false
	}
	return out[:], true
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// scanInt is sscanf's %d: optional white space, optional sign, at least one digit.
func scanInt(s string) (int, string, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	v := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v < 1<<20 {
			v = v*10 + int(s[i]-'0')
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

func quote(s string) string { return "\"" + s + "\"" }
