package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// policy computes the TLS policy for one next hop and server host name the way smtp(8)'s
// policy_create() does (smtp_tls_policy.c): global level, table or per-site lookup, DANE
// configuration checks, protocols, SNI, ciphers, match lists and trust anchors.
// host may be empty when the server is not known yet (MX next hops before the MX lookup).
func (v *clientView) policy(ctx context.Context, hop NextHop, host string, tlsNotRequired bool) (Policy, error) {
	st := v.static()
	if st.err != nil {
		return errorPolicy(), st.err
	}
	p := Policy{Level: st.global, Source: st.globalSrc, Release: v.s.version,
		MinimalBackoff: st.minBackoff, SingleLabelWildcards: st.singleLabelWildcards, static: st}
	if host == "" {
		host = hop.Domain
	}
	switch {
	case tlsNotRequired:
		p.Source = Source{Kind: FromTLSRequiredHeader}
		limit := May
		if st.wrapper && v.s.version.AtLeast(3, 10, 6) {
			limit = Encrypt
		}
		if p.Level > limit {
			p.Level = limit
		}
	case v.s.opt.CommandLine != "":
		v.commandLine(st, &p, hop)
		if p.Invalid {
			return p, nil
		}
	case st.policyTables:
		if done, err := v.tableLookup(ctx, st, &p, hop); err != nil || done {
			return p, err
		}
	case st.perSite != "":
		if done, err := v.perSiteLookup(ctx, &p, hop, host, st.global); err != nil || done {
			return p, err
		}
	}
	p.ConfiguredLevel = p.Level
	if hop.Unix && p.Level == May {
		// smtp_connect_local(): opportunistic TLS over a UNIX-domain socket becomes none.
		p.Level = None
		p.Warnings = append(p.Warnings, "smtp_connect_local: opportunistic TLS encryption is not appropriate for unix-domain destinations.")
	}

	// DANE configuration checks (dane_init, the parts that need no DNS).
	if p.Level.IsDANE() {
		v.daneConfig(st, &p, hop)
		if p.Invalid {
			return p, nil
		}
	}

	// Protocols and SNI from main.cf unless the entry set them.
	e := p.Entry
	if p.Level > None {
		st.protocols(&p)
		if e != nil && e.ServerName != nil {
			p.ServerName = *e.ServerName
		} else {
			if st.sniWarning != "" {
				p.invalid(InvalidDSN, InvalidReason, st.sniWarning)
				return p, nil
			}
			p.ServerName = st.sni
		}
	}
	st.ciphers(&p)
	v.matchAndAnchors(st, &p, hop)
	p.CAFile, p.CAPath, p.AppendDefaultCA = st.caFile, st.caPath, st.appendCA
	p.WrapperMode, p.ConnectionReuse, p.EnableRPK = st.wrapper, st.reuse, st.rpk
	if p.Level > None {
		p.EngineUnavailable = st.engineProblem
	}
	if e != nil && e.ConnectionReuse != nil {
		p.ConnectionReuse = *e.ConnectionReuse
	}
	if e != nil && e.EnableRPK != nil {
		p.EnableRPK = *e.EnableRPK
	}
	if p.ConnectionReuse && p.Level > None {
		p.TLSProxyMissing = v.tlsproxyMissing()
	}
	return p, nil
}

// tlsproxyMissing returns tlsproxy_service_name when master.cf is known and has no unix
// service of that name (smtp(8) connects to private/NAME for connection reuse).
func (v *clientView) tlsproxyMissing() string {
	if v.s.master == nil {
		return ""
	}
	name := "tlsproxy"
	if p, err := v.param("tlsproxy_service_name"); err == nil && p.Value != "" {
		name = p.Value
	}
	if _, ok := v.s.master.Service(name, "unix"); ok {
		return ""
	}
	return name
}

// tableLookup searches smtp_tls_policy_maps with parent-domain recursion for bare domain
// keys (tls_policy_lookup). done is true when the policy is final (invalid).
func (v *clientView) tableLookup(ctx context.Context, st *clientStatic, p *Policy, hop NextHop) (done bool, err error) {
	title := st.policyMapsTitle
	list := v.policyList.Load()
	if list == nil {
		l, err := v.openListValue(ctx, title, st.policyMaps)
		if err != nil {
			return false, err
		}
		l = v.s.editRows(l, st.utf8)
		v.policyList.Store(l)
		list = l
	}
	// The key, then (for a valid host name only) each parent domain with its leading dot.
	key := hop.Key
	recurse := validUTF8Hostname(key, st.utf8)
	for next := 0; next >= 0; {
		key = key[next:]
		next = -1
		if recurse {
			if i := strings.IndexByte(key[1:], '.'); i >= 0 {
				next = i + 1
			}
		}
		res, lerr := list.Lookup(ctx, key)
		if lerr != nil {
			var msgs []string
			var te *tables.LookupError
			table := ""
			if errors.As(lerr, &te) {
				msgs = append(msgs, te.Messages...)
				table = te.Table
				for _, t := range list.Tables() {
					if d, ok := t.(interface{ Duplicates() []tables.Duplicate }); ok && t.Name() == table {
						p.duplicates = d.Duplicates()
					}
				}
			} else {
				msgs = append(msgs, lerr.Error())
			}
			msgs = append(msgs, fmt.Sprintf("%s, next-hop destination \"%s\": policy table lookup error", title, key))
			// Table names the table whose lookup failed (there is no entry, so no Line).
			p.Source = Source{Kind: FromPolicyTable, Table: table, Key: key}
			p.invalid(InvalidDSN, InvalidReason, msgs...)
			return true, nil
		}
		if !res.Found {
			continue
		}
		p.Warnings = append(p.Warnings, res.Warnings...)
		p.Source = Source{Kind: FromPolicyTable, Table: res.Source.Table, Key: key, File: res.Source.File,
			Line: res.Source.Line, Raw: res.Source.Raw, Note: res.Source.Note}
		e, shared := v.parseEntry(st, res.Value, key)
		p.Entry, p.sharedEntry = e, shared
		p.Warnings = append(p.Warnings, e.Warnings...)
		p.Level = e.Level
		if !e.Valid {
			p.invalid(InvalidDSN, InvalidReason)
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

// commandLine applies LoadOptions.CommandLine as a policy table entry found for the next
// hop would apply (the entry is read with the same rules).
func (v *clientView) commandLine(st *clientStatic, p *Policy, hop NextHop) {
	value := strings.TrimSpace(v.s.opt.CommandLine)
	p.Source = Source{Kind: FromCommandLine, Key: hop.Key, Raw: value}
	e, shared := v.parseEntry(st, value, hop.Key)
	p.Entry, p.sharedEntry = e, shared
	p.Warnings = append(p.Warnings, e.Warnings...)
	p.Level = e.Level
	if !e.Valid {
		p.invalid(InvalidDSN, InvalidReason)
	}
}

// maxEntryMemo bounds the memo of parsed policy entries per client view.
const maxEntryMemo = 4096

// parseEntry parses a table value, reusing an earlier parse of the same text: real tables
// repeat a handful of values ("secure", "verify ...") over many keys. Only entries whose
// parse cannot depend on the key or on files are remembered: valid, without warnings (whose
// prefix names the key) and without tafile attributes (loaded from disk each time, as
// Postfix does). A remembered Entry is shared and must not be modified.
func (v *clientView) parseEntry(st *clientStatic, value, key string) (e *Entry, shared bool) {
	v.mu.Lock()
	e, ok := v.entries[value]
	v.mu.Unlock()
	if ok {
		return e, true
	}
	parsed := ParseEntry(value, EntryContext{Version: v.s.version, MapsTitle: st.policyMapsTitle, Key: key,
		LoadTrustAnchors: v.loadTrustAnchors, DisableSTSMXPatterns: !st.enforceSTSMX, SMTPUTF8Disabled: !st.utf8})
	if parsed.Valid && len(parsed.Warnings) == 0 && len(parsed.TAFiles) == 0 {
		v.mu.Lock()
		if v.entries == nil || len(v.entries) >= maxEntryMemo {
			v.entries = map[string]*Entry{}
		}
		v.entries[value] = &parsed
		v.mu.Unlock()
		return &parsed, true
	}
	return &parsed, false
}

// fpCheck is the policy-time reading of a fingerprint list.
type fpCheck struct {
	warnings []string // "malformed fingerprint value: ..."
	none     bool     // no usable value: the policy is invalid
}

// fingerprintCheck reads a fingerprint list as tls_dane_add_fpt_digests() does when the policy
// is built. The result is reused for the main.cf list (key nil) and for shared, remembered
// entries (cacheable).
func (v *clientView) fingerprintCheck(st *clientStatic, key *Entry, values []string, cacheable bool) fpCheck {
	if cacheable {
		v.mu.Lock()
		r, ok := v.fpChecks[key]
		v.mu.Unlock()
		if ok {
			return r
		}
	}
	from := fingerprint.Table
	if key == nil {
		from = fingerprint.MainCF
	}
	var r fpCheck
	_, warns, err := fingerprint.ParseList(values, from, fingerprint.Options{Digest: st.fpDigest, ColonsOptional: v.s.version.AtLeast(3, 6, 0)})
	for _, w := range warns {
		r.warnings = append(r.warnings, w.Text)
	}
	r.none = errors.Is(err, fingerprint.ErrNoFingerprints)
	if cacheable {
		v.mu.Lock()
		if v.fpChecks == nil || len(v.fpChecks) >= maxEntryMemo {
			v.fpChecks = map[*Entry]fpCheck{}
		}
		v.fpChecks[key] = r
		v.mu.Unlock()
	}
	return r
}

// perSiteLookup is tls_site_lookup() for the obsolete smtp_tls_per_site table: the next-hop
// string, then the server host name, combined by Postfix's precedence rules.
func (v *clientView) perSiteLookup(ctx context.Context, p *Policy, hop NextHop, host string, global Level) (bool, error) {
	st := v.static()
	title := st.perSiteTitle
	list, err := v.openListValue(ctx, title, st.perSite)
	if err != nil {
		return false, err
	}
	site := LevelNotSet - 1 // TLS_LEV_NOTFOUND
	var src Source
	look := func(name, class string) bool {
		res, lerr := list.Lookup(ctx, name)
		if lerr != nil {
			p.Source = Source{Kind: FromPerSiteTable, Key: name}
			p.invalid("4.3.0", "Temporary lookup error", fmt.Sprintf("%s: %s \"%s\": per-site table lookup error", title, class, name))
			return false
		}
		if !res.Found {
			return true
		}
		s := Source{Kind: FromPerSiteTable, Table: res.Source.Table, Key: name, File: res.Source.File, Line: res.Source.Line, Raw: res.Source.Raw}
		switch asciiUpper(res.Value) {
		case "NONE":
			if site <= May {
				site, src = None, s
			}
		case "MAY":
			if site < None {
				site, src = May, s
			}
		case "MUST_NOPEERMATCH":
			if site < Encrypt {
				site, src = Encrypt, s
			}
		case "MUST":
			if site < Verify {
				site, src = Verify, s
			}
		default:
			p.Source = s
			p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("%s: unknown TLS policy '%s' for %s %s", title, res.Value, class, name))
			return false
		}
		return true
	}
	if !look(hop.Key, "next-hop destination") {
		return true, nil
	}
	if !pfutil.StrcaseEq(hop.Key, host) && !look(host, "server hostname") {
		return true, nil
	}
	if site == May && global > May {
		return false, nil // the global level overrides a wildcard MAY
	}
	if site >= None {
		p.Level, p.Source = site, src
	}
	return false, nil
}

// loadTrustAnchors loads a tafile as Postfix's tls_dane_load_trustfile() does when the entry
// is parsed or the policy built (see CheckTrustAnchorFile).
func (v *clientView) loadTrustAnchors(path string) error {
	return CheckTrustAnchorFile(context.Background(), v.s.opt.Tables.FS, v.s.opt.Tables.BaseDir, path)
}

// CheckTrustAnchorFile loads a tafile= file as smtp(8)'s tls_dane_load_trustfile() does while
// it parses a policy entry (§6.5), with dane.LoadTrustAnchorFile: an open failure, a file
// without any PEM object, or a malformed PEM object makes the entry invalid. A relative path
// is relative to baseDir (Postfix's queue directory); fsys nil means the local file system.
//
// The error's text is Postfix's own warning ("error opening trust anchor file: <path>:
// <error text>", naming path as written), or "" when Postfix logs no warning of its own; it
// wraps the *dane.TrustAnchorError that says what was wrong. It fits
// EntryContext.LoadTrustAnchors.
func CheckTrustAnchorFile(ctx context.Context, fsys fs.FS, baseDir, path string) error {
	name := path
	if !filepath.IsAbs(name) && baseDir != "" {
		name = filepath.Join(baseDir, name)
	}
	rel := strings.TrimPrefix(name, "/")
	if fsys == nil {
		fsys, rel = os.DirFS("/"), strings.TrimPrefix(filepath.Clean(absPath(name)), "/")
	}
	_, err := dane.LoadTrustAnchorFile(ctx, fsys, rel)
	if err == nil {
		return nil
	}
	var te *dane.TrustAnchorError
	if errors.As(err, &te) {
		text := te.Warning
		if text != "" && te.File != path {
			text = strings.Replace(text, te.File, path, 1)
		}
		return &trustAnchorError{text: text, err: te}
	}
	return err
}

// trustAnchorError is a trust-anchor failure whose text is Postfix's warning.
type trustAnchorError struct {
	text string
	err  *dane.TrustAnchorError
}

func (e *trustAnchorError) Error() string { return e.text }
func (e *trustAnchorError) Unwrap() error { return e.err }

func absPath(name string) string {
	if a, err := filepath.Abs(name); err == nil {
		return a
	}
	return name
}

// daneConfig applies dane_init()'s configuration-only checks.
func (v *clientView) daneConfig(st *clientStatic, p *Policy, hop NextHop) {
	if hop.Unix {
		p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("%s: the \"dane\" security level is invalid for delivery via unix-domain sockets", hop.Key))
		return
	}
	dc := &DANEConfig{InsecureMXPolicy: st.insecureMX, Digests: st.daneDigests, ForceInsecureHostTLSA: st.forceInsecTLSA}
	p.DANE = dc
	if st.daneProblemFmt == "" {
		return
	}
	dc.Problem = fmt.Sprintf(st.daneProblemFmt, hop.Key, p.Level)
	p.Warnings = append(p.Warnings, dc.Problem)
	if p.Level == DaneOnly {
		p.invalid(InvalidDSN, InvalidReason)
		return
	}
	p.Level = May
}

// protocols sets the protocol list for the level: the entry's protocols= attribute, else
// smtp_tls_protocols at may and smtp_tls_mandatory_protocols above.
func (st *clientStatic) protocols(p *Policy) {
	e := p.Entry
	switch {
	case e != nil && e.Protocols != nil:
		p.Protocols = *e.Protocols
	case p.Level == May:
		p.Protocols = st.protoMay
	default:
		p.Protocols = st.protoMand
	}
}

// ciphers is set_cipher_grade(): the grade and the exclusion list for the level. The "exclude"
// attribute replaces both main.cf exclusion lists; eNULL (encrypt) or aNULL (above) is always
// added.
func (st *clientStatic) ciphers(p *Policy) {
	e := p.Entry
	also := ""
	switch {
	case p.Level <= None:
		return
	case p.Level == May:
		p.Ciphers, p.Exclude = st.ciphMay, st.exclMay
	case p.Level == Encrypt:
		p.Ciphers, p.Exclude, also = st.ciphMand, st.exclEncrypt, "eNULL"
	default:
		p.Ciphers, p.Exclude, also = st.ciphMand, st.exclAuth, "aNULL"
	}
	if e != nil && e.Ciphers != nil {
		p.Ciphers = *e.Ciphers
	}
	if e != nil && e.Exclude != nil {
		p.Exclude = strings.FieldsFunc(*e.Exclude, func(r rune) bool { return isListSep(r) || r == ':' })
		if also != "" {
			p.Exclude = append(p.Exclude, also)
		}
	}
}

// matchAndAnchors fills the match list, fingerprint digest and trust anchors.
func (v *clientView) matchAndAnchors(st *clientStatic, p *Policy, hop NextHop) {
	e := p.Entry
	switch p.Level {
	case Fingerprint:
		p.FingerprintDigest = st.fpDigest
		if e != nil && len(e.MatchRaw) > 0 {
			p.Match, p.MatchFrom = e.Match, MatchFromEntry
		} else {
			p.Match, p.MatchFrom = st.fpMatch, MatchOrigin(st.fpMatchParam)
		}
		var fc fpCheck
		if e != nil && len(e.MatchRaw) > 0 {
			fc = v.fingerprintCheck(st, e, p.Match, p.sharedEntry)
			// 3.6-3.8 decode the table's values while parsing the entry, which has logged
			// their warnings already (Entry.Warnings); policy_create() then finds no
			// usable digest and uses smtp_tls_fingerprint_cert_match instead (3.9 and later
			// do not: real Postfix 3.7.11, conformance
			// table/fingerprint-all-malformed-main-cf-match).
			legacy := v.s.version.AtLeast(3, 6, 0) && v.s.version.Before(3, 9, 0)
			if !legacy {
				p.Warnings = append(p.Warnings, fc.warnings...)
			}
			if fc.none && legacy {
				p.Match, p.MatchFrom = st.fpMatch, MatchOrigin(st.fpMatchParam)
				fc = v.fingerprintCheck(st, nil, p.Match, true)
				p.Warnings = append(p.Warnings, fc.warnings...)
			}
		} else {
			fc = v.fingerprintCheck(st, nil, p.Match, true)
			p.Warnings = append(p.Warnings, fc.warnings...)
		}
		if fc.none {
			p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("nexthop domain %s: configured at fingerprint security level, but with no fingerprints to match.", hop.Key))
		}
	case Verify, Secure:
		switch {
		case e != nil && len(e.MatchRaw) > 0:
			p.Match, p.MatchFrom = e.Match, MatchFromEntry
		case p.Level == Verify:
			p.Match, p.MatchFrom = st.verifyMatch, MatchOrigin(st.verifyParam)
		default:
			p.Match, p.MatchFrom = st.secureMatch, MatchOrigin(st.secureParam)
		}
		if e != nil && len(e.TAFiles) > 0 {
			p.TrustAnchorFiles = e.TAFiles
			return
		}
		for _, f := range st.trustAnchors {
			if lerr := v.loadTrustAnchors(f); lerr != nil {
				if msg := lerr.Error(); msg != "" {
					p.Warnings = append(p.Warnings, msg)
				}
				p.invalid(InvalidDSN, InvalidReason)
				return
			}
			p.TrustAnchorFiles = append(p.TrustAnchorFiles, f)
		}
	}
}

// asciiUpper upper-cases ASCII letters only, as Postfix's strcasecmp() compares them.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
