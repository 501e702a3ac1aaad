package verdict

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// Findings returns the findings Evaluate would attach to its Decision, for callers that
// evaluated with NoFindings and want them later.
func Findings(p policy.Policy, hop policy.NextHop, obs Observation, opt EvalOptions) []finding.Finding {
	opt.NoFindings = true
	e := newEvaluator(p, hop, obs, opt)
	e.run()
	return findings(e)
}

// try evaluates an alternative policy for the same observation.
func (e *evaluator) try(p policy.Policy) Decision {
	opt := e.opt
	opt.NoFindings = true
	return Evaluate(p, e.hop, e.obs, opt)
}

func (e *evaluator) row(level policy.Level, attrs ...string) string {
	s := e.hop.Key + " " + level.String()
	for _, a := range attrs {
		if a != "" {
			s += " " + a
		}
	}
	return s
}

func findings(e *evaluator) []finding.Finding {
	if e.opt.ChainCache == nil {
		// Alternatives re-verify the same chain: share the signature checks.
		e.opt.ChainCache = &SignatureCache{}
	}
	var out []finding.Finding
	add := func(f *finding.Finding) {
		if f != nil {
			out = append(out, *f)
		}
	}
	d, p := e.d, e.p
	if p.DANE != nil && p.DANE.Problem != "" {
		add(e.findDANEDisabled())
		if p.Invalid || d.Outcome == OutcomeDeliver {
			return out
		}
	}
	if p.Invalid {
		add(e.findInvalid())
		return out
	}
	if ev := d.Evidence.DANE; ev != nil && !d.Connected && d.Outcome == OutcomeDefer {
		add(e.findDANESkip())
		return out
	}
	if d.Reason == ReasonWrapperModeSkip {
		add(&finding.Finding{Code: finding.WrapperMode, Cause: "G-1", Summary: fmt.Sprintf(
			"smtp_tls_wrappermode = yes needs level encrypt or stronger, but %s gets %s: Postfix skips every server of it.", e.hop.Key, d.EffectiveLevel),
			Fixes:    []string{e.row(policy.Encrypt)},
			FixNotes: []string{"mandatory TLS for this next hop only, as wrapper mode (port 465) requires"}})
		return out
	}
	if strings.HasPrefix(d.Reason, "TLS is required, but was not offered") {
		f := &finding.Finding{Code: finding.NoSTARTTLS, Cause: "G-4", Summary: fmt.Sprintf(
			"%s does not offer STARTTLS in its EHLO reply, and level %s requires TLS.", e.namaddr, d.EffectiveLevel)}
		f.Details = append(f.Details, "if large providers all appear not to offer STARTTLS, a firewall or proxy on the path may strip it (G-5); compare with an EHLO from another network")
		f.AddFix(e.row(policy.May), "only if plaintext delivery to "+e.hop.Key+" is acceptable; add a dated comment and remove it when the server offers STARTTLS again")
		out = append(out, *f)
		return out
	}
	if strings.HasPrefix(d.Reason, "TLS is required, but host") {
		f := &finding.Finding{Code: finding.STARTTLSRefused, Cause: "G-6", Summary: fmt.Sprintf(
			"%s announced STARTTLS but refused it (%s).", e.namaddr, e.obs.STARTTLSReply)}
		if d.Outcome == OutcomeBounce {
			f.Details = append(f.Details, "a 5xx reply bounces the message at once, even when other MX hosts remain")
		}
		f.Details = append(f.Details, "the refusal is a problem on the receiving server (often a missing or unreadable certificate there); tell its operator")
		out = append(out, *f)
		return out
	}
	if e.obs.ConnectError != "" && e.obs.Port == 465 && !p.WrapperMode && !e.obs.WrapperMode {
		f := &finding.Finding{Code: finding.Port465NoWrapper, Cause: "G-1", Summary: fmt.Sprintf(
			"Port 465 expects TLS from the first byte (SMTPS), but Postfix talks plain SMTP to %s there and waits for a greeting that never comes (%s).", e.namaddr, e.obs.ConnectError)}
		f.AddFix("smtps     unix  -       -       n       -       -       smtp -o smtp_tls_wrappermode=yes -o smtp_tls_security_level=encrypt",
			"master.cf: a transport for SMTPS; route "+e.hop.Key+" through it (transport_maps or relayhost = smtps:"+e.hop.Key+"), or use port 587 with STARTTLS instead")
		add(f)
		return out
	}
	if d.Reason == ReasonHandshake {
		if (p.WrapperMode || e.obs.WrapperMode) && e.obs.Port != 465 && e.obs.HandshakeError != "" {
			f := &finding.Finding{Code: finding.WrapperOnSTARTTLSPort, Cause: "G-2", Summary: fmt.Sprintf(
				"smtp_tls_wrappermode = yes starts TLS at once, but %s on port %d speaks plain SMTP first (STARTTLS); the handshake fails (%s).",
				e.namaddr, e.obs.Port, e.obs.HandshakeError)}
			f.AddFix("smtp_tls_wrappermode = no", "for the transport that delivers to "+e.hop.Key+" (a master.cf -o override); wrapper mode is for port 465 only")
			add(f)
			return out
		}
		add(e.findHandshake())
		return out
	}
	if d.TLS && (d.Outcome == OutcomeDefer) {
		switch {
		case d.Evidence.Fingerprint != nil:
			add(e.findFingerprint())
		case d.Evidence.DANE != nil && d.Evidence.DANE.Outcome != "trust-anchor-file":
			add(e.findTLSA())
		default:
			out = append(out, e.findPKIX()...)
		}
	}
	return out
}

func (e *evaluator) findInvalid() *finding.Finding {
	p := e.p
	f := &finding.Finding{Code: finding.InvalidPolicy, Cause: "E-1", Summary: fmt.Sprintf(
		"The TLS policy for %s is invalid, so Postfix does not even connect to %s and defers with %q; it never falls back to the global level.",
		e.hop.Key, e.obs.Host, p.Reason)}
	if s := p.Source.String(); s != "" {
		f.Details = append(f.Details, "policy from "+s)
	}
	for _, w := range p.Warnings {
		f.Details = append(f.Details, "warning: "+w)
		if strings.Contains(w, "invalid attribute name") {
			f.Cause = "E-2"
		}
		if strings.Contains(w, "lookup error") {
			f.Cause = "E-3"
		}
	}
	return f
}

func (e *evaluator) findDANEDisabled() *finding.Finding {
	return &finding.Finding{Code: finding.DANEDNSSECDisabled, Cause: "D-5",
		Summary: "DANE is configured but cannot work: " + e.p.DANE.Problem + ". dane then behaves like may; dane-only fails.",
		Fixes:   []string{"smtp_dns_support_level = dnssec"},
		FixNotes: []string{"main.cf; it needs a validating resolver (for example a local unbound) in /etc/resolv.conf " +
			"with \"options trust-ad\" or on a loopback address"}}
}

func (e *evaluator) findDANESkip() *finding.Finding {
	d := e.d
	switch {
	case strings.HasPrefix(d.Reason, "TLSA lookup error"):
		return &finding.Finding{Code: finding.TLSALookup, Cause: "D-4", Summary: fmt.Sprintf(
			"The TLSA lookup for %s failed (%s). Postfix skips this server even at opportunistic dane, because a failing lookup may be an attack.",
			dane.QueryName(strings.TrimSuffix(e.obs.Host, "."), e.obs.Port), e.obs.TLSA.errorText()),
			Details: []string{"check with: dig +dnssec TLSA " + dane.QueryName(strings.TrimSuffix(e.obs.Host, "."), e.obs.Port) +
				" against the resolver Postfix uses and an independent one; a broken signature or a name server that fails TLSA queries is the receiving domain's problem"}}
	case e.p.Level == policy.DaneOnly:
		f := &finding.Finding{Code: finding.DaneOnlyNoDNSSEC, Cause: "D-6", Summary: fmt.Sprintf(
			"%s is configured dane-only, but %s: dane-only defers instead of falling back.", e.hop.Key, d.Reason)}
		f.AddFix(e.row(policy.Dane), "opportunistic DANE: enforced when the domain publishes DANE, TLS without authentication otherwise")
		return f
	}
	return nil
}

func (o *TLSAObservation) errorText() string {
	if o == nil {
		return ""
	}
	return o.Error
}

func (e *evaluator) findHandshake() *finding.Finding {
	d := e.d
	for _, l := range d.Log {
		switch {
		case strings.Contains(l, "Invalid TLS protocol list"):
			f := &finding.Finding{Code: finding.InvalidProtocols, Cause: "G-3", Summary: fmt.Sprintf(
				"The protocol list %q is not valid for Postfix %s; Postfix aborts every TLS session to %s (\"Cannot start TLS: handshake failure\").",
				e.p.Protocols, e.v, e.hop.Key)}
			f.AddFix(e.row(e.p.Level, "protocols=>=TLSv1.2"), "a valid protocol floor (>= and <= need Postfix 3.6; older releases use \"!SSLv2:!SSLv3:!TLSv1:!TLSv1.1\")")
			return f
		case strings.Contains(l, "cipher grade") || strings.Contains(l, "cipher exclusion"):
			f := &finding.Finding{Code: finding.InvalidCiphers, Cause: "G-3", Summary: fmt.Sprintf(
				"The cipher setting for %s cannot be used (%s); Postfix aborts every TLS session to it.", e.hop.Key, strings.TrimPrefix(l, "warning: "))}
			f.AddFix(e.row(e.p.Level, "ciphers=high"), "a valid cipher grade (high, medium, low, export or null; null needs level may)")
			return f
		}
	}
	f := &finding.Finding{Code: finding.HandshakeFailure, Cause: "G-3", Summary: fmt.Sprintf(
		"The TLS handshake with %s failed (%s).", e.namaddrport, e.obs.HandshakeError)}
	if d.Outcome == OutcomePlaintextRetry {
		f.Details = append(f.Details, "at level may Postfix retries this server at once without TLS (§3.3)")
	} else if d.EffectiveLevel == policy.May {
		f.Details = append(f.Details, "at level may a new message is deferred; once it is older than minimal_backoff_time Postfix retries in plaintext, unless a SASL password is configured for the server (§3.3)")
	}
	f.Details = append(f.Details, "typical causes: protocol or cipher floor mismatch with an old server, a server that expects TLS at once (port 465), or packet loss on large handshake messages (MTU)")
	return f
}

func (e *evaluator) findFingerprint() *finding.Finding {
	ev := e.d.Evidence.Fingerprint
	leaf := e.obs.Chain[0]
	digest := ev.Digest
	for _, id := range ev.Identified {
		if !id.Found || id.Digest == digest {
			continue
		}
		fp, err := fingerprint.Compute(leaf, digest)
		if err != nil {
			continue
		}
		val := fp.CertString()
		if id.Kind == fingerprint.PublicKey {
			val = fp.PublicKeyString()
		}
		f := &finding.Finding{Code: finding.FingerprintDigest, Cause: "D-2", Summary: fmt.Sprintf(
			"The pin %s is the %s fingerprint of %s's %s, but Postfix compares %s fingerprints (smtp_tls_fingerprint_digest = %s); the right value is %s.",
			id.Value, fingerprint.DisplayName(id.Digest), e.obs.Host, kindWords(id.Kind), fingerprint.DisplayName(digest), digest, val)}
		// Only the row: changing smtp_tls_fingerprint_digest would affect every fingerprint
		// entry (a global change), and to a weaker digest.
		f.AddFix(e.row(policy.Fingerprint, "match="+val), "the same "+id.Kind.String()+" pinned with the digest Postfix uses")
		return f
	}
	fp, _ := fingerprint.Compute(leaf, digest)
	f := &finding.Finding{Code: finding.FingerprintStale, Cause: "D-1", Summary: fmt.Sprintf(
		"No configured pin matches the certificate %s presents: the certificate (or its key) changed, or the pins belong to another server.", e.namaddr)}
	f.Details = append(f.Details, "presented certificate "+digest+" "+fp.CertString(), "presented public key "+digest+" "+fp.PublicKeyString())
	f.AddFix(e.row(policy.Fingerprint, "match="+fp.PublicKeyString()), "pins the current public key (survives renewals that keep the key); confirm it with the server's operator first")
	f.AddFix(e.row(policy.Fingerprint, "match="+fp.CertString()), "pins the current certificate")
	return f
}

// tlsaFor computes the TLSA association data for a certificate.
func tlsaFor(c *x509.Certificate, sel, mt uint8) (string, bool) {
	data := c.Raw
	if sel == dane.SelectorSPKI {
		data = c.RawSubjectPublicKeyInfo
	}
	switch mt {
	case dane.MatchFull:
		return hex.EncodeToString(data), true
	case dane.MatchSHA256:
		h := sha256.Sum256(data)
		return hex.EncodeToString(h[:]), true
	case dane.MatchSHA512:
		h := sha512.Sum512(data)
		return hex.EncodeToString(h[:]), true
	}
	return "", false
}

func (e *evaluator) findTLSA() *finding.Finding {
	ev := e.d.Evidence.DANE
	if ev.set == nil || len(e.obs.Chain) == 0 {
		return nil
	}
	base := ev.BaseDomain
	if base == "" {
		base = strings.TrimSuffix(e.obs.Host, ".")
	}
	owner := dane.QueryName(base, e.obs.Port)
	if e.d.Evidence.Error != nil && e.d.Evidence.Error.Num != X509DANENoMatch {
		// A DANE-TA match with a name or date problem.
		f := &finding.Finding{Code: finding.TLSAStale, Cause: "D-3", Summary: fmt.Sprintf(
			"A TLSA record at %s names the server's CA, but the chain below it fails: %s.", owner, e.d.Evidence.Error.Text)}
		return f
	}
	type sm struct{ sel, mt uint8 }
	seen := map[sm]bool{}
	var pairs []sm
	var existing []string
	for _, r := range ev.set.Usable() {
		existing = append(existing, r.PostfixString())
		if r.Usage == dane.UsageDANEEE && !seen[sm{r.Selector, r.MatchingType}] {
			seen[sm{r.Selector, r.MatchingType}] = true
			pairs = append(pairs, sm{r.Selector, r.MatchingType})
		}
	}
	if len(pairs) == 0 {
		pairs = []sm{{dane.SelectorSPKI, dane.MatchSHA256}}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].sel > pairs[j].sel })
	f := &finding.Finding{Code: finding.TLSAStale, Cause: "D-3", Summary: fmt.Sprintf(
		"None of the TLSA records at %s matches the certificate %s presents: the server's key or certificate changed without a matching TLSA record (a rollover done in the wrong order).",
		owner, e.namaddr)}
	for _, x := range existing {
		f.Details = append(f.Details, "published: "+x)
	}
	for _, pr := range pairs {
		data, ok := tlsaFor(e.obs.Chain[0], pr.sel, pr.mt)
		if !ok {
			continue
		}
		f.AddFix(fmt.Sprintf("%s. IN TLSA 3 %d %d %s", strings.TrimSuffix(owner, "."), pr.sel, pr.mt, data),
			"the record for the key the server presents now; the receiving domain must publish it (keep the old record until caches expire)")
	}
	return f
}

// findPKIX explains verify/secure failures (and tafile failures).
func (e *evaluator) findPKIX() []finding.Finding {
	d, p := e.d, e.p
	var out []finding.Finding
	fe := d.Evidence.Error
	leaf := e.obs.Chain[0]
	if fe == nil {
		return nil
	}
	switch fe.Num {
	case X509HostnameMismatch, X509IPMismatch:
		out = append(out, e.findNames()...)
	case X509Unspecified:
		if me := d.Evidence.Match; me != nil && me.refs.MustFail {
			f := &finding.Finding{Code: finding.NoNameChecks, Cause: "E-1", Summary: fmt.Sprintf(
				"The match list %q installs no usable name (Postfix logs \"could not configure peer name checks\"), so verification always fails.", strings.Join(p.Match, ":"))}
			f.AddFix(e.row(p.Level, "match=nexthop:dot-nexthop"), "the default secure match list")
			out = append(out, *f)
		}
	case X509UnableToGetIssuerLocally, X509SelfSignedInChain, X509UnableToGetIssuer, X509DepthZeroSelfSigned:
		out = append(out, e.findTrust(fe)...)
	case X509Expired, X509NotYetValid:
		code, word := finding.Expired, "expired"
		if fe.Num == X509NotYetValid {
			code, word = finding.NotYetValid, "is not yet valid"
		}
		who := "the server's certificate"
		if fe.Depth > 0 {
			who = "the CA certificate " + fe.Subject
		}
		f := &finding.Finding{Code: code, Cause: "C-2", Summary: fmt.Sprintf("%s of %s %s (%s).", upperFirst(who), e.namaddr, word, fe.Detail)}
		if fe.Num == X509NotYetValid {
			f.Details = append(f.Details, "check this machine's clock too")
		}
		if fp, err := fingerprint.Compute(leaf, "sha256"); err == nil && fe.Depth == 0 {
			f.AddFix(e.row(policy.Fingerprint, "match="+fp.PublicKeyString()),
				"temporary exception for this next hop only (pins the current key, ignores dates); remove it once the server has a valid certificate")
		}
		out = append(out, *f)
	default:
		out = append(out, finding.Finding{Code: finding.VerificationFailed, Summary: fmt.Sprintf("Certificate verification for %s failed: num=%d:%s (%s).", e.namaddr, fe.Num, fe.Text, fe.Detail)})
	}
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (e *evaluator) findTrust(fe *ChainError) []finding.Finding {
	p := e.p
	leaf := e.obs.Chain[0]
	var out []finding.Finding
	nCAs := 0
	if e.opt.Trust != nil {
		nCAs = len(e.opt.Trust.CAs)
	}
	if fe.Num == X509DepthZeroSelfSigned {
		f := &finding.Finding{Code: finding.SelfSigned, Cause: "C-3", Summary: fmt.Sprintf(
			"%s presents a self-signed certificate (%s); no CA vouches for it, so %s cannot pass.", e.namaddr, fe.Subject, p.Level)}
		if fp, err := fingerprint.Compute(leaf, "sha256"); err == nil {
			f.AddFix(e.row(policy.Fingerprint, "match="+fp.PublicKeyString()), "pin this server's public key for this next hop only (confirm it with the operator out of band)")
		}
		if e.obs.TLSA != nil && len(e.obs.TLSA.Records) > 0 {
			f.AddFix(e.row(policy.Dane), "the domain publishes TLSA records: let DANE authenticate the self-signed certificate")
		}
		return append(out, *f)
	}
	haveTA := len(p.TrustAnchorFiles) > 0
	sentIssuer := false
	for _, c := range e.obs.Chain[1:] {
		if c != nil && openssl.Issued(leaf, c) {
			sentIssuer = true
		}
	}
	if !haveTA && nCAs == 0 {
		f := &finding.Finding{Code: finding.NoCA, Cause: "A-1", Summary: fmt.Sprintf(
			"No CA is trusted: smtp_tls_CAfile and smtp_tls_CApath are empty (or were not loaded), so every certificate is \"untrusted\" at %s — not just %s's (untrusted issuer %s).",
			p.Level, e.obs.Host, fe.Issuer)}
		f.AddFix("smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt", "main.cf; Debian/Ubuntu/Alpine path (RHEL: /etc/pki/tls/certs/ca-bundle.crt, FreeBSD: /etc/ssl/cert.pem); then postfix reload")
		return append(out, *f)
	}
	if !openssl.SelfIssued(leaf) && !sentIssuer && fe.Depth == 0 {
		issuerDN := fingerprint.OneLine(leaf.RawIssuer)
		likely := len(leaf.IssuingCertificateURL) > 0 || strings.Contains(strings.ToLower(issuerDN), "intermediate")
		if len(e.obs.Chain) > 1 || likely {
			code, sum := finding.MissingIntermediate, fmt.Sprintf(
				"%s sends only its own certificate, without the intermediate CA %s that issued it, and that CA is not among the trusted CAs.", e.namaddr, issuerDN)
			if len(e.obs.Chain) > 1 {
				code, sum = finding.WrongIntermediate, fmt.Sprintf(
					"%s sends CA certificates, but none of them issued its certificate (issuer %s).", e.namaddr, issuerDN)
			}
			f := &finding.Finding{Code: code, Cause: "C-1", Summary: sum}
			if len(leaf.IssuingCertificateURL) > 0 {
				f.Details = append(f.Details, "the issuer certificate can be downloaded from "+strings.Join(leaf.IssuingCertificateURL, ", "))
			}
			f.AddFix(e.row(p.Level, "tafile=/etc/postfix/tls/"+strings.TrimSuffix(e.obs.Host, ".")+"-issuer.pem"),
				"local workaround for this next hop only: a trust-anchor file holding the issuing CA "+issuerDN+"; the real fix is on the server (send the full chain)")
			return append(out, *f)
		}
		f := e.issuerNotTrusted(fe, nCAs)
		f.Details = append(f.Details, "the server sends only its own certificate; if "+issuerDN+" is an intermediate CA, the server omits it (C-1) and must send the full chain")
		return append(out, f)
	}
	return append(out, e.issuerNotTrusted(fe, nCAs))
}

func (e *evaluator) issuerNotTrusted(fe *ChainError, nCAs int) finding.Finding {
	p := e.p
	top := fe.Issuer
	f := finding.Finding{Code: finding.IssuerNotTrusted, Cause: "A-2", Summary: fmt.Sprintf(
		"The chain of %s ends at %s, which is not among the %d trusted CAs (smtp_tls_CAfile %q, smtp_tls_CApath %q).",
		e.namaddr, top, nCAs, p.CAFile, p.CAPath)}
	if fe.Num == X509UnableToGetIssuer {
		f.Summary = fmt.Sprintf("The trusted CAs contain %s but not the root above it; OpenSSL (without partial chains) needs the self-signed root too.", fe.Subject)
	}
	if len(p.TrustAnchorFiles) == 0 {
		f.AddFix("smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt", "main.cf, when the CA is a public one and the configured file is the wrong bundle (for example the server's own chain)")
	}
	f.AddFix(e.row(p.Level, "tafile=/etc/postfix/tls/"+strings.TrimSuffix(e.obs.Host, ".")+"-ca.pem"),
		"for a private CA: trust it for this next hop only, with a trust-anchor file holding "+top)
	return f
}

// findNames explains a hostname (or IP address) mismatch at verify or secure.
func (e *evaluator) findNames() []finding.Finding {
	d, p, obs := e.d, e.p, e.obs
	me := d.Evidence.Match
	if me == nil {
		return nil
	}
	var out []finding.Finding
	host := strings.TrimSuffix(obs.Host, ".")
	names := strings.Join(me.CertNames, ", ")
	if names == "" {
		names = "(no DNS name at all)"
	}
	if isIPLiteral(e.hop.Domain) {
		f := finding.Finding{Code: finding.IPNexthop, Cause: "B-3", Summary: fmt.Sprintf(
			"The next hop %s is an IP address. Postfix %s with OpenSSL 3 checks it as an iPAddress subjectAltName (and default secure can never pass: %q matches no name); the certificate names %s.",
			e.hop.Key, e.v, "."+e.hop.Domain, names)}
		for _, n := range me.CertNames {
			if !strings.HasPrefix(n, "*") && !isIPLiteral(n) {
				f.AddFix(e.row(policy.Secure, "match="+n), "verify the certificate against its DNS name instead of the address")
				break
			}
		}
		return append(out, f)
	}
	dom := strings.ToLower(e.hop.Domain)
	mxOutside := !strings.HasSuffix(strings.ToLower(host), "."+dom) && !strings.EqualFold(host, dom)
	defaultSecure := p.Level == policy.Secure && sameItems(p.Match, []string{"nexthop", "dot-nexthop"})
	verifyOK := false
	if p.Level == policy.Secure {
		alt := p
		alt.Level, alt.Match = policy.Verify, []string{"hostname"}
		verifyOK = e.try(alt).Outcome == OutcomeDeliver
	}
	f := finding.Finding{Code: finding.HostnameMismatch, Cause: "B-5"}
	if p.Level == policy.Secure && mxOutside {
		f.Code, f.Cause = finding.SecureNexthopMismatch, "B-1"
		f.Summary = fmt.Sprintf("Level secure with match list %q accepts only certificates for %s and its subdomains (*.%s), but the MX host %s is in another domain and its certificate names %s.",
			strings.Join(p.Match, ":"), dom, dom, host, names)
		if !defaultSecure {
			f.Summary = fmt.Sprintf("Level secure with match list %q accepts only the names %s, but the certificate of the MX host %s names %s.",
				strings.Join(p.Match, ":"), strings.Join(me.References, ", "), host, names)
		}
		if verifyOK {
			f.Summary += fmt.Sprintf(" Level verify would accept the MX name %s, but only because it trusts the (possibly unsigned) MX lookup.", host)
		}
	} else {
		f.Summary = fmt.Sprintf("The certificate of %s names %s, which matches none of the names level %s checks (%s).",
			e.namaddr, names, p.Level, strings.Join(me.References, ", "))
	}
	// Candidate match lists, checked by re-evaluating.
	var cands []string
	for _, n := range me.CertNames {
		ln := strings.ToLower(n)
		switch {
		case strings.HasPrefix(ln, "*.") && strings.Count(ln, ".") >= 2:
			cands = append(cands, ln[1:])
		case strings.Count(ln, ".") >= 2 && !isIPLiteral(ln):
			cands = append(cands, ln[strings.Index(ln, "."):])
		}
	}
	for _, n := range me.CertNames {
		if !strings.HasPrefix(n, "*") && !isIPLiteral(n) {
			cands = append(cands, strings.ToLower(n))
		}
	}
	for _, c := range cands {
		alt := p
		alt.Level = policy.Secure
		alt.Match = []string{c}
		if e.try(alt).Outcome != OutcomeDeliver {
			continue
		}
		if strings.HasPrefix(c, ".") {
			f.AddFix(e.row(policy.Secure, "match="+c), fmt.Sprintf("accepts the certificate of any host under %s (robust when the MX names change) and nothing else", c[1:]))
			if defaultSecure {
				f.AddFix(e.row(policy.Secure, "match=nexthop:dot-nexthop:"+c), "the same, keeping the default names")
			}
		} else if len(f.Fixes) == 0 || !sameDomainFix(f.Fixes, c) {
			f.AddFix(e.row(policy.Secure, "match="+c), "accepts exactly this certificate name")
		}
	}
	if obs.SNI == "" && p.Level.IsPKIX() && e.v.AtLeast(3, 4, 0) {
		f.Details = append(f.Details, fmt.Sprintf("no SNI was sent; if %s presents the right certificate when asked for %s (openssl s_client -starttls smtp -servername %s), add servername=hostname (B-2)", host, host, host))
		f.AddFix(e.row(p.Level, matchAttr(p), "servername=hostname"), "send SNI, for servers that pick their certificate by name")
	}
	if t := obs.TLSA; t != nil && len(t.Records) > 0 && t.Error == "" {
		alt := p
		alt.Level, alt.Match = policy.Dane, nil
		if alt.DANE == nil {
			alt.DANE = &policy.DANEConfig{InsecureMXPolicy: dane.InsecureMXDane}
		}
		note := "the domain publishes TLSA records: DANE authenticates the MX host without trusting the MX lookup"
		if e.try(alt).Outcome != OutcomeDeliver {
			note += " (but the published records do not match this server now)"
		}
		f.AddFix(e.row(policy.Dane), note)
	}
	return append(out, f)
}

func matchAttr(p policy.Policy) string {
	if p.MatchFrom == policy.MatchFromEntry && len(p.Match) > 0 {
		return "match=" + strings.Join(p.Match, ":")
	}
	return ""
}

func sameDomainFix(fixes []string, name string) bool {
	for _, f := range fixes {
		if strings.HasSuffix(f, "match="+name) {
			return true
		}
	}
	return false
}

func sameItems(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// kindWords names what a fingerprint digests, for a sentence.
func kindWords(k fingerprint.Kind) string {
	if k == fingerprint.PublicKey {
		return "public key"
	}
	return "certificate"
}
