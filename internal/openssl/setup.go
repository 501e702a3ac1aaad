package openssl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy/release"
)

// Protocol is a set of Postfix's TLS_PROTOCOL_* bits (tls.h).
type Protocol int

// The protocols Postfix names.
const (
	SSLv2 Protocol = 1 << iota
	SSLv3
	TLSv1
	TLSv11
	TLSv12
	TLSv13
	// AllProtocols is every protocol Postfix knows (TLS_KNOWN_PROTOCOLS).
	AllProtocols = SSLv2 | SSLv3 | TLSv1 | TLSv11 | TLSv12 | TLSv13
)

// protocolNames is tls_misc.c's protocol_table (names compared case-insensitively).
var protocolNames = [...]struct {
	name string
	bit  Protocol
}{
	{"SSLv2", SSLv2}, {"SSLv3", SSLv3}, {"TLSv1", TLSv1},
	{"TLSv1.1", TLSv11}, {"TLSv1.2", TLSv12}, {"TLSv1.3", TLSv13},
}

// versionTable is tls_misc.c's tls_version_table for ">=" and "<=".
var versionTable = [...]struct {
	name    string
	version int
}{
	{"None", 0}, {"SSLv3", 0x300}, {"TLSv1", 0x301}, {"TLSv1.1", 0x302},
	{"TLSv1.2", 0x303}, {"TLSv1.3", 0x304},
}

// Protocols is a parsed protocol list: the protocols it excludes and the floor and ceiling
// (wire versions such as 0x303; 0 means none).
type Protocols struct {
	Exclude        Protocol
	Floor, Ceiling int
}

// ParseProtocols is tls_proto_mask_lims() (tls_misc.c) as release v has it. Tokens are
// separated by white space, commas and colons; names compare case-insensitively; a list of
// names enables exactly those, "!name" excludes one. ">=V" and "<=V" (3.6 and later) take a
// name from tls_version_table or a hexadecimal number as strtoul(…, 16) reads it; before 3.6
// they are unknown names. "TLSv1.3" is a name from 3.4, 3.3.2, 3.2.7, 3.1.10 and 3.0.14.
// A zero v means the newest release. ok is false for a list Postfix rejects ("Invalid TLS
// protocol list").
func ParseProtocols(list string, v release.Version) (p Protocols, ok bool) {
	v = v.OrLatest()
	include := Protocol(0)
	rest := list
	for {
		tok, more := pfutil.Strtok(&rest, ", \t\r\n:")
		if !more {
			break
		}
		bounds := v.AtLeast(3, 6, 0)
		switch {
		case bounds && strings.HasPrefix(tok, ">="):
			n, ok := parseTLSVersion(tok[2:])
			if !ok {
				return Protocols{}, false
			}
			p.Floor = n
		case bounds && strings.HasPrefix(tok, "<="):
			n, ok := parseTLSVersion(tok[2:])
			if !ok {
				return Protocols{}, false
			}
			p.Ceiling = n
		case strings.HasPrefix(tok, "!"):
			b := protocolBit(tok[1:], v)
			if b == 0 {
				return Protocols{}, false
			}
			p.Exclude |= b
		default:
			b := protocolBit(tok, v)
			if b == 0 {
				return Protocols{}, false
			}
			include |= b
		}
	}
	if include != 0 {
		p.Exclude |= AllProtocols &^ include
	}
	return p, true
}

func protocolBit(name string, v release.Version) Protocol {
	for _, p := range protocolNames {
		if pfutil.StrcaseEq(p.name, name) {
			if p.bit == TLSv13 && !tls13Known(v) {
				return 0
			}
			return p.bit
		}
	}
	return 0
}

// tls13Known: "TLSv1.3" is a protocol name since 3.4, 3.3.2, 3.2.7, 3.1.10 and 3.0.14.
func tls13Known(v release.Version) bool {
	return v.FixedIn(release.V(3, 0, 14), release.V(3, 1, 10), release.V(3, 2, 7), release.V(3, 3, 2), release.V(3, 4, 0))
}

// parseTLSVersion is tls_misc.c's parse_tls_version: a name from versionTable
// (case-insensitive) or a hexadecimal number as strtoul(…, 16) reads it (optional sign,
// optional "0x"; the whole token must be used; "" is 0; a negative number wraps to a value
// above INT_MAX, except -0).
func parseTLSVersion(tok string) (int, bool) {
	for _, v := range versionTable {
		if pfutil.StrcaseEq(v.name, tok) {
			return v.version, true
		}
	}
	s := tok
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
		if s == "" { // strtoul reads "0x" as "0" followed by the rest "x": not fully used
			return 0, false
		}
	}
	if s == "" {
		return 0, tok == "" // strtoul("") = 0 with end == start == "" (accepted)
	}
	n, err := strconv.ParseUint(s, 16, 64)
	if err != nil || neg && n != 0 || n > 0x7fffffff {
		return 0, false
	}
	return int(n), true
}

// GradeCipherList is the OpenSSL cipher string Postfix uses for a cipher grade (the
// tls_high_cipherlist, tls_medium_cipherlist, … defaults of release v; 3.8 changed them).
// The grade compares case-insensitively; ok is false for a grade Postfix does not know
// ("invalid cipher grade"). A zero v means the newest release.
func GradeCipherList(grade string, v release.Version) (string, bool) {
	g := pfutil.LowerASCII(grade)
	if v.OrLatest().AtLeast(3, 8, 0) {
		const excl = ":!SEED:!IDEA:!3DES:!RC2:!RC4:!RC5:!kDH:!kECDH:!aDSS:!MD5"
		switch g {
		case "high":
			return "aNULL:-aNULL:HIGH" + excl + ":@STRENGTH", true
		case "medium", "low", "export":
			return "aNULL:-aNULL:HIGH:MEDIUM" + excl + ":+RC4:@STRENGTH", true
		case "null":
			return "eNULL:!kDH:!kECDH:!aDSS:!MD5:!aNULL", true
		}
		return "", false
	}
	switch g {
	case "high":
		return "aNULL:-aNULL:HIGH:@STRENGTH", true
	case "medium":
		return "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", true
	case "low":
		return "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH", true
	case "export":
		return "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH", true
	case "null":
		return "eNULL:!aNULL", true
	}
	return "", false
}

// SetupParams are the Postfix settings tls_client_start() turns into an OpenSSL context.
type SetupParams struct {
	// Protocols is the protocol list in effect (protocols= attribute, smtp_tls_protocols or
	// smtp_tls_mandatory_protocols).
	Protocols string
	// Grade is the cipher grade; empty means "medium".
	Grade string
	// Exclusions are the cipher exclusions as Postfix composed them (including the eNULL or
	// aNULL it adds); each item may hold several names separated by white space, commas or
	// colons.
	Exclusions []string
	// DANE is set at the dane, dane-only and halfdane levels, which always disable SSLv2
	// and SSLv3.
	DANE bool
	// Release is the Postfix release emulated; zero means the newest.
	Release release.Version
}

// Version is a protocol version OpenSSL may negotiate.
type Version struct {
	// Name is OpenSSL's name ("TLSv1.2").
	Name string
	// Wire is the protocol number (0x303).
	Wire uint16
}

// osslVersions are OpenSSL's client versions from highest to lowest with their bit;
// SSLv3 has no method in OpenSSL 3 default builds (a hole in ssl_get_min_max_version).
var osslVersions = [...]struct {
	bit    Protocol
	v      Version
	usable bool
}{
	{TLSv13, Version{"TLSv1.3", 0x304}, true},
	{TLSv12, Version{"TLSv1.2", 0x303}, true},
	{TLSv11, Version{"TLSv1.1", 0x302}, true},
	{TLSv1, Version{"TLSv1", 0x301}, true},
	{SSLv3, Version{"SSLv3", 0x300}, false},
}

// Setup is what OpenSSL ends up with for a SetupParams: the protocol versions, the cipher
// string and the TLS 1.2-and-older suites it enables, the warnings Postfix logs on the way,
// and whether the session is aborted before any handshake.
type Setup struct {
	// Protocols is the parsed protocol list.
	Protocols Protocols
	// Versions are the versions OpenSSL enables, lowest first: the lowest contiguous run of
	// versions neither excluded nor outside [floor, ceiling].
	Versions []Version
	// CipherList is the cipher string Postfix sets (the grade's list plus ":!X" for each
	// exclusion).
	CipherList string
	// Suites are the TLS 1.2-and-older suites that cipher string enables, in table order.
	Suites []Suite
	// Warnings are Postfix's warnings that do not stop the session (an unusable floor or
	// ceiling), without the "host[addr]:port: " prefix.
	Warnings []string
	// Abort, when not empty, is the warning tls_client_start() logs (after the
	// "host[addr]:port: " prefix) before it gives up on the session without a handshake:
	// an invalid protocol list, an invalid grade or exclusion, a cipher string that
	// enables nothing. Postfix then reports "Cannot start TLS: handshake failure".
	Abort string
	// AbortProtocols is set when the protocol list caused Abort (else the cipher settings
	// did).
	AbortProtocols bool
	// ConnectError, when not empty, is the error SSL_connect() fails with before it sends
	// anything (no protocol version left). Postfix logs "SSL_connect error to …: -1" and
	// reports a handshake failure.
	ConnectError string
}

// NewSetup computes the Setup for p as tls_client_start() and OpenSSL 3.0 do, in their
// order: protocols first, then the grade, the exclusions, the cipher string, the version
// bounds.
func NewSetup(p SetupParams) Setup {
	var s Setup
	protos, ok := ParseProtocols(p.Protocols, p.Release)
	if !ok {
		s.Abort = fmt.Sprintf("Invalid TLS protocol list \"%s\": aborting TLS session", p.Protocols)
		s.AbortProtocols = true
		return s
	}
	if p.DANE {
		protos.Exclude |= SSLv2 | SSLv3
	}
	s.Protocols = protos
	grade := p.Grade
	if grade == "" {
		grade = "medium"
	}
	list, ok := GradeCipherList(grade, p.Release)
	if !ok {
		s.Abort = fmt.Sprintf("invalid cipher grade: \"%s\"", grade)
		return s
	}
	for _, item := range p.Exclusions {
		rest := item
		for {
			tok, more := pfutil.Strtok(&rest, ", \t\r\n:")
			if !more {
				break
			}
			if strings.ContainsRune("!+-@", rune(tok[0])) {
				s.Abort = "invalid unary '!+-@' in cipher exclusion: " + tok
				return s
			}
			list += ":!" + tok
		}
	}
	s.CipherList = list
	for i, on := range enabledSuites(list) {
		if on {
			s.Suites = append(s.Suites, suites[i])
		}
	}
	if len(s.Suites) == 0 {
		s.Abort = fmt.Sprintf("error setting cipher grade: \"%s\"", grade)
		return s
	}
	floor, ceiling := protos.Floor, protos.Ceiling
	if !validBound(floor) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("error setting minimum TLS version to: 0x%04x", floor))
		floor = 0
	}
	if !validBound(ceiling) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("error setting maximum TLS version to: 0x%04x", ceiling))
		ceiling = 0
	}
	var run []Version // high to low
	hole := true
	for _, v := range osslVersions {
		w := int(v.v.Wire)
		on := v.usable && protos.Exclude&v.bit == 0 && (floor == 0 || w >= floor) && (ceiling == 0 || w <= ceiling)
		switch {
		case !on:
			hole = true
		case hole:
			run = []Version{v.v}
			hole = false
		default:
			run = append(run, v.v)
		}
	}
	for i := len(run) - 1; i >= 0; i-- {
		s.Versions = append(s.Versions, run[i])
	}
	if len(run) == 0 {
		s.ConnectError = "TLS library problem: error:0A0000BF:SSL routines::no protocols available"
	}
	return s
}

// validBound reports whether OpenSSL accepts v in SSL_set_min/max_proto_version.
func validBound(v int) bool { return v == 0 || (v >= 0x300 && v <= 0x304) }
