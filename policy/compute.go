package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/postfixtls/postfixtls/policy/tables"
)

// policy computes the TLS policy for one next hop and server host name the way smtp(8)'s
// policy_create() does (smtp_tls_policy.c): global level, table or per-site lookup, DANE
// configuration checks, protocols, SNI, ciphers, match lists and trust anchors.
// host may be empty when the server is not known yet (MX next hops before the MX lookup).
func (v *clientView) policy(ctx context.Context, hop NextHop, host string, tlsNotRequired bool) (Policy, error) {
	global, gsrc, err := v.globalLevel()
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Level: global, Valid: true, Source: gsrc}
	if host == "" {
		host = hop.Domain
	}
	policyMaps, err := v.get("tls_policy_maps")
	if err != nil {
		return Policy{}, err
	}
	perSite, err := v.get("tls_per_site")
	if err != nil {
		return Policy{}, err
	}
	switch {
	case tlsNotRequired:
		wrapper, err := v.boolParam(v.name("tls_wrappermode"))
		if err != nil {
			return Policy{}, err
		}
		p.Source = Source{Kind: FromTLSRequiredHeader}
		limit := May
		if wrapper && v.s.version.AtLeast(3, 10, 6) {
			limit = Encrypt
		}
		if p.Level > limit {
			p.Level = limit
		}
	case policyMaps != "":
		if done, err := v.tableLookup(ctx, &p, hop); err != nil || done {
			return p, err
		}
	case perSite != "":
		if done, err := v.perSiteLookup(ctx, &p, hop, host, global); err != nil || done {
			return p, err
		}
	}
	p.ConfiguredLevel = p.Level

	// DANE configuration checks (dane_init, the parts that need no DNS).
	if p.Level.IsDANE() {
		if err := v.daneConfig(&p, hop); err != nil {
			return Policy{}, err
		}
		if !p.Valid {
			return p, nil
		}
	}

	// Protocols and SNI from main.cf unless the entry set them.
	var e *Entry = p.Entry
	if p.Level > None {
		if e != nil && e.Protocols != nil {
			p.Protocols = *e.Protocols
		} else if p.Level == May {
			p.Protocols, err = v.get("tls_protocols")
		} else {
			p.Protocols, err = v.get("tls_mandatory_protocols")
		}
		if err != nil {
			return Policy{}, err
		}
		if e != nil && e.ServerName != nil {
			p.ServerName = *e.ServerName
		} else {
			sni, err := v.get("tls_servername")
			if err != nil {
				return Policy{}, err
			}
			if sni != "" {
				if ok, _ := pfValidHostname(sni); !ok && sni != ServerNameHostname && sni != ServerNameNexthop {
					p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("%q specifies an invalid hostname", v.name("tls_servername")+" = "+sni))
					return p, nil
				}
			}
			p.ServerName = sni
		}
	}
	if err := v.ciphers(&p); err != nil {
		return Policy{}, err
	}
	if err := v.matchAndAnchors(&p, hop); err != nil {
		return Policy{}, err
	}
	p.CAFile, _ = v.get("tls_CAfile")
	p.CAPath, _ = v.get("tls_CApath")
	p.AppendDefaultCA, _ = v.boolParam("tls_append_default_CA")
	p.WrapperMode, _ = v.boolParam(v.name("tls_wrappermode"))
	if p.ConnectionReuse, err = v.boolParamDefault(v.name("tls_connection_reuse"), false); err != nil {
		return Policy{}, err
	}
	if e != nil && e.ConnectionReuse != nil {
		p.ConnectionReuse = *e.ConnectionReuse
	}
	if p.EnableRPK, err = v.boolParamDefault(v.name("tls_enable_rpk"), false); err != nil {
		return Policy{}, err
	}
	if e != nil && e.EnableRPK != nil {
		p.EnableRPK = *e.EnableRPK
	}
	return p, nil
}

// tableLookup searches smtp_tls_policy_maps with parent-domain recursion for bare domain
// keys (tls_policy_lookup). done is true when the policy is final (invalid).
func (v *clientView) tableLookup(ctx context.Context, p *Policy, hop NextHop) (done bool, err error) {
	title := v.name("tls_policy_maps")
	list, err := v.openList(ctx, title)
	if err != nil {
		return false, err
	}
	utf8, err := v.boolParam("smtputf8_enable")
	if err != nil {
		return false, err
	}
	for _, key := range PolicyKeys(hop.Key, utf8) {
		res, lerr := list.Lookup(ctx, key)
		if lerr != nil {
			var msgs []string
			var te *tables.LookupError
			if errors.As(lerr, &te) {
				msgs = append(msgs, te.Messages...)
			} else {
				msgs = append(msgs, lerr.Error())
			}
			msgs = append(msgs, fmt.Sprintf("%s, next-hop destination %q: policy table lookup error", title, key))
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
			LoadTrustAnchors: v.loadTrustAnchors})
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
	title := v.name("tls_per_site")
	list, err := v.openList(ctx, title)
	if err != nil {
		return false, err
	}
	site := LevelNotSet - 1 // TLS_LEV_NOTFOUND
	var src Source
	look := func(name, class string) bool {
		res, lerr := list.Lookup(ctx, name)
		if lerr != nil {
			p.Source = Source{Kind: FromPerSiteTable, Key: name}
			p.invalid("4.3.0", "Temporary lookup error", fmt.Sprintf("%s: %s %q: per-site table lookup error", title, class, name))
			return false
		}
		if !res.Found {
			return true
		}
		s := Source{Kind: FromPerSiteTable, Table: res.Source.Table, Key: name, File: res.Source.File, Line: res.Source.Line, Raw: res.Source.Raw}
		switch strings.ToUpper(res.Value) {
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
	if !strings.EqualFold(hop.Key, host) && !look(host, "server hostname") {
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

// loadTrustAnchors checks that a tafile can be opened and holds at least one PEM object,
// as Postfix's tls_dane_load_trustfile() does when the entry is parsed.
func (v *clientView) loadTrustAnchors(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("error opening trust anchor file: %s: %s", path, errnoText(err))
	}
	if !strings.Contains(string(data), "-----BEGIN ") {
		return errors.New("")
	}
	return nil
}

// errnoText renders an *os.PathError the way strerror(3) would ("No such file or directory").
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// daneConfig applies dane_init()'s configuration-only checks.
func (v *clientView) daneConfig(p *Policy, hop NextHop) error {
	if hop.Unix {
		p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("%s: the \"dane\" security level is invalid for delivery via unix-domain sockets", hop.Key))
		return nil
	}
	dc := &DANEConfig{}
	p.DANE = dc
	lvl, err := v.get("dns_support_level")
	if err != nil {
		return err
	}
	hl, err := v.get("host_lookup")
	if err != nil {
		return err
	}
	ign, err := v.boolParam("ignore_mx_lookup_error")
	if err != nil {
		return err
	}
	resopt, err := v.get("dns_resolver_options")
	if err != nil {
		return err
	}
	switch {
	case lvl != "dnssec" || !hasWord(hl, "dns"):
		dc.Problem = fmt.Sprintf("%s: %s configured with dnssec lookups disabled", hop.Key, p.Level)
	case v.client == SMTP && ign:
		dc.Problem = fmt.Sprintf("%s: %s configured with MX lookup errors ignored", hop.Key, p.Level)
	case hasWord(resopt, "res_defnames") || hasWord(resopt, "res_dnsrch"):
		dc.Problem = fmt.Sprintf("%s: dns resolver options incompatible with %s TLS", hop.Key, p.Level)
	}
	if v.client == SMTP {
		imx, err := v.get("tls_dane_insecure_mx_policy")
		if err != nil {
			return err
		}
		switch strings.ToLower(imx) {
		case "may", "encrypt", "dane":
			dc.InsecureMXPolicy = strings.ToLower(imx)
		default:
			return fmt.Errorf("%w: invalid %s: %q", ErrConfig, v.name("tls_dane_insecure_mx_policy"), imx)
		}
	}
	dg, _ := v.param("tls_dane_digests")
	dc.Digests = strings.FieldsFunc(dg.Value, func(r rune) bool { return isListSep(r) || r == ':' })
	dc.ForceInsecureHostTLSA, _ = v.boolParam(v.name("tls_force_insecure_host_tlsa_lookup"))
	if dc.Problem != "" {
		p.Warnings = append(p.Warnings, dc.Problem)
		if p.Level == DaneOnly {
			p.invalid(InvalidDSN, InvalidReason)
			return nil
		}
		p.Level = May
	}
	return nil
}

// ciphers is set_cipher_grade(): the grade and the exclusion list for the level.
func (v *clientView) ciphers(p *Policy) error {
	e := p.Entry
	var mandExcl, also string
	var err error
	switch {
	case p.Level <= None:
		return nil
	case p.Level == May:
		if e == nil || e.Ciphers == nil {
			p.Ciphers, err = v.get("tls_ciphers")
		}
	default:
		if e == nil || e.Ciphers == nil {
			p.Ciphers, err = v.get("tls_mandatory_ciphers")
		}
		mandExcl, err = v.get("tls_mandatory_exclude_ciphers")
		also = "aNULL"
		if p.Level == Encrypt {
			also = "eNULL"
		}
	}
	if err != nil {
		return err
	}
	if e != nil && e.Ciphers != nil {
		p.Ciphers = *e.Ciphers
	}
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return isListSep(r) || r == ':' })
	}
	if e != nil && e.Exclude != nil {
		p.Exclude = split(*e.Exclude)
	} else {
		ex, err := v.get("tls_exclude_ciphers")
		if err != nil {
			return err
		}
		p.Exclude = append(split(ex), split(mandExcl)...)
	}
	if also != "" {
		p.Exclude = append(p.Exclude, also)
	}
	return nil
}

// matchAndAnchors fills the match list, fingerprint digest and trust anchors.
func (v *clientView) matchAndAnchors(p *Policy, hop NextHop) error {
	e := p.Entry
	switch p.Level {
	case Fingerprint:
		d, err := v.get("tls_fingerprint_digest")
		if err != nil {
			return err
		}
		p.FingerprintDigest = d
		if e != nil && len(e.MatchRaw) > 0 {
			p.Match, p.MatchFrom = e.Match, "policy entry"
		} else {
			m, err := v.get("tls_fingerprint_cert_match")
			if err != nil {
				return err
			}
			p.Match = strings.FieldsFunc(m, isListSep)
			p.MatchFrom = v.name("tls_fingerprint_cert_match")
		}
		if !anyFingerprint(p.Match, v.s.version) {
			p.invalid(InvalidDSN, InvalidReason, fmt.Sprintf("nexthop domain %s: configured at fingerprint security level, but with no fingerprints to match.", hop.Key))
		}
	case Verify, Secure:
		if e != nil && len(e.MatchRaw) > 0 {
			p.Match, p.MatchFrom = e.Match, "policy entry"
		} else {
			param := v.name("tls_verify_cert_match")
			if p.Level == Secure {
				param = v.name("tls_secure_cert_match")
			}
			m, err := v.param(param)
			if err != nil {
				return err
			}
			if m.Value == "" {
				return fmt.Errorf("%w: bad parameter value: %s = ", ErrConfig, param)
			}
			p.Match = strings.FieldsFunc(m.Value, func(r rune) bool { return isListSep(r) || r == ':' })
			p.MatchFrom = param
		}
		if e != nil && len(e.TAFiles) > 0 {
			p.TrustAnchorFiles = e.TAFiles
		} else {
			ta, err := v.get("tls_trust_anchor_file")
			if err != nil {
				return err
			}
			for _, f := range strings.FieldsFunc(ta, isListSep) {
				if lerr := v.loadTrustAnchors(f); lerr != nil {
					if msg := lerr.Error(); msg != "" {
						p.Warnings = append(p.Warnings, msg)
					}
					p.invalid(InvalidDSN, InvalidReason)
					return nil
				}
				p.TrustAnchorFiles = append(p.TrustAnchorFiles, f)
			}
		}
	}
	return nil
}

// anyFingerprint reports whether at least one value decodes as a fingerprint the way the
// emulated release reads them (3.6+: hex pairs with optional single colons; earlier:
// colon-separated pairs). Wrong-length values still count: they fail only at handshake.
func anyFingerprint(values []string, ver Version) bool {
	for _, val := range values {
		if ver.AtLeast(3, 6, 0) {
			if pfHexDecodeColon(val) {
				return true
			}
			continue
		}
		if val != "" {
			return true
		}
	}
	return false
}
