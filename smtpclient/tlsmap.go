package smtpclient

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
)

// Release is a Postfix release number. It has the same shape as policy.Version, so a
// policy.Version converts to it directly (smtpclient.Release(v)). The zero Release means the
// newest behaviour this package knows.
type Release struct {
	Major, Minor, Patch int
}

func (r Release) atLeast(major, minor, patch int) bool {
	if r == (Release{}) {
		return true
	}
	switch {
	case r.Major != major:
		return r.Major > major
	case r.Minor != minor:
		return r.Minor > minor
	}
	return r.Patch >= patch
}

// TLSParams are the Postfix settings that shape a TLS handshake (postfix-semantics §7).
type TLSParams struct {
	// Protocols is the protocol list in effect (protocols= attribute, smtp_tls_protocols or
	// smtp_tls_mandatory_protocols): "", ">=TLSv1.2", "!SSLv2, !SSLv3", "TLSv1.2:TLSv1.3".
	Protocols string
	// Grade is the cipher grade (ciphers= attribute, smtp_tls_ciphers or
	// smtp_tls_mandatory_ciphers): high, medium, low, export, null. Empty means "medium".
	Grade string
	// Exclusions are the cipher exclusions in effect, as Postfix composed them (exclude=
	// attribute or the exclude parameters, plus "eNULL" at encrypt or "aNULL" above it). Each
	// item may itself hold several names separated by white space, commas or colons.
	Exclusions []string
	// Level is the effective security level name (may, encrypt, fingerprint, halfdane, dane,
	// dane-only, verify, secure). DANE levels always disable SSLv2 and SSLv3; levels above
	// encrypt run OpenSSL at security level 1. Empty means "may".
	Level string
	// Release is the Postfix release emulated (">="/"<=" need 3.6; default lists changed in
	// 3.8). Zero means the newest.
	Release Release
}

// Gap is one way in which Go's crypto/tls cannot reproduce what OpenSSL inside Postfix would
// do with the same settings.
type Gap struct {
	// Code is a stable identifier, e.g. "openssl-only-suites", "anonymous-suites".
	Code string `json:"code"`
	// Detail says what differs and what it can change.
	Detail string `json:"detail"`
}

// TLSMapping is Postfix's TLS settings translated to Go, with what could not be translated.
type TLSMapping struct {
	// Versions are the protocol versions OpenSSL would enable, OpenSSL's names, lowest
	// first ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"). Empty with Abort set, or when no
	// version is left.
	Versions []string `json:"versions"`
	// MinVersion and MaxVersion are the Go bounds for Versions (crypto/tls constants).
	MinVersion uint16 `json:"min_version"`
	MaxVersion uint16 `json:"max_version"`
	// CipherList is the OpenSSL cipher string Postfix would set for TLS 1.2 and older.
	CipherList string `json:"cipher_list"`
	// OpenSSLSuites are the TLS 1.2-and-older suites that cipher string enables in OpenSSL
	// (model of OpenSSL 3.0), by OpenSSL name.
	OpenSSLSuites []string `json:"openssl_suites"`
	// CipherSuites are the Go suites (TLS 1.2 and older) that Go can offer from that set.
	CipherSuites []uint16 `json:"cipher_suites"`
	// Warnings are the warnings Postfix would log, without its "host[addr]:port: " prefix.
	Warnings []string `json:"warnings,omitempty"`
	// Abort is set when Postfix would abort the TLS session before the handshake (after a
	// successful STARTTLS): invalid protocol list, invalid grade or exclusion, empty cipher
	// list. Postfix then reports "Cannot start TLS: handshake failure".
	Abort *ConfigError `json:"abort,omitempty"`
	// GoCannotConnect is set when Go has no version/suite combination left that OpenSSL
	// would accept (e.g. only NULL ciphers up to TLS 1.2), so a live handshake cannot
	// emulate Postfix.
	GoCannotConnect bool `json:"go_cannot_connect,omitempty"`
	// Gaps lists the differences between Go and OpenSSL for these settings.
	Gaps []Gap `json:"gaps,omitempty"`
}

// Config returns a crypto/tls client configuration with the mapping's limits. It accepts any
// certificate (verification is the policy evaluator's job); the caller sets ServerName and
// VerifyPeerCertificate as needed.
func (m *TLSMapping) Config() *tls.Config {
	cfg := &tls.Config{
		InsecureSkipVerify: true,
		MinVersion:         m.MinVersion,
		MaxVersion:         m.MaxVersion,
		// Postfix's default tls_eecdh_auto_curves minus X448, which Go lacks.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP521, tls.CurveP384},
		Renegotiation:    tls.RenegotiateNever,
	}
	if len(m.CipherSuites) > 0 {
		cfg.CipherSuites = append([]uint16(nil), m.CipherSuites...)
	}
	return cfg
}

// Protocol bits, as Postfix's TLS_PROTOCOL_* (tls.h).
const (
	protoSSLv2 = 1 << iota
	protoSSLv3
	protoTLSv1
	protoTLSv11
	protoTLSv12
	protoTLSv13
	protoKnown = protoSSLv2 | protoSSLv3 | protoTLSv1 | protoTLSv11 | protoTLSv12 | protoTLSv13
)

// protocolNames is tls_misc.c's protocol_table (names compared case-insensitively).
var protocolNames = [...]struct {
	name string
	bit  int
}{
	{"SSLv2", protoSSLv2}, {"SSLv3", protoSSLv3}, {"TLSv1", protoTLSv1},
	{"TLSv1.1", protoTLSv11}, {"TLSv1.2", protoTLSv12}, {"TLSv1.3", protoTLSv13},
}

// versionTable is tls_misc.c's tls_version_table for ">=" and "<=".
var versionTable = [...]struct {
	name    string
	version int
}{
	{"None", 0}, {"SSLv3", 0x300}, {"TLSv1", 0x301}, {"TLSv1.1", 0x302},
	{"TLSv1.2", 0x303}, {"TLSv1.3", 0x304},
}

// protocolLimits parses a protocol list like Postfix's tls_proto_mask_lims(): it returns the
// mask of excluded protocols and the floor and ceiling (0 = none), or ok=false for an invalid
// list.
func protocolLimits(list string, rel Release) (mask, floor, ceiling int, ok bool) {
	include, exclude := 0, 0
	rest := list
	for {
		tok, more := strtok(&rest, ", \t\r\n:")
		if !more {
			break
		}
		switch {
		case strings.HasPrefix(tok, ">=") && rel.atLeast(3, 6, 0):
			v, ok := parseTLSVersion(tok[2:])
			if !ok {
				return 0, 0, 0, false
			}
			floor = v
		case strings.HasPrefix(tok, "<=") && rel.atLeast(3, 6, 0):
			v, ok := parseTLSVersion(tok[2:])
			if !ok {
				return 0, 0, 0, false
			}
			ceiling = v
		case strings.HasPrefix(tok, "!"):
			b := protocolBit(tok[1:], rel)
			if b == 0 {
				return 0, 0, 0, false
			}
			exclude |= b
		default:
			b := protocolBit(tok, rel)
			if b == 0 {
				return 0, 0, 0, false
			}
			include |= b
		}
	}
	if include != 0 {
		return exclude | (protoKnown &^ include), floor, ceiling, true
	}
	return exclude, floor, ceiling, true
}

func protocolBit(name string, rel Release) int {
	for _, p := range protocolNames {
		if strings.EqualFold(p.name, name) {
			if p.bit == protoTLSv13 && !tls13Known(rel) {
				return 0
			}
			return p.bit
		}
	}
	return 0
}

// tls13Known: "TLSv1.3" is a protocol name since 3.4, 3.3.2, 3.2.7, 3.1.10 and 3.0.14.
func tls13Known(r Release) bool {
	switch {
	case r == Release{} || r.atLeast(3, 4, 0):
		return true
	case r.Major == 3 && r.Minor == 3:
		return r.Patch >= 2
	case r.Major == 3 && r.Minor == 2:
		return r.Patch >= 7
	case r.Major == 3 && r.Minor == 1:
		return r.Patch >= 10
	case r.Major == 3 && r.Minor == 0:
		return r.Patch >= 14
	}
	return false
}

// parseTLSVersion is tls_misc.c's parse_tls_version: a name from versionTable
// (case-insensitive) or a hexadecimal number as strtoul(…, 16) reads it (optional "0x",
// optional sign; "" is 0).
func parseTLSVersion(tok string) (int, bool) {
	for _, v := range versionTable {
		if strings.EqualFold(v.name, tok) {
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
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || neg && v != 0 || v > 0x7fffffff {
		return 0, false
	}
	return int(v), true
}

// osslVersions are OpenSSL's client versions from highest to lowest with their bit;
// SSLv3 has no method in OpenSSL 3 default builds (a hole in ssl_get_min_max_version).
var osslVersions = [...]struct {
	name    string
	bit     int
	version int
	goVer   uint16
	usable  bool
}{
	{"TLSv1.3", protoTLSv13, 0x304, tls.VersionTLS13, true},
	{"TLSv1.2", protoTLSv12, 0x303, tls.VersionTLS12, true},
	{"TLSv1.1", protoTLSv11, 0x302, tls.VersionTLS11, true},
	{"TLSv1", protoTLSv1, 0x301, tls.VersionTLS10, true},
	{"SSLv3", protoSSLv3, 0x300, 0, false},
}

// validBound reports whether OpenSSL accepts v in SSL_set_min/max_proto_version.
func validBound(v int) bool { return v == 0 || (v >= 0x300 && v <= 0x304) }

// TLSConfigFor maps Postfix's protocol and cipher settings to Go. The error, when not nil, is
// the mapping's Abort: Postfix would abort the TLS session with that warning (and report
// "Cannot start TLS: handshake failure"). The mapping is returned in either case.
func TLSConfigFor(p TLSParams) (TLSMapping, error) {
	var m TLSMapping
	level := strings.ToLower(p.Level)
	if level == "" {
		level = "may"
	}
	mustMatch := level != "may" && level != "encrypt" && level != "none"
	daneBased := level == "dane" || level == "dane-only" || level == "halfdane"

	// Protocols first, as tls_client_start() checks them first.
	mask, floor, ceiling, ok := protocolLimits(p.Protocols, p.Release)
	if !ok {
		m.Abort = &ConfigError{Warning: fmt.Sprintf("Invalid TLS protocol list \"%s\": aborting TLS session", p.Protocols)}
		return m, m.Abort
	}
	if daneBased {
		mask |= protoSSLv2 | protoSSLv3
	}

	// Ciphers.
	grade := p.Grade
	if grade == "" {
		grade = "medium"
	}
	list, ok := gradeList(grade, p.Release)
	if !ok {
		m.Abort = &ConfigError{Warning: fmt.Sprintf("invalid cipher grade: \"%s\"", grade)}
		return m, m.Abort
	}
	for _, item := range p.Exclusions {
		rest := item
		for {
			tok, more := strtok(&rest, ", \t\r\n:")
			if !more {
				break
			}
			if strings.ContainsRune("!+-@", rune(tok[0])) {
				m.Abort = &ConfigError{Warning: "invalid unary '!+-@' in cipher exclusion: " + tok}
				return m, m.Abort
			}
			list += ":!" + tok
		}
	}
	m.CipherList = list
	enabled := evalCipherString(list)
	var goSuites []uint16
	var osslOnly []string
	anon := 0
	for i, s := range opensslSuites {
		if !enabled[i] {
			continue
		}
		m.OpenSSLSuites = append(m.OpenSSLSuites, s.name)
		if s.au == "None" && s.enc != "None" {
			anon++
		}
		if id, ok := goSuiteFor(s.id); ok {
			goSuites = append(goSuites, id)
		} else {
			osslOnly = append(osslOnly, s.name)
		}
	}
	if len(m.OpenSSLSuites) == 0 {
		m.Abort = &ConfigError{Warning: fmt.Sprintf("error setting cipher grade: \"%s\"", grade)}
		return m, m.Abort
	}

	// Versions: OpenSSL enables the lowest contiguous run of versions that are neither
	// masked nor outside [floor, ceiling].
	if !validBound(floor) {
		m.Warnings = append(m.Warnings, fmt.Sprintf("error setting minimum TLS version to: 0x%04x", floor))
		floor = 0
	}
	if !validBound(ceiling) {
		m.Warnings = append(m.Warnings, fmt.Sprintf("error setting maximum TLS version to: 0x%04x", ceiling))
		ceiling = 0
	}
	var run []int // indexes into osslVersions, high to low
	hole := true
	for i, v := range osslVersions {
		on := v.usable && mask&v.bit == 0 && (floor == 0 || v.version >= floor) &&
			(ceiling == 0 || v.version <= ceiling)
		switch {
		case !on:
			hole = true
		case hole:
			run = []int{i}
			hole = false
		default:
			run = append(run, i)
		}
	}
	for i := len(run) - 1; i >= 0; i-- {
		m.Versions = append(m.Versions, osslVersions[run[i]].name)
	}
	if len(run) == 0 {
		// SSL_connect fails before sending anything; Postfix reports a handshake failure.
		m.Abort = &ConfigError{Warning: "TLS library problem: error:0A0000BF:SSL routines::no protocols available"}
		return m, m.Abort
	}
	if mustMatch {
		// OpenSSL 3 at security level 1 still offers TLS 1.0/1.1 but rejects the MD5+SHA-1
		// signatures those versions use on (EC)DHE key exchange ("legacy sigalg disallowed
		// or unsupported"); only RSA key exchange could complete. Go gets a TLS 1.2 floor.
		kept := run[:0:0]
		for _, i := range run {
			if osslVersions[i].version >= 0x303 {
				kept = append(kept, i)
			}
		}
		if len(kept) < len(run) {
			m.Gaps = append(m.Gaps, Gap{Code: "security-level-1", Detail: "above encrypt OpenSSL 3 runs at security level 1: it offers TLS 1.0/1.1 but fails (EC)DHE handshakes there (legacy sigalg); Go gets a TLS 1.2 floor, which differs only for a server that speaks nothing newer than TLS 1.1 and accepts RSA key exchange"})
		}
		run = kept
		if len(run) == 0 {
			m.GoCannotConnect = true
			return m, nil
		}
	}
	m.MaxVersion = osslVersions[run[0]].goVer
	m.MinVersion = osslVersions[run[len(run)-1]].goVer

	// Suites usable per version.
	has13 := m.MaxVersion == tls.VersionTLS13
	hasOld := m.MinVersion < tls.VersionTLS13
	if hasOld {
		usable := false
		all := append(tls.CipherSuites(), tls.InsecureCipherSuites()...)
		for _, id := range goSuites {
			if suiteUsable(all, id, m.MinVersion, m.MaxVersion) {
				usable = true
			}
		}
		if !usable {
			if has13 {
				m.MinVersion = tls.VersionTLS13
				m.Gaps = append(m.Gaps, Gap{Code: "no-go-suites-below-tls13", Detail: "OpenSSL would offer TLS 1.2 and older with suites Go lacks; Go offers TLS 1.3 only"})
			} else {
				m.GoCannotConnect = true
				m.Gaps = append(m.Gaps, Gap{Code: "no-go-suites", Detail: "none of the suites OpenSSL would offer exists in Go; a live handshake cannot emulate Postfix"})
			}
		}
	}
	if m.MinVersion < tls.VersionTLS13 {
		m.CipherSuites = goSuites
	}
	if len(osslOnly) > 0 && hasOld {
		m.Gaps = append(m.Gaps, Gap{Code: "openssl-only-suites", Detail: fmt.Sprintf("%d of the %d suites OpenSSL would offer are not in Go (%s); a server that only accepts those completes the handshake with Postfix but not with Go", len(osslOnly), len(m.OpenSSLSuites), summarize(osslOnly))})
	}
	if anon > 0 && hasOld {
		m.Gaps = append(m.Gaps, Gap{Code: "anonymous-suites", Detail: "the cipher list allows anonymous (aNULL) suites, which Go lacks: Postfix could get an \"Anonymous\" session where Go gets none"})
	}
	if grade == "null" || strings.EqualFold(grade, "null") {
		m.Gaps = append(m.Gaps, Gap{Code: "null-ciphers", Detail: "Go has no NULL (unencrypted) suites"})
	}
	if m.MinVersion < tls.VersionTLS12 {
		m.Gaps = append(m.Gaps, Gap{Code: "legacy-versions", Detail: "TLS 1.0/1.1: Go offers only AES-CBC-SHA suites there and its own signature algorithms; OpenSSL 3 at security level 0 also offers DHE, Camellia and others"})
	}
	m.Gaps = append(m.Gaps, Gap{Code: "key-exchange-groups", Detail: "Go offers X25519, P-256, P-384, P-521 (no X448, no FFDHE groups for DHE); OpenSSL's groups follow tls_eecdh_auto_curves"})
	return m, nil
}

// gradeList is the OpenSSL cipher string for a grade (tls_*_cipherlist defaults).
func gradeList(grade string, rel Release) (string, bool) {
	g := strings.ToLower(grade)
	if rel.atLeast(3, 8, 0) {
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

func summarize(names []string) string {
	if len(names) <= 4 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:4], ", ") + ", ..."
}

// osslSuite is one OpenSSL cipher suite and its attributes, as `openssl ciphers -v` prints
// them.
type osslSuite struct {
	id                               uint16
	name, minProto, kx, au, enc, mac string
}

// goSuiteIDs are the TLS 1.2-and-older suites crypto/tls implements.
var goSuiteIDs = [...]uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA,
	tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
}

func goSuiteFor(id uint16) (uint16, bool) {
	for _, g := range goSuiteIDs {
		if g == id {
			return g, true
		}
	}
	return 0, false
}

// suiteUsable reports whether Go can use suite id with some version in [lo, hi] below 1.3.
func suiteUsable(all []*tls.CipherSuite, id uint16, lo, hi uint16) bool {
	for _, cs := range all {
		if cs.ID != id {
			continue
		}
		for _, v := range cs.SupportedVersions {
			if v >= lo && v <= hi && v < tls.VersionTLS13 {
				return true
			}
		}
	}
	return false
}

// cipherNames returns OpenSSL's name, the IANA name and the strength in bits for a
// negotiated suite.
func cipherNames(id uint16) (openssl, iana string, bits int) {
	iana = tls.CipherSuiteName(id)
	openssl = iana
	for _, s := range opensslSuites {
		if s.id == id {
			openssl = s.name
			bits = encBits(s.enc)
		}
	}
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		bits = 128
	case tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256:
		bits = 256
	case tls.TLS_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA:
		bits = 128
	case tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:
		bits = 112
	}
	return openssl, iana, bits
}

func encBits(enc string) int {
	if i := strings.IndexByte(enc, '('); i >= 0 {
		n, _ := strconv.Atoi(strings.TrimSuffix(enc[i+1:], ")"))
		return n
	}
	return 0
}

// versionName is OpenSSL's protocol name for a negotiated version.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// evalCipherString evaluates an OpenSSL cipher string over opensslSuites and reports which
// suites end up enabled. It models what decides membership (ordering is irrelevant to Go):
// plain rules add suites not yet killed, "-" removes (re-addable), "!" kills for good, "+"
// only reorders, "@..." are commands; "A+B" intersects aliases; unknown names match nothing.
func evalCipherString(s string) []bool {
	in := make([]bool, len(opensslSuites))
	killed := make([]bool, len(opensslSuites))
	attrs := make([]suiteAttrs, len(opensslSuites))
	for i := range opensslSuites {
		attrs[i] = attrsOf(&opensslSuites[i])
	}
	rest := s
	for {
		tok, more := strtok(&rest, ":, ;")
		if !more {
			break
		}
		op := byte(0)
		switch tok[0] {
		case '!', '-', '+':
			op, tok = tok[0], tok[1:]
		case '@':
			continue
		}
		if op == '+' {
			continue
		}
		parts := strings.Split(tok, "+")
		for i := range opensslSuites {
			match := true
			for _, part := range parts {
				if !suiteMatches(&opensslSuites[i], attrs[i], part) {
					match = false
					break
				}
			}
			if !match {
				continue
			}
			switch op {
			case 0:
				if !killed[i] {
					in[i] = true
				}
			case '-':
				in[i] = false
			case '!':
				in[i], killed[i] = false, true
			}
		}
	}
	return in
}

// suiteAttrs are the parsed parts of a suite's Enc column.
type suiteAttrs struct {
	enc  string // "AESGCM", "Camellia", "None", ...
	bits int
}

func attrsOf(s *osslSuite) suiteAttrs {
	enc := s.enc
	if i := strings.IndexByte(enc, '('); i >= 0 {
		enc = enc[:i]
	}
	return suiteAttrs{enc: enc, bits: encBits(s.enc)}
}

// suiteMatches reports whether alias (an OpenSSL 3.0 cipher-string name) selects suite s.
func suiteMatches(s *osslSuite, a suiteAttrs, alias string) bool {
	if alias == s.name {
		return true
	}
	enc, bits := a.enc, a.bits
	anon := s.au == "None"
	switch alias {
	case "ALL":
		return enc != "None"
	case "COMPLEMENTOFALL", "eNULL", "NULL":
		return enc == "None"
	case "COMPLEMENTOFDEFAULT":
		// OpenSSL 3.0 marks anonymous, DSS, Camellia, ARIA and CCM suites "not default";
		// "DEFAULT" itself is only special at the start of a string (not modelled here).
		return enc != "None" && (anon || s.au == "DSS" || enc == "Camellia" || enc == "ARIAGCM" ||
			enc == "AESCCM" || enc == "AESCCM8")
	case "HIGH":
		return enc != "None"
	case "MD5":
		return s.mac == "MD5"
	case "kRSA":
		return s.kx == "RSA"
	case "RSA":
		return s.kx == "RSA" && s.au == "RSA"
	case "kDHE", "kEDH", "DH":
		return s.kx == "DH"
	case "DHE", "EDH":
		return s.kx == "DH" && !anon
	case "ADH":
		return s.kx == "DH" && anon
	case "kECDHE", "kEECDH", "ECDH":
		return s.kx == "ECDH"
	case "ECDHE", "EECDH":
		return s.kx == "ECDH" && !anon
	case "AECDH":
		return s.kx == "ECDH" && anon
	case "kPSK":
		return s.kx == "PSK"
	case "kRSAPSK":
		return s.kx == "RSAPSK"
	case "kECDHEPSK":
		return s.kx == "ECDHEPSK"
	case "kDHEPSK":
		return s.kx == "DHEPSK"
	case "PSK":
		return strings.HasSuffix(s.kx, "PSK")
	case "kSRP", "SRP":
		return s.kx == "SRP"
	case "aRSA":
		return s.au == "RSA"
	case "aDSS", "DSS":
		return s.au == "DSS"
	case "aNULL":
		return anon
	case "aECDSA", "ECDSA":
		return s.au == "ECDSA"
	case "aPSK":
		return s.au == "PSK"
	case "aSRP":
		return s.au == "SRP"
	case "AES":
		return strings.HasPrefix(enc, "AES")
	case "AES128":
		return strings.HasPrefix(enc, "AES") && bits == 128
	case "AES256":
		return strings.HasPrefix(enc, "AES") && bits == 256
	case "AESGCM":
		return enc == "AESGCM"
	case "AESCCM":
		return enc == "AESCCM" || enc == "AESCCM8"
	case "AESCCM8":
		return enc == "AESCCM8"
	case "CAMELLIA":
		return enc == "Camellia"
	case "CAMELLIA128":
		return enc == "Camellia" && bits == 128
	case "CAMELLIA256":
		return enc == "Camellia" && bits == 256
	case "CHACHA20":
		return enc == "CHACHA20/POLY1305"
	case "ARIA", "ARIAGCM":
		return enc == "ARIAGCM"
	case "ARIA128":
		return enc == "ARIAGCM" && bits == 128
	case "ARIA256":
		return enc == "ARIAGCM" && bits == 256
	case "CBC":
		return enc == "AES" || enc == "Camellia"
	case "SHA1", "SHA":
		return s.mac == "SHA1"
	case "SHA256":
		return s.mac == "SHA256"
	case "SHA384":
		return s.mac == "SHA384"
	case "SSLv3":
		return s.minProto == "SSLv3"
	case "TLSv1", "TLSv1.0":
		return s.minProto == "TLSv1"
	case "TLSv1.2":
		return s.minProto == "TLSv1.2"
	}
	return false
}
