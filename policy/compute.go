package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// policy computes the TLS policy for one next hop and server host name the way smtp(8)'s
// policy_create() does (smtp_tls_policy.c): global level, table or per-site lookup, DANE
// configuration checks, protocols, SNI, ciphers, match lists and trust anchors.
// host may be empty when the server is not known yet (MX next hops before the MX lookup).
func (v *clientView) policy(ctx context.Context, hop NextHop, host string, tlsNotRequired bool) (Policy, error) {
	st := v.static()
	if st.err != nil {
		return Policy{}, st.err
	}
	p := Policy{Level: st.global, Valid: true, Source: st.globalSrc}
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
	case st.policyMaps != "":
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
		if !p.Valid {
			return p, nil
		}
	}

	// Protocols and SNI from main.cf unless the entry set them.
	e := p.Entry
	if p.Level > None {
		switch {
		case e != nil && e.Protocols != nil:
			p.Protocols = *e.Protocols
		case p.Level == May:
			p.Protocols = st.protoMay
		default:
			p.Protocols = st.protoMand
		}
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
	v.ciphers(st, &p)
	v.matchAndAnchors(st, &p, hop)
	p.CAFile, p.CAPath, p.AppendDefaultCA = st.caFile, st.caPath, st.appendCA
	p.WrapperMode, p.ConnectionReuse, p.EnableRPK = st.wrapper, st.reuse, st.rpk
	if e != nil && e.ConnectionReuse != nil {
		p.ConnectionReuse = *e.ConnectionReuse
	}
	if e != nil && e.EnableRPK != nil {
		p.EnableRPK = *e.EnableRPK
	}
	return p, nil
}

// tableLookup searches smtp_tls_policy_maps with parent-domain recursion for bare domain
// keys (tls_policy_lookup). done is true when the policy is final (invalid).
func (v *clientView) tableLookup(ctx context.Context, st *clientStatic, p *Policy, hop NextHop) (done bool, err error) {
	title := st.policyMapsTitle
	list, err := v.openListValue(ctx, title, st.policyMaps)
	if err != nil {
		return false, err
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
			if errors.As(lerr, &te) {
				msgs = append(msgs, te.Messages...)
			} else {
				msgs = append(msgs, lerr.Error())
			}
			msgs = append(msgs, fmt.Sprintf("%s, next-hop destination \"%s\": policy table lookup error", title, key))
			p.Source = Source{Kind: FromPolicyTable, Key: key}
			p.invalid(InvalidDSN, InvalidReason, msgs...)
			return true, nil
		}
		if !res.Found {
			continue
		}
		p.Warnings = append(p.Warnings, res.Warnings...)
		p.Source = Source{Kind: FromPolicyTable, Table: res.Source.Table, Key: key, File: res.Source.File,
			Line: res.Source.Line, Raw: res.Source.Raw, Note: res.Source.Note}
		e := ParseEntry(res.Value, EntryContext{Version: v.s.version, MapsTitle: title, Key: key,
			LoadTrustAnchors: v.loadTrustAnchors, DisableSTSMXPatterns: !st.enforceSTSMX, SMTPUTF8Disabled: !st.utf8})
		p.Entry = &e
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
	if !pfStrcaseEq(hop.Key, host) && !look(host, "server hostname") {
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
// is parsed or the policy built: an open failure or a file without PEM objects invalidates
// the policy. The returned error's text is Postfix's warning ("" when Postfix logs none).
func (v *clientView) loadTrustAnchors(path string) error {
	name := path
	if !filepath.IsAbs(name) && v.s.opt.Tables.BaseDir != "" {
		name = filepath.Join(v.s.opt.Tables.BaseDir, name)
	}
	fsys, rel := v.s.opt.Tables.FS, strings.TrimPrefix(name, "/")
	if fsys == nil {
		fsys, rel = os.DirFS("/"), strings.TrimPrefix(filepath.Clean(absPath(name)), "/")
	}
	_, err := dane.LoadTrustAnchorFile(context.Background(), fsys, rel)
	if err == nil {
		return nil
	}
	var te *dane.TrustAnchorError
	if errors.As(err, &te) {
		if te.Warning != "" && te.File != path {
			return errors.New(strings.Replace(te.Warning, te.File, path, 1))
		}
		return errors.New(te.Warning)
	}
	return err
}

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

// ciphers is set_cipher_grade(): the grade and the exclusion list for the level.
func (v *clientView) ciphers(st *clientStatic, p *Policy) {
	e := p.Entry
	var mandExcl []string
	also := ""
	switch {
	case p.Level <= None:
		return
	case p.Level == May:
		p.Ciphers = st.ciphMay
	default:
		p.Ciphers = st.ciphMand
		mandExcl = st.mandExclude
		also = "aNULL"
		if p.Level == Encrypt {
			also = "eNULL"
		}
	}
	if e != nil && e.Ciphers != nil {
		p.Ciphers = *e.Ciphers
	}
	if e != nil && e.Exclude != nil {
		p.Exclude = strings.FieldsFunc(*e.Exclude, func(r rune) bool { return isListSep(r) || r == ':' })
	} else {
		p.Exclude = make([]string, 0, len(st.exclude)+len(mandExcl)+1)
		p.Exclude = append(append(p.Exclude, st.exclude...), mandExcl...)
	}
	if also != "" {
		p.Exclude = append(p.Exclude, also)
	}
}

// matchAndAnchors fills the match list, fingerprint digest and trust anchors.
func (v *clientView) matchAndAnchors(st *clientStatic, p *Policy, hop NextHop) {
	e := p.Entry
	switch p.Level {
	case Fingerprint:
		p.FingerprintDigest = st.fpDigest
		if e != nil && len(e.MatchRaw) > 0 {
			p.Match, p.MatchFrom = e.Match, "policy entry"
		} else {
			p.Match, p.MatchFrom = st.fpMatch, st.fpMatchParam
		}
		from := fingerprint.Table
		if p.MatchFrom != "policy entry" {
			from = fingerprint.MainCF
		}
		_, warns, err := fingerprint.ParseList(p.Match, from, fingerprint.Options{ColonsOptional: v.s.version.AtLeast(3, 6, 0)})
		for _, w := range warns {
			p.Warnings = append(p.Warnings, w.Text)
		}
		if errors.Is(err, fingerprint.ErrNoFingerprints) {
			p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("nexthop domain %s: configured at fingerprint security level, but with no fingerprints to match.", hop.Key))
		}
	case Verify, Secure:
		switch {
		case e != nil && len(e.MatchRaw) > 0:
			p.Match, p.MatchFrom = e.Match, "policy entry"
		case p.Level == Verify:
			p.Match, p.MatchFrom = st.verifyMatch, st.verifyParam
		default:
			p.Match, p.MatchFrom = st.secureMatch, st.secureParam
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
