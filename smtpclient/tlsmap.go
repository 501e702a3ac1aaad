package smtpclient

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy"
)

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
	// Level is the effective security level. DANE levels always disable SSLv2 and SSLv3;
	// levels above encrypt run OpenSSL at security level 1. The zero Level (and LevelNotSet)
	// mean "may".
	Level policy.Level
	// Release is the Postfix release emulated (">="/"<=" need 3.6; default lists changed in
	// 3.8). The zero Version means the newest.
	Release policy.Version
}

// GapCode is a stable identifier of one difference between Go and OpenSSL.
type GapCode string

// Gap codes.
const (
	GapSecurityLevel1       GapCode = "security-level-1"
	GapOpenSSLOnlySuites    GapCode = "openssl-only-suites"
	GapAnonymousSuites      GapCode = "anonymous-suites"
	GapNullCiphers          GapCode = "null-ciphers"
	GapLegacyVersions       GapCode = "legacy-versions"
	GapKeyExchangeGroups    GapCode = "key-exchange-groups"
	GapNoGoSuitesBelowTLS13 GapCode = "no-go-suites-below-tls13"
	GapNoGoSuites           GapCode = "no-go-suites"
	GapSNIIPLiteral         GapCode = "sni-ip-literal"
	GapSNITrailingDot       GapCode = "sni-trailing-dot"
)

// Gap is one way in which Go's crypto/tls cannot reproduce what OpenSSL inside Postfix would
// do with the same settings.
type Gap struct {
	// Code is a stable identifier, e.g. "openssl-only-suites", "anonymous-suites".
	Code GapCode `json:"code"`
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

// TLSConfigFor maps Postfix's protocol and cipher settings to Go. The error, when not nil, is
// the mapping's Abort: Postfix would abort the TLS session with that warning (and report
// "Cannot start TLS: handshake failure"). The mapping is returned in either case.
func TLSConfigFor(p TLSParams) (TLSMapping, error) {
	var m TLSMapping
	level := p.Level
	if level < policy.May {
		level = policy.May
	}
	mustMatch := level > policy.Encrypt
	setup := openssl.NewSetup(openssl.SetupParams{Protocols: p.Protocols, Grade: p.Grade, Exclusions: p.Exclusions,
		DANE: level.IsDANE(), Release: p.Release})
	if setup.Abort != "" {
		m.Abort = &ConfigError{Warning: setup.Abort}
		return m, m.Abort
	}
	m.CipherList = setup.CipherList
	var goSuites []uint16
	var osslOnly []string
	anon := 0
	for _, s := range setup.Suites {
		m.OpenSSLSuites = append(m.OpenSSLSuites, s.Name)
		if s.Anonymous() {
			anon++
		}
		if id, ok := goSuiteFor(s.ID); ok {
			goSuites = append(goSuites, id)
		} else {
			osslOnly = append(osslOnly, s.Name)
		}
	}
	m.Warnings = setup.Warnings
	for _, v := range setup.Versions {
		m.Versions = append(m.Versions, v.Name)
	}
	if setup.ConnectError != "" {
		// SSL_connect fails before sending anything; Postfix reports a handshake failure.
		m.Abort = &ConfigError{Warning: setup.ConnectError}
		return m, m.Abort
	}
	run := setup.Versions // lowest first
	if mustMatch {
		// OpenSSL 3 at security level 1 still offers TLS 1.0/1.1 but rejects the MD5+SHA-1
		// signatures those versions use on (EC)DHE key exchange ("legacy sigalg disallowed
		// or unsupported"); only RSA key exchange could complete. Go gets a TLS 1.2 floor.
		var kept []openssl.Version
		for _, v := range run {
			if v.Wire >= tls.VersionTLS12 {
				kept = append(kept, v)
			}
		}
		if len(kept) < len(run) {
			m.Gaps = append(m.Gaps, Gap{Code: GapSecurityLevel1, Detail: "above encrypt OpenSSL 3 runs at security level 1: it offers TLS 1.0/1.1 but fails (EC)DHE handshakes there (legacy sigalg); Go gets a TLS 1.2 floor, which differs only for a server that speaks nothing newer than TLS 1.1 and accepts RSA key exchange"})
		}
		run = kept
		if len(run) == 0 {
			m.GoCannotConnect = true
			return m, nil
		}
	}
	m.MinVersion = run[0].Wire
	m.MaxVersion = run[len(run)-1].Wire

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
				m.Gaps = append(m.Gaps, Gap{Code: GapNoGoSuitesBelowTLS13, Detail: "OpenSSL would offer TLS 1.2 and older with suites Go lacks; Go offers TLS 1.3 only"})
			} else {
				m.GoCannotConnect = true
				m.Gaps = append(m.Gaps, Gap{Code: GapNoGoSuites, Detail: "none of the suites OpenSSL would offer exists in Go; a live handshake cannot emulate Postfix"})
			}
		}
	}
	if m.MinVersion < tls.VersionTLS13 {
		m.CipherSuites = goSuites
	}
	if len(osslOnly) > 0 && hasOld {
		m.Gaps = append(m.Gaps, Gap{Code: GapOpenSSLOnlySuites, Detail: fmt.Sprintf("%d of the %d suites OpenSSL would offer are not in Go (%s); a server that only accepts those completes the handshake with Postfix but not with Go", len(osslOnly), len(m.OpenSSLSuites), summarize(osslOnly))})
	}
	if anon > 0 && hasOld {
		m.Gaps = append(m.Gaps, Gap{Code: GapAnonymousSuites, Detail: "the cipher list allows anonymous (aNULL) suites, which Go lacks: Postfix could get an \"Anonymous\" session where Go gets none"})
	}
	if pfutil.StrcaseEq(p.Grade, "null") {
		m.Gaps = append(m.Gaps, Gap{Code: GapNullCiphers, Detail: "Go has no NULL (unencrypted) suites"})
	}
	if m.MinVersion < tls.VersionTLS12 {
		m.Gaps = append(m.Gaps, Gap{Code: GapLegacyVersions, Detail: "TLS 1.0/1.1: Go offers only AES-CBC-SHA suites there and its own signature algorithms; OpenSSL 3 at security level 0 also offers DHE, Camellia and others"})
	}
	m.Gaps = append(m.Gaps, Gap{Code: GapKeyExchangeGroups, Detail: "Go offers X25519, P-256, P-384, P-521 (no X448, no FFDHE groups for DHE); OpenSSL's groups follow tls_eecdh_auto_curves"})
	return m, nil
}

func summarize(names []string) string {
	if len(names) <= 4 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:4], ", ") + ", ..."
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
func cipherNames(id uint16) (name, iana string, bits int) {
	iana = tls.CipherSuiteName(id)
	name = iana
	if s, ok := openssl.SuiteByID(id); ok {
		name, bits = s.Name, s.Bits()
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
	return name, iana, bits
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
