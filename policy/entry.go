package policy

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// This file reproduces tls_policy_lookup_one() from Postfix's smtp/smtp_tls_policy.c (and,
// for releases before 2.11, the same function in smtp/smtp_session.c): how one value found
// in smtp_tls_policy_maps is split into tokens, how the security level and the name=value
// attributes are checked, and which warnings smtp(8) logs for a broken entry.

// DefaultMapsTitle is the title Postfix's SMTP client gives its policy maps; warnings start
// with it. The LMTP client uses "lmtp_tls_policy_maps".
const DefaultMapsTitle = "smtp_tls_policy_maps"

// The literal servername= values that Postfix replaces at connection time (case-sensitive:
// "HOSTNAME" is sent as SNI verbatim).
const (
	ServerNameHostname = "hostname" // SNI is the name of the server being connected to
	ServerNameNexthop  = "nexthop"  // SNI is the nexthop domain
)

// EntryContext says how to parse a policy table value: which Postfix release to emulate,
// and the map title and key that Postfix puts in front of every warning.
type EntryContext struct {
	// Version is the Postfix release whose parser is emulated. The zero Version means
	// Latest(). Releases before 2.11 are modelled as 2.6-2.10 behaved.
	Version Version

	// MapsTitle is the parameter name Postfix names in warnings: "smtp_tls_policy_maps"
	// (used when empty) or "lmtp_tls_policy_maps".
	MapsTitle string

	// Key is the lookup key that found the value, e.g. ".example.com" when the entry was
	// found by parent-domain recursion for "mail.example.com".
	Key string

	// LoadTrustAnchors, when not nil, is called for each accepted tafile= value, because
	// Postfix loads trust-anchor files while it parses the entry. A non-nil error makes
	// the entry invalid; its text (if not empty) is logged as a warning, so it should be
	// Postfix's own, e.g. "error opening trust anchor file: /x.pem: No such file or
	// directory". Postfix logs nothing extra for a file without any PEM object: return
	// an error with empty text for that. Nil means the files are not checked.
	LoadTrustAnchors func(path string) error

	// DisableSTSMXPatterns is true when smtp_tls_enforce_sts_mx_patterns (or the lmtp_
	// twin) is "no". With the default "yes", Postfix 3.10.5 and later replace the match
	// list of an entry with policy_type=sts, match= and mx_host_pattern= attributes by
	// the single strategy "hostname" (see Entry.STSMatchReplaced).
	DisableSTSMXPatterns bool

	// SMTPUTF8Disabled is true when smtputf8_enable is "no" (its default below
	// compatibility_level 1). Postfix's logger then replaces every non-ASCII byte of a
	// warning with '?', as releases before 3.0 always do; otherwise valid UTF-8 is kept.
	SMTPUTF8Disabled bool
}

// TokenKind says what Postfix did with one token of a policy value.
type TokenKind uint8

const (
	// TokenLevel is the first token, the security level.
	TokenLevel TokenKind = iota
	// TokenAttribute is a token Postfix parsed as a name=value attribute (successfully
	// or not: see Entry.BadToken).
	TokenAttribute
	// TokenIgnored is a token after level "none": Postfix only logs
	// `ignoring attribute "<token>" with TLS disabled`.
	TokenIgnored
	// TokenNotParsed is a token after the one that made the entry invalid; Postfix
	// stopped before reading it.
	TokenNotParsed
)

// String returns a short lower-case name for the kind.
func (k TokenKind) String() string {
	switch k {
	case TokenLevel:
		return "level"
	case TokenAttribute:
		return "attribute"
	case TokenIgnored:
		return "ignored"
	case TokenNotParsed:
		return "not-parsed"
	}
	return "TokenKind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one token of a policy value, as Postfix's tokenizer (mystrtok, or mystrtokq with
// brace groups in 3.10 and later) cuts it.
type Token struct {
	// Text is the token exactly as it appears in the value, braces included.
	Text string
	// Offset is the byte offset of Text in the value given to ParseEntry.
	Offset int
	// Kind says how Postfix treated the token.
	Kind TokenKind
	// Brace is true for a 3.10+ brace group ("{ name = value }").
	Brace bool
	// Name and Value are the attribute name and value after Postfix's splitting (for a
	// brace group: after stripping the braces and the surrounding whitespace and turning
	// control whitespace into spaces). Both are empty when the token was not split or the
	// split failed.
	Name, Value string
}

// Entry is the result of parsing one policy table value. An entry that Postfix rejects is
// a value with Valid false, not an error: smtp(8) then does not connect to the destination
// and defers with 4.7.5 "client TLS configuration problem", never falling back to the
// global security level.
type Entry struct {
	// Level is the security level named by the first token. It is LevelNotSet when the
	// value is empty or the level word is unknown. When Valid is false the level was
	// parsed but Postfix discards it (TLS_LEV_INVALID).
	Level Level

	// Valid is false when Postfix marks the policy invalid.
	Valid bool

	// Match holds all match= values, concatenated in order and split the way Postfix
	// splits them at the entry's level: on '|' at fingerprint, on ':' at verify and
	// secure; empty items are dropped. With STSMatchReplaced it is ["hostname"].
	Match []string
	// MatchRaw holds each match= value as written, one item per attribute. A non-empty
	// MatchRaw with an empty Match (e.g. "match=:") is a match list Postfix created with
	// no names in it.
	MatchRaw []string
	// STSMatchReplaced is true when Postfix 3.10.5+ replaced the match list with
	// "hostname" because of policy_type=sts plus mx_host_pattern (see
	// EntryContext.DisableSTSMXPatterns); MatchRaw keeps what was written.
	STSMatchReplaced bool

	// Ciphers, Protocols and Exclude are the ciphers=, protocols= and exclude= values,
	// nil when not given. Postfix checks only that ciphers is not empty; the grade and the
	// protocol syntax are checked at handshake time. An empty Protocols or Exclude is
	// valid and removes the main.cf restriction.
	Ciphers, Protocols, Exclude *string
	// ServerName is the servername= value (3.4+), nil when not given. The words
	// ServerNameHostname and ServerNameNexthop are special, case-sensitively.
	ServerName *string
	// TAFiles lists the tafile= values in order (verify and secure only).
	TAFiles []string
	// TAFileError is the tafile= value whose file could not be loaded, which made the
	// entry invalid ("error opening trust anchor file: ..."); empty otherwise.
	TAFileError string
	// ConnectionReuse and EnableRPK are the last connection_reuse= (3.4+) and enable_rpk=
	// (3.9+) values, nil when not given.
	ConnectionReuse, EnableRPK *bool

	// TLSRPT / MTA-STS plugin attributes (3.10+). PolicyType is "sts" or
	// "no-policy-found" in any case; PolicyTTL is the decimal policy_ttl.
	PolicyType, PolicyDomain, PolicyFailure *string
	PolicyTTL                               *int
	PolicyStrings, MXHostPatterns           []string

	// Warnings lists every warning smtp(8) logs while parsing the value, in order, in
	// Postfix's words including the "<maps title>, next-hop destination "<key>": " prefix
	// where Postfix has one, and with non-printable characters replaced by '?' as
	// Postfix's logger does.
	Warnings []string

	// Problem is the text (without prefix) of the warning that made the entry invalid,
	// empty for a valid entry. It can be empty for an invalid entry only when a trust
	// anchor loader failed without text.
	Problem string

	// Tokens lists every token of the value, including tokens Postfix never read because
	// of an earlier error (TokenNotParsed).
	Tokens []Token
	// BadToken is the index in Tokens of the token that made the entry invalid, or -1
	// (valid entry, or an empty value). For "built-in policy has unexpected attribute"
	// it is the first TLSRPT attribute that triggered the rule.
	BadToken int
}

// entryOpt holds the optional scalar attributes in one allocation; the Entry's pointers
// point into it.
type entryOpt struct {
	ciphers, protocols, exclude, servername string
	ptype, pdomain, pfailure                string
	ttl                                     int
	reuse, rpk                              bool
}

// entryArena is allocated once per parse: the optional values, the tokens and the match
// items of a typical entry live in it, so a typical parse costs one allocation.
type entryArena struct {
	opt  entryOpt
	toks [5]Token
	strs [6]string
}

// entryParser carries the state of one ParseEntry call.
type entryParser struct {
	ec     EntryContext
	v      Version
	value  string
	e      Entry
	arena  *entryArena
	strs   []string // unused part of arena.strs
	prefix string
	braces bool

	matchSeen   bool
	firstSTSTok int
}

// ParseEntry parses one smtp_tls_policy_maps value (the text after the key) as the Postfix
// release ec.Version does, and reports everything Postfix would log. It never panics and
// never fails: a value Postfix rejects is an Entry with Valid false.
func ParseEntry(value string, ec EntryContext) Entry {
	// Postfix sees table values as C strings.
	if i := strings.IndexByte(value, 0); i >= 0 {
		value = value[:i]
	}
	p := entryParser{ec: ec, v: ec.Version, value: value, firstSTSTok: -1}
	if p.v == (Version{}) {
		p.v = Latest()
	}
	p.braces = p.v.AtLeast(3, 10, 0)
	p.e = Entry{Level: LevelNotSet, BadToken: -1}
	p.parse()
	return p.e
}

// where is Postfix's WHERE prefix: "<maps title>, next-hop destination \"<key>\": ".
func (p *entryParser) where() string {
	if p.prefix == "" {
		title := p.ec.MapsTitle
		if title == "" {
			title = DefaultMapsTitle
		}
		if p.v.Before(2, 11, 0) {
			title = "TLS policy table"
		}
		p.prefix = title + ", next-hop destination \"" + p.ec.Key + "\": "
	}
	return p.prefix
}

// warn logs a warning with the WHERE prefix.
func (p *entryParser) warn(msg string) {
	p.e.Warnings = append(p.e.Warnings, pfPrintable(p.where()+msg, p.utf8Log()))
}

// warnBare logs a warning that Postfix logs without the WHERE prefix.
func (p *entryParser) warnBare(msg string) {
	p.e.Warnings = append(p.e.Warnings, pfPrintable(msg, p.utf8Log()))
}

// fail logs msg with the prefix and marks the entry invalid because of token idx.
func (p *entryParser) fail(idx int, msg string) {
	p.warn(msg)
	p.invalid(idx, msg)
}

func (p *entryParser) invalid(idx int, problem string) {
	p.e.Valid = false
	p.e.Problem = problem
	p.e.BadToken = idx
}

// pfNextToken returns the next token at or after pos: mystrtok(", \t\r\n"), or mystrtokq with
// "{}" when braces is set (separators inside balanced braces do not split).
func pfNextToken(s string, pos int, braces bool) (start, end int, ok bool) {
	for pos < len(s) && pfIsSep(s[pos]) {
		pos++
	}
	if pos >= len(s) {
		return pos, pos, false
	}
	start = pos
	level := 0
	for ; pos < len(s); pos++ {
		c := s[pos]
		switch {
		case braces && c == '{':
			level++
		case braces && level > 0 && c == '}':
			level--
		case level == 0 && pfIsSep(c):
			return start, pos, true
		}
	}
	return start, pos, true
}

// Bit masks of the token separators (CHARS_COMMA_SP = ", \t\r\n") and of the characters
// for which the C locale's isspace() is true (" \t\n\v\f\r"); all are below 64.
const (
	sepMask   uint64 = 1<<',' | 1<<' ' | 1<<'\t' | 1<<'\r' | 1<<'\n'
	spaceMask uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\v' | 1<<'\f' | 1<<'\r'
)

func pfIsSep(c byte) bool { return c < 64 && sepMask&(1<<c) != 0 }

// pfIsSpace is Postfix's ISSPACE in the C locale.
func pfIsSpace(c byte) bool { return c < 64 && spaceMask&(1<<c) != 0 }

func (p *entryParser) addToken(start, end int, kind TokenKind) int {
	if p.e.Tokens == nil {
		p.arena = new(entryArena)
		p.e.Tokens = p.arena.toks[:0]
		p.strs = p.arena.strs[:]
	}
	p.e.Tokens = append(p.e.Tokens, Token{Text: p.value[start:end], Offset: start, Kind: kind})
	return len(p.e.Tokens) - 1
}

// rest records the tokens from pos to the end of the value with the given kind.
func (p *entryParser) rest(pos int, kind TokenKind) {
	for {
		s, e, ok := pfNextToken(p.value, pos, p.braces)
		if !ok {
			return
		}
		p.addToken(s, e, kind)
		pos = e
	}
}

func (p *entryParser) parse() {
	e := &p.e
	s, end, ok := pfNextToken(p.value, 0, p.braces)
	if !ok {
		p.fail(-1, "invalid empty policy")
		return
	}
	ti := p.addToken(s, end, TokenLevel)
	word := p.value[s:end]
	lev, ok := p.lookupLevel(word)
	if !ok {
		p.fail(ti, "invalid security level \""+word+"\"")
		p.rest(end, TokenNotParsed)
		return
	}
	e.Level = lev
	e.Valid = true

	if lev < May {
		pos := end
		for {
			s, t, ok := pfNextToken(p.value, pos, p.braces)
			if !ok {
				return
			}
			p.addToken(s, t, TokenIgnored)
			p.warn("ignoring attribute \"" + p.value[s:t] + "\" with TLS disabled")
			pos = t
		}
	}

	pos := end
	for {
		s, t, ok := pfNextToken(p.value, pos, p.braces)
		if !ok {
			break
		}
		pos = t
		ti := p.addToken(s, t, TokenAttribute)
		if !p.attribute(ti) {
			p.rest(pos, TokenNotParsed)
			return
		}
	}
	if p.v.AtLeast(3, 10, 0) && e.PolicyType == nil && p.firstSTSTok >= 0 {
		p.fail(p.firstSTSTok, "built-in policy has unexpected attribute "+
			"policy_ttl, policy_domain, policy_string, mx_host_pattern or policy_failure")
		return
	}
	if p.v.AtLeast(3, 10, 5) && !p.ec.DisableSTSMXPatterns && e.PolicyType != nil &&
		pfutil.StrcaseEq(*e.PolicyType, "sts") && p.matchSeen && e.MXHostPatterns != nil {
		e.Match = []string{ServerNameHostname}
		e.STSMatchReplaced = true
	}
}

// lookupLevel is tls_level_lookup() of the emulated release: strcasecmp against the
// level names that release knows; "halfdane" is never accepted.
func (p *entryParser) lookupLevel(word string) (Level, bool) {
	for i := 0; i < len(word); i++ {
		if word[i] >= utf8.RuneSelf {
			return LevelNotSet, false // strcasecmp folds ASCII only
		}
	}
	lev, ok := ParseLevel(word)
	if !ok {
		return LevelNotSet, false
	}
	switch {
	case lev.IsDANE() && p.v.Before(2, 11, 0):
		return LevelNotSet, false
	case lev == Fingerprint && p.v.Before(2, 5, 0):
		return LevelNotSet, false
	}
	return lev, true
}

// attribute handles one attribute token; it returns false when the entry became invalid.
func (p *entryParser) attribute(ti int) bool {
	tok := &p.e.Tokens[ti]
	text := tok.Text
	var name, val, err string
	if p.braces && text[0] == '{' {
		tok.Brace = true
		text, err = pfExtpar(text)
	}
	if err == "" {
		name, val, err = pfSplitNameVal(text, p.nameValRejectsLeadingEq())
	}
	if err != "" {
		p.fail(ti, "malformed attribute/value pair \""+text+"\": "+err)
		return false
	}
	tok.Name, tok.Value = name, val
	if p.v.Before(2, 11, 0) {
		return p.attributeLegacy(ti, name, val)
	}
	e := &p.e
	switch {
	case pfutil.StrcaseEq(name, "ciphers"), pfutil.StrcaseEq(name, "protocols"):
		return p.commonAttribute(ti, name, val)
	case p.v.AtLeast(3, 4, 0) && pfutil.StrcaseEq(name, "servername"):
		if e.ServerName != nil {
			p.fail(ti, "attribute \""+name+"\" is specified multiple times")
			return false
		}
		if ok, _ := pfValidHostname(val); !ok {
			p.fail(ti, "\""+name+"="+val+"\" specifies an invalid hostname")
			return false
		}
		o := p.options()
		o.servername = val
		e.ServerName = &o.servername
	case pfutil.StrcaseEq(name, "match"):
		if val == "" {
			p.fail(ti, "attribute \""+name+"\" has empty value")
			return false
		}
		switch e.Level {
		case Fingerprint:
			p.addMatch(val, '|')
			if p.v.AtLeast(3, 6, 0) && p.v.Before(3, 9, 0) {
				p.checkFingerprints(val)
			}
		case Verify, Secure:
			p.addMatch(val, ':')
		default:
			p.fail(ti, "attribute \""+name+"\" invalid at security level \""+e.Level.String()+"\"")
			return false
		}
	case pfutil.StrcaseEq(name, "exclude"):
		return p.commonAttribute(ti, name, val)
	case pfutil.StrcaseEq(name, "tafile"):
		if !e.Level.IsPKIX() {
			p.fail(ti, "attribute \""+name+"\" invalid at security level \""+e.Level.String()+"\"")
			return false
		}
		if val == "" {
			p.fail(ti, "attribute \""+name+"\" has empty value")
			return false
		}
		e.TAFiles = append(e.TAFiles, val)
		if p.ec.LoadTrustAnchors != nil {
			if lerr := p.ec.LoadTrustAnchors(val); lerr != nil {
				e.TAFileError = val
				msg := lerr.Error()
				if msg != "" {
					p.warnBare(msg)
				}
				p.invalid(ti, msg)
				return false
			}
		}
	case p.v.AtLeast(3, 4, 0) && pfutil.StrcaseEq(name, "connection_reuse"):
		b, ok := pfYesNo(val)
		if !ok {
			p.fail(ti, "attribute \""+name+"\" has bad value: \""+val+"\"")
			return false
		}
		if p.connReuseBug() {
			// 3.4.0-3.4.13 and 3.5.0-3.5.3 lack a "continue" here and fall
			// through to the unknown-name error.
			p.fail(ti, "invalid attribute name: \""+name+"\"")
			return false
		}
		o := p.options()
		o.reuse = b
		e.ConnectionReuse = &o.reuse
	case p.v.AtLeast(3, 9, 0) && pfutil.StrcaseEq(name, "enable_rpk"):
		b, ok := pfYesNo(val)
		if !ok {
			p.fail(ti, "attribute \""+name+"\" has bad value: \""+val+"\"")
			return false
		}
		o := p.options()
		o.rpk = b
		e.EnableRPK = &o.rpk
	case p.v.AtLeast(3, 10, 0) && pfutil.StrcaseEq(name, "policy_ttl"):
		p.noteSTS(ti)
		if e.PolicyTTL != nil {
			p.fail(ti, "attribute \""+name+"\" is specified multiple times")
			return false
		}
		n, ok := pfParseTTL(val)
		if !ok {
			p.fail(ti, "attribute \""+name+"\" has a malformed value: \""+val+"\"")
			return false
		}
		o := p.options()
		o.ttl = n
		e.PolicyTTL = &o.ttl
	case p.v.AtLeast(3, 10, 0) && pfutil.StrcaseEq(name, "policy_type"):
		if e.PolicyType != nil {
			p.fail(ti, "attribute \""+name+"\" is specified multiple times")
			return false
		}
		if !pfutil.StrcaseEq(val, "sts") && !pfutil.StrcaseEq(val, "no-policy-found") {
			p.fail(ti, "attribute \""+name+"\" has an unexpected value: \""+val+"\"")
			return false
		}
		o := p.options()
		o.ptype = val
		e.PolicyType = &o.ptype
	case p.v.AtLeast(3, 10, 0) && pfutil.StrcaseEq(name, "policy_domain"):
		p.noteSTS(ti)
		if e.PolicyDomain != nil {
			p.fail(ti, "attribute \""+name+"\" is specified multiple times")
			return false
		}
		if ok, gripe := pfValidHostname(val); !ok {
			p.warnBare(gripe) // valid_hostname(val, DO_GRIPE) logs first
			p.fail(ti, "attribute \""+name+"\" has a malformed value: \""+val+"\"")
			return false
		}
		o := p.options()
		o.pdomain = val
		e.PolicyDomain = &o.pdomain
	case p.v.AtLeast(3, 10, 0) && pfutil.StrcaseEq(name, "policy_string"):
		p.noteSTS(ti)
		e.PolicyStrings = append(e.PolicyStrings, val)
	case p.v.AtLeast(3, 10, 0) && pfutil.StrcaseEq(name, "mx_host_pattern"):
		p.noteSTS(ti)
		e.MXHostPatterns = append(e.MXHostPatterns, val)
	case p.v.AtLeast(3, 10, 0) && pfutil.StrcaseEq(name, "policy_failure"):
		p.noteSTS(ti)
		if e.PolicyFailure != nil {
			p.fail(ti, "attribute \""+name+"\" is specified multiple times")
			return false
		}
		if !pfValidPolicyFailure(val) {
			p.fail(ti, "attribute \""+name+"\" has an unexpected value: \""+val+"\"")
			return false
		}
		o := p.options()
		o.pfailure = val
		e.PolicyFailure = &o.pfailure
	default:
		p.fail(ti, "invalid attribute name: \""+name+"\"")
		return false
	}
	return true
}

// attributeLegacy is the attribute switch of Postfix 2.6-2.10 (smtp_session.c): only
// ciphers, protocols, match and exclude, and match checks the level before emptiness.
func (p *entryParser) attributeLegacy(ti int, name, val string) bool {
	e := &p.e
	switch {
	case pfutil.StrcaseEq(name, "ciphers"), pfutil.StrcaseEq(name, "protocols"):
		return p.commonAttribute(ti, name, val)
	case pfutil.StrcaseEq(name, "match"):
		if e.Level <= Encrypt {
			p.fail(ti, "attribute \""+name+"\" invalid at security level \""+e.Level.String()+"\"")
			return false
		}
		if val == "" {
			p.fail(ti, "attribute \""+name+"\" has empty value")
			return false
		}
		if e.Level == Fingerprint {
			p.addMatch(val, '|')
		} else {
			p.addMatch(val, ':')
		}
	case pfutil.StrcaseEq(name, "exclude"):
		return p.commonAttribute(ti, name, val)
	default:
		p.fail(ti, "invalid attribute name: \""+name+"\"")
		return false
	}
	return true
}

// commonAttribute is the ciphers, protocols and exclude case of the attribute switch,
// the same in every release (smtp_tls_policy.c, and smtp_session.c before 2.11).
func (p *entryParser) commonAttribute(ti int, name, val string) bool {
	e := &p.e
	o := p.options()
	var dst **string
	var slot *string
	switch {
	case pfutil.StrcaseEq(name, "ciphers"):
		if val == "" {
			p.fail(ti, "attribute \""+name+"\" has empty value")
			return false
		}
		dst, slot = &e.Ciphers, &o.ciphers
	case pfutil.StrcaseEq(name, "protocols"):
		dst, slot = &e.Protocols, &o.protocols
	default: // exclude
		dst, slot = &e.Exclude, &o.exclude
	}
	if *dst != nil {
		p.fail(ti, "attribute \""+name+"\" is specified multiple times")
		return false
	}
	*slot = val
	*dst = slot
	return true
}

func (p *entryParser) options() *entryOpt { return &p.arena.opt }

// strings returns an empty slice with room for n strings, from the arena when it has room.
func (p *entryParser) strings(n int) []string {
	if n <= len(p.strs) {
		s := p.strs[:0:n]
		p.strs = p.strs[n:]
		return s
	}
	return make([]string, 0, n)
}

func (p *entryParser) noteSTS(ti int) {
	if p.firstSTSTok < 0 {
		p.firstSTSTok = ti
	}
}

// addMatch is argv_split_append(matchargv, val, sep): runs of sep never yield empty items.
func (p *entryParser) addMatch(val string, sep byte) {
	e := &p.e
	p.matchSeen = true
	if e.MatchRaw == nil {
		e.MatchRaw = p.strings(1)
	}
	e.MatchRaw = append(e.MatchRaw, val)
	if e.Match == nil {
		e.Match = p.strings(1 + strings.Count(val, string(sep)))
	}
	for val != "" {
		i := strings.IndexByte(val, sep)
		if i < 0 {
			e.Match = append(e.Match, val)
			return
		}
		if i > 0 {
			e.Match = append(e.Match, val[:i])
		}
		val = val[i+1:]
	}
}

// checkFingerprints reproduces the warnings of tls_dane_add_fpt_digests(), which Postfix
// 3.6-3.8 call while parsing a fingerprint-level match= attribute: the one decoding rule of
// package fingerprint (ParseList, hex_decode_opt with colons allowed).
func (p *entryParser) checkFingerprints(val string) {
	_, warns, _ := fingerprint.ParseList([]string{val}, fingerprint.Table, fingerprint.Options{ColonsOptional: true})
	for _, w := range warns {
		p.warnBare(w.Text)
	}
}

// nameValRejectsLeadingEq reports whether split_nameval() says "missing attribute name" for
// a token that starts with '=' (fixed in 3.4.29, 3.5.19, 3.6.9, 3.7.5 and 3.8.0; before,
// "=x" had an empty name and was an "invalid attribute name").
func (p *entryParser) nameValRejectsLeadingEq() bool {
	return p.v.FixedIn(V(3, 4, 29), V(3, 5, 19), V(3, 6, 9), V(3, 7, 5), V(3, 8, 0))
}

// connReuseBug reports the releases in which a valid connection_reuse attribute fell
// through to "invalid attribute name".
func (p *entryParser) connReuseBug() bool {
	v := p.v
	return v.InSeries(3, 4) && v.Patch < 14 || v.InSeries(3, 5) && v.Patch < 4
}

// pfSplitNameVal is Postfix's split_nameval(): the name ends at the first whitespace or '=',
// whitespace may surround '=', and the value is trimmed.
func pfSplitNameVal(tok string, rejectLeadingEq bool) (name, val, err string) {
	i := 0
	for i < len(tok) && pfIsSpace(tok[i]) {
		i++
	}
	if i == len(tok) || rejectLeadingEq && tok[i] == '=' {
		return "", "", "missing attribute name"
	}
	np := i
	for i < len(tok) && !pfIsSpace(tok[i]) && tok[i] != '=' {
		i++
	}
	ep := i
	for i < len(tok) && pfIsSpace(tok[i]) {
		i++
	}
	if i == len(tok) || tok[i] != '=' {
		return "", "", "missing '=' after attribute name"
	}
	i++
	for i < len(tok) && pfIsSpace(tok[i]) {
		i++
	}
	j := len(tok)
	for j > i && pfIsSpace(tok[j-1]) {
		j--
	}
	return tok[np:ep], tok[i:j], ""
}

// pfExtpar is extpar(&tok, "{}", EXTPAR_FLAG_STRIP|EXTPAR_FLAG_NORMAL_WS) for a token
// that starts with '{'. It returns the text inside the braces (stripped, control
// whitespace turned into spaces) and Postfix's error text, if any.
func pfExtpar(tok string) (inner, err string) {
	n := pfutil.Balpar(tok)
	if n == 0 {
		err = "missing '}' in \"" + tok + "\""
		inner = tok[1:]
	} else {
		if n < len(tok) {
			err = "syntax error after '}' in \"" + tok + "\""
		}
		inner = tok[1 : n-1]
	}
	for inner != "" && pfIsSpace(inner[len(inner)-1]) {
		inner = inner[:len(inner)-1]
	}
	for inner != "" && pfIsSpace(inner[0]) {
		inner = inner[1:]
	}
	if strings.ContainsAny(inner, "\t\n\v\f\r") {
		b := []byte(inner)
		for i, c := range b {
			if pfIsSpace(c) {
				b[i] = ' '
			}
		}
		inner = string(b)
	}
	return inner, err
}

// pfValidHostname is valid_hostname(): RFC 1035 letters, digits, '-' and '_', labels of at
// most 63 and names of at most 255 characters, no empty label, no trailing dot, not all
// numeric. The second result is the warning that valid_hostname(name, DO_GRIPE) logs.
func pfValidHostname(name string) (bool, string) {
	const me = "valid_hostname: "
	if name == "" {
		return false, me + "empty hostname"
	}
	labelLen, nonNumeric := 0, false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case pfIsAlnum(c) || c == '_':
			labelLen++
			if labelLen > 63 {
				return false, me + "hostname label too long: " + pfTrunc(name, 100)
			}
			if c < '0' || c > '9' {
				nonNumeric = true
			}
		case c == '.':
			if labelLen == 0 || i+1 == len(name) {
				return false, me + "misplaced delimiter: " + pfTrunc(name, 100)
			}
			labelLen = 0
		case c == '-':
			nonNumeric = true
			labelLen++
			if labelLen == 1 || i+1 == len(name) || name[i+1] == '.' {
				return false, me + "misplaced hyphen: " + pfTrunc(name, 100)
			}
		default:
			return false, me + "invalid character " + strconv.Itoa(int(c)) + "(decimal): " + pfTrunc(name, 100)
		}
	}
	if !nonNumeric {
		return false, me + "numeric hostname: " + pfTrunc(name, 100)
	}
	if len(name) > 255 {
		return false, me + "bad length " + strconv.Itoa(len(name)) + " for " + pfTrunc(name, 100) + "..."
	}
	return true, ""
}

func pfIsAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func pfTrunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func pfYesNo(v string) (value, ok bool) {
	switch {
	case pfutil.StrcaseEq(v, "yes"):
		return true, true
	case pfutil.StrcaseEq(v, "no"):
		return false, true
	}
	return false, false
}

// pfParseTTL accepts what Postfix accepts for policy_ttl: decimal digits whose value fits
// in a C int.
func pfParseTTL(v string) (int, bool) {
	if v == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1<<31-1 {
			return 0, false
		}
	}
	return n, true
}

func pfValidPolicyFailure(v string) bool {
	for _, f := range [...]string{"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid", "validation-failure"} {
		if pfutil.StrcaseEq(v, f) {
			return true
		}
	}
	return false
}

// utf8Log reports whether Postfix's logger keeps valid UTF-8 (util_utf8_enable).
func (p *entryParser) utf8Log() bool { return p.v.AtLeast(3, 0, 0) && !p.ec.SMTPUTF8Disabled }

// pfPrintable is what Postfix's logger does to every message (printable(text, '?')).
func pfPrintable(s string, utf bool) string { return pfutil.Printable(s, utf) }
