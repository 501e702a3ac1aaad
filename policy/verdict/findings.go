package verdict

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/match"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/tables"
)

func (e *evaluator) diagnose(ctx context.Context) []finding.Finding {
	if e.opt.ChainCache == nil {
		// The proofs re-verify the same chain: share the signature checks.
		e.opt.ChainCache = &SignatureCache{}
	}
	out := e.findings(ctx)
	e.addOrigin(out)
	rank(out)
	return out
}

// findings chooses the findings by the decision's cause.
func (e *evaluator) findings(ctx context.Context) []finding.Finding {
	var out []finding.Finding
	add := func(f *finding.Finding) {
		if f != nil {
			out = append(out, *f)
		}
	}
	d, p := e.d, e.p
	if p.DANE != nil && p.DANE.Problem != "" {
		add(e.findDANEDisabled(ctx))
		if p.Invalid || d.Outcome == OutcomeDeliver {
			return out
		}
	}
	switch d.Cause {
	case CauseInvalidPolicy:
		add(e.findInvalid(ctx))
	case CauseTLSALookup, CauseDANEUnavailable:
		add(e.findDANESkip(ctx))
	case CauseWrapperModeLevel:
		f := &finding.Finding{Code: finding.WrapperMode, Cause: "G-1", Summary: fmt.Sprintf(
			"smtp_tls_wrappermode = yes needs level encrypt or stronger, but %s gets %s: Postfix skips every server of it.", e.hop.Key, d.EffectiveLevel)}
		if fx, ok := e.rowFix(policy.Encrypt, nil, nil, "mandatory TLS for this next hop only, as wrapper mode (port 465) requires"); ok {
			e.offer(ctx, f, fx, nil)
		}
		add(f)
	case CauseNoSTARTTLS:
		f := &finding.Finding{Code: finding.NoSTARTTLS, Cause: "G-4", Summary: fmt.Sprintf(
			"%s does not offer STARTTLS in its EHLO reply, and level %s requires TLS.", e.namaddr, d.EffectiveLevel)}
		f.Details = append(f.Details, "if large providers all appear not to offer STARTTLS, a firewall or proxy on the path may strip it; compare with an EHLO from another network")
		if fx, ok := e.rowFix(policy.May, nil, []string{"match", "tafile", "servername"},
			"only if plaintext delivery to "+e.hop.Key+" is acceptable; add a dated comment and remove it when the server offers STARTTLS again"); ok {
			e.offer(ctx, f, fx, nil)
		}
		add(f)
	case CauseSTARTTLSRefused:
		f := &finding.Finding{Code: finding.STARTTLSRefused, Cause: "G-6", Summary: fmt.Sprintf(
			"%s announced STARTTLS but refused it (%s).", e.namaddr, e.obs.STARTTLSReply)}
		if d.Outcome == OutcomeBounce {
			f.Details = append(f.Details, "a 5xx reply bounces the message at once, even when other MX hosts remain")
		}
		f.Details = append(f.Details, "the refusal is a problem on the receiving server (often a missing or unreadable certificate there); tell its operator")
		add(f)
	case CauseConnect, CauseConversation:
		if e.obs.Port == 465 && !p.WrapperMode && !e.obs.WrapperMode {
			f := &finding.Finding{Code: finding.Port465NoWrapper, Cause: "G-1", Summary: fmt.Sprintf(
				"Port 465 expects TLS from the first byte (SMTPS), but Postfix talks plain SMTP to %s there and waits for a greeting that never comes (%s).", e.namaddr, e.obs.ConnectError)}
			// master.cf is not part of what a proof can change: the line is shown as advice.
			f.Details = append(f.Details, "master.cf: a transport for SMTPS, \"smtps     unix  -       -       n       -       -       smtp -o smtp_tls_wrappermode=yes -o smtp_tls_security_level=encrypt\"; route "+
				e.hop.Key+" through it (transport_maps or relayhost = smtps:"+e.hop.Key+"), or use port 587 with STARTTLS instead")
			add(f)
		}
	case CauseProtocols, CauseCiphers:
		add(e.findSetup(ctx))
	case CauseHandshake:
		if (p.WrapperMode || e.obs.WrapperMode) && e.obs.Port != 465 && e.obs.HandshakeError != "" {
			f := &finding.Finding{Code: finding.WrapperOnSTARTTLSPort, Cause: "G-2", Summary: fmt.Sprintf(
				"smtp_tls_wrappermode = yes starts TLS at once, but %s on port %d speaks plain SMTP first (STARTTLS); the handshake fails (%s).",
				e.namaddr, e.obs.Port, e.obs.HandshakeError)}
			f.Details = append(f.Details, "set smtp_tls_wrappermode = no for the transport that delivers to "+e.hop.Key+" (a master.cf -o override); wrapper mode is for port 465 only")
			add(f)
			break
		}
		add(e.findHandshake())
	case CauseFingerprintMismatch, CauseFingerprintUnusable:
		if d.Evidence.Fingerprint != nil && len(e.obs.Chain) > 0 {
			add(e.findFingerprint(ctx))
		}
	case CauseTLSEngine:
		add(e.findEngine(ctx))
	case CauseTLSProxy:
		add(e.findTLSProxy(ctx))
	case CauseRecipientRejected, CauseSenderRejected, CauseEHLORefused:
		add(e.findRecipient())
	case CauseNone, CauseDNSLookup, CauseAnonymous:
	default:
		if len(e.obs.Chain) == 0 {
			break
		}
		if ev := d.Evidence.DANE; ev != nil && ev.Outcome != "trust-anchor-file" {
			add(e.findTLSA(ctx))
			break
		}
		out = append(out, e.findPKIX(ctx)...)
	}
	return out
}

// findTLSProxy explains connection reuse without the tlsproxy(8) service: add the service
// (keeps reuse), or turn reuse off where it was turned on.
func (e *evaluator) findTLSProxy(ctx context.Context) *finding.Finding {
	p, svc := e.p, e.p.TLSProxyMissing
	f := &finding.Finding{Code: finding.TLSProxyMissing, Cause: "G-3", Summary: fmt.Sprintf(
		"TLS connection reuse is on for %s, so smtp(8) hands each TLS session to tlsproxy(8), but master.cf has no %q service: every TLS handshake fails (%q).",
		e.hop.Key, svc, e.d.Reason)}
	e.offer(ctx, f, finding.Fix{Kind: finding.FixMasterCF, Key: svc, Value: "unix  -       -       n       -       0       tlsproxy",
		Note: "master.cf: the tlsproxy(8) service connection reuse needs; then postfix reload"}, nil)
	var off finding.Fix
	if p.Entry != nil && p.Entry.ConnectionReuse != nil {
		fx, ok := e.rowFix(policy.LevelNotSet, nil, []string{"connection_reuse"}, "turns connection reuse off for this next hop (no tlsproxy needed)")
		if !ok {
			return f
		}
		off = fx
	} else {
		off = finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_connection_reuse", Value: "no",
			Note: "main.cf: turns connection reuse off (no tlsproxy needed)"}
	}
	e.offer(ctx, f, off, nil)
	return f
}

// findEngine explains a TLS engine that did not start: every level above may defers.
func (e *evaluator) findEngine(ctx context.Context) *finding.Finding {
	p := e.p
	f := &finding.Finding{Code: finding.TLSEngineUnavailable, Cause: "A-1", Summary: fmt.Sprintf(
		"Postfix's TLS engine did not start, so every destination that requires TLS defers (%q) and level may sends in plaintext; %s gets %s.", e.d.Reason, e.hop.Key, e.d.EffectiveLevel)}
	for _, l := range p.EngineUnavailable {
		f.Details = append(f.Details, "Postfix logs: "+l)
	}
	all := strings.Join(p.EngineUnavailable, "\n")
	if p.CAFile != "" && (strings.Contains(all, "CAfile") || len(p.EngineUnavailable) == 0) {
		e.offer(ctx, f, caFileFix(fmt.Sprintf("main.cf: smtp_tls_CAfile %s cannot be loaded; the system bundle (Debian/Ubuntu path) can", p.CAFile)), nil)
		if fx, ok := e.chainCAFileFix(); ok {
			e.offer(ctx, f, fx, nil)
		}
	}
	if strings.Contains(all, "digest") {
		e.offer(ctx, f, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_fingerprint_digest", Value: "sha256", Note: "main.cf: a digest this OpenSSL knows"}, nil)
	}
	return f
}

func (e *evaluator) findInvalid(ctx context.Context) *finding.Finding {
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
	stale := strings.Contains(p.Source.Note, "is older than source file") // the row came from a stale compiled file
	if typ, _, ok := strings.Cut(p.Source.Table, ":"); ok && (p.Entry == nil || stale) {
		if _, indexed := tables.CompiledSuffix(typ); indexed {
			// A compiled table that is missing or older than its source: postmap builds it.
			e.offer(ctx, f, finding.Fix{Kind: finding.FixCommand, Value: "postmap " + p.Source.Table,
				Note: "builds the compiled table Postfix reads from its source file; then postfix reload"}, nil)
		}
	}
	if p.Entry != nil && p.Entry.TAFileError != "" && len(e.obs.Chain) > 0 {
		// The row names a trust-anchor file that cannot be loaded: create it with the CA the
		// server sent (the leaf when it sent no CA), rather than drop tafile=.
		ta := e.obs.Chain[len(e.obs.Chain)-1]
		e.offer(ctx, f, finding.Fix{Kind: finding.FixFile, Key: p.Entry.TAFileError, Content: pemOf(ta),
			Note: "creates the trust-anchor file the row names, with " + fingerprint.OneLine(ta.RawSubject) +
				" as the server sent it (confirm it with the server's operator)"}, nil)
	}
	for _, fx := range p.DuplicateFixes() {
		// A key written twice makes texthash: refuse the whole table: delete one row.
		e.offer(ctx, f, fx, nil)
	}
	limit := 2
	if p.Entry != nil && p.Entry.LevelUnknown() {
		// No correction can be told: every candidate level, for the administrator to choose.
		limit = len(policy.CandidateLevels())
		f.Details = append(f.Details, fmt.Sprintf("%q is no misspelling of a level Postfix knows (%s), so the level you meant is unknown: the rows below are candidates, strongest first; choose the one you intended",
			p.Entry.Tokens[0].Text, strings.Join(levelNames(), ", ")))
	}
	for _, fx := range e.corrections() {
		e.offer(ctx, f, fx, nil)
		if len(f.Fixes) >= limit {
			break
		}
	}
	if p.PinsMissing() {
		e.fingerprintWithoutPins(ctx, f)
	}
	return f
}

func (e *evaluator) findDANEDisabled(ctx context.Context) *finding.Finding {
	f := &finding.Finding{Code: finding.DANEDNSSECDisabled, Cause: "D-5",
		Summary: "DANE is configured but cannot work: " + e.p.DANE.Problem + ". dane then behaves like may; dane-only fails."}
	fx := finding.Fix{Kind: finding.FixMainCF, Key: "smtp_dns_support_level", Value: "dnssec",
		Note: "main.cf; it needs a validating resolver (for example a local unbound) in /etc/resolv.conf with \"options trust-ad\" or on a loopback address"}
	if e.prove(ctx, &fx, nil) {
		f.Add(fx)
	} else {
		// DNSSEC lookups were never made: nothing shows that they would validate.
		f.Details = append(f.Details, "not proven: smtp_dns_support_level = dnssec in main.cf ("+fx.Note+"); whether the destination's records validate was not observed")
	}
	return f
}

func (e *evaluator) findDANESkip(ctx context.Context) *finding.Finding {
	d := e.d
	switch {
	case d.Cause == CauseTLSALookup:
		return &finding.Finding{Code: finding.TLSALookup, Cause: "D-4", Summary: fmt.Sprintf(
			"The TLSA lookup for %s failed (%s). Postfix skips this server even at opportunistic dane, because a failing lookup may be an attack.",
			dane.QueryName(strings.TrimSuffix(e.obs.Host, "."), e.obs.Port), e.obs.TLSA.errorText()),
			Details: []string{"check with: dig +dnssec TLSA " + dane.QueryName(strings.TrimSuffix(e.obs.Host, "."), e.obs.Port) +
				" against the resolver Postfix uses and an independent one; a broken signature or a name server that fails TLSA queries is the receiving domain's problem"}}
	case e.p.Level == policy.DaneOnly:
		f := &finding.Finding{Code: finding.DaneOnlyNoDNSSEC, Cause: "D-6", Summary: fmt.Sprintf(
			"%s is configured dane-only, but %s: dane-only defers instead of falling back.", e.hop.Key, d.Reason)}
		if fx, ok := e.rowFix(policy.Dane, nil, nil, "opportunistic DANE: enforced when the domain publishes DANE, TLS without authentication otherwise"); ok {
			e.offer(ctx, f, fx, nil)
		}
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

// findSetup explains a protocol list or cipher setting that tls_client_start() rejects.
func (e *evaluator) findSetup(ctx context.Context) *finding.Finding {
	d := e.d
	if d.Cause == CauseProtocols {
		f := &finding.Finding{Code: finding.InvalidProtocols, Cause: "G-3", Summary: fmt.Sprintf(
			"The protocol list %q is not valid for Postfix %s; Postfix aborts every TLS session to %s (\"Cannot start TLS: handshake failure\").",
			e.p.Protocols, e.v, e.hop.Key)}
		floor := ">=TLSv1.2"
		if e.v.Before(3, 6, 0) {
			floor = "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1"
		}
		if fx, ok := e.rowFix(policy.LevelNotSet, attr("protocols", floor), nil, "a valid protocol floor for Postfix "+e.v.String()); ok {
			e.offer(ctx, f, fx, nil)
		}
		return f
	}
	why := ""
	for _, l := range d.Log {
		if strings.Contains(l, "cipher") { // "invalid cipher grade", "cipher exclusion", ...
			why = strings.TrimPrefix(l, "warning: ")
			break
		}
	}
	f := &finding.Finding{Code: finding.InvalidCiphers, Cause: "G-3", Summary: fmt.Sprintf(
		"The cipher setting for %s cannot be used (%s); Postfix aborts every TLS session to it.", e.hop.Key, why)}
	if fx, ok := e.rowFix(policy.LevelNotSet, attr("ciphers", "high"), []string{"exclude"}, "a valid cipher grade (high, medium, low, export or null; null needs level may)"); ok {
		e.offer(ctx, f, fx, nil)
	}
	return f
}

func (e *evaluator) findHandshake() *finding.Finding {
	d := e.d
	f := &finding.Finding{Code: finding.HandshakeFailure, Cause: "G-3", Summary: fmt.Sprintf(
		"The TLS handshake with %s failed (%s).", e.namaddrport, e.obs.HandshakeError)}
	if d.Outcome == OutcomePlaintextRetry {
		f.Details = append(f.Details, "at level may Postfix retries this server at once without TLS")
	} else if d.EffectiveLevel == policy.May {
		f.Details = append(f.Details, "at level may a new message is deferred; once it is older than minimal_backoff_time Postfix retries in plaintext, unless a SASL password is configured for the server")
	}
	f.Details = append(f.Details, "typical causes: protocol or cipher floor mismatch with an old server, a server that expects TLS at once (port 465), or packet loss on large handshake messages (MTU)")
	return f
}

func (e *evaluator) findFingerprint(ctx context.Context) *finding.Finding {
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
		e.offerPin(ctx, f, val, "the same "+id.Kind.String()+" pinned with the digest Postfix uses")
		return f
	}
	f := &finding.Finding{Code: finding.FingerprintStale, Cause: "D-1", Summary: fmt.Sprintf(
		"No configured pin matches the certificate %s presents: the certificate (or its key) changed, or the pins belong to another server.", e.namaddr)}
	if e.d.Cause == CauseFingerprintUnusable {
		f.Summary = fmt.Sprintf("None of the configured pins for %s is usable (%s), so no certificate can match.", e.hop.Key, e.d.Reason)
	}
	fp, err := fingerprint.Compute(leaf, digest)
	if err != nil {
		return f
	}
	f.Details = append(f.Details, "presented certificate "+digest+" "+fp.CertString(), "presented public key "+digest+" "+fp.PublicKeyString())
	e.offerPin(ctx, f, fp.PublicKeyString(), "pins the current public key (survives renewals that keep the key); confirm it with the server's operator first")
	e.offerPin(ctx, f, fp.CertString(), "pins the current certificate")
	return f
}

// offerPin offers the fingerprint row pinning val (the other attributes kept; tafile= and
// servername= are not fingerprint attributes).
func (e *evaluator) offerPin(ctx context.Context, f *finding.Finding, val, note string) bool {
	fx, ok := e.rowFix(policy.Fingerprint, attr("match", val), []string{"tafile"}, note)
	return ok && e.offer(ctx, f, fx, nil)
}

// leafPin is the public-key pin of the presented certificate, in the digest Postfix would
// compare at level fingerprint for this next hop: the policy's own when it is a fingerprint
// policy, otherwise the one the configuration gives a fingerprint row (smtp_tls_fingerprint_digest,
// whose default depends on the release and the compatibility_level), and the release's
// default when neither can be computed.
func (e *evaluator) leafPin(ctx context.Context) (string, bool) {
	if len(e.obs.Chain) == 0 {
		return "", false
	}
	digest := e.p.FingerprintDigest
	if digest == "" {
		if fx, ok := e.rowFix(policy.Fingerprint, attr("match", "00"), []string{"tafile"}, ""); ok {
			if p2, err := e.p.With(ctx, e.hop, fx); err == nil {
				digest = p2.FingerprintDigest
			}
		}
	}
	if digest == "" {
		// smtp_tls_fingerprint_digest's default: md5 before Postfix 3.6.
		digest = "sha256"
		if e.v.Before(3, 6, 0) {
			digest = "md5"
		}
	}
	fp, err := fingerprint.Compute(e.obs.Chain[0], digest)
	if err != nil {
		return "", false
	}
	return fp.PublicKeyString(), true
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

func (e *evaluator) findTLSA(ctx context.Context) *finding.Finding {
	ev := e.d.Evidence.DANE
	if ev.set == nil || len(e.obs.Chain) == 0 {
		return nil
	}
	base := ev.BaseDomain
	if base == "" {
		base = strings.TrimSuffix(e.obs.Host, ".")
	}
	owner := dane.QueryName(base, e.obs.Port)
	if fe := e.d.Evidence.Error; fe != nil && fe.Num != X509DANENoMatch {
		// A DANE-TA match with a name or date problem: a pin is the sender's way out.
		f := &finding.Finding{Code: finding.TLSAStale, Cause: "D-3", Summary: fmt.Sprintf(
			"A TLSA record at %s names the server's CA, but the chain below it fails: %s.", owner, fe.Text)}
		if pin, ok := e.leafPin(ctx); ok {
			e.offerPin(ctx, f, pin, "pins the server's current public key for this next hop only, until the receiving domain fixes its certificate or records")
		}
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
		rec := fmt.Sprintf("3 %d %d %s", pr.sel, pr.mt, data)
		fx := finding.Fix{Kind: finding.FixDNSRecord, Key: strings.TrimSuffix(owner, ".") + ".", Value: "IN TLSA " + rec, ReceiverSide: true,
			Note: "the record for the key the server presents now; the receiving domain must publish it (keep the old record until caches expire)"}
		obs2 := e.obs
		if obs2.TLSA != nil {
			t := *obs2.TLSA
			t.Records = append(append([]string(nil), t.Records...), rec)
			obs2.TLSA = &t
		}
		e.offer(ctx, f, fx, &obs2)
	}
	if pin, ok := e.leafPin(ctx); ok && e.p.Level == policy.DaneOnly {
		e.offerPin(ctx, f, pin, "for this next hop only, until the receiving domain publishes a matching record: pins the server's current public key")
	}
	return f
}

// findPKIX explains verify/secure failures (and tafile failures).
func (e *evaluator) findPKIX(ctx context.Context) []finding.Finding {
	d, p := e.d, e.p
	var out []finding.Finding
	fe := d.Evidence.Error
	switch d.Cause {
	case CauseNameMismatch:
		return e.findNames(ctx)
	case CauseNoPeerNames:
		f := &finding.Finding{Code: finding.NoNameChecks, Cause: "E-1", Summary: fmt.Sprintf(
			"The match list %q installs no usable name (Postfix logs \"could not configure peer name checks\"), so verification always fails.", strings.Join(p.Match, ":"))}
		if fx, ok := e.rowFix(policy.LevelNotSet, nil, []string{"match"}, "the default match list of the level"); ok {
			e.offer(ctx, f, fx, nil)
		}
		if fx, ok := e.rowFix(policy.LevelNotSet, attr("match", "nexthop:dot-nexthop"), nil, "the default secure match list"); ok {
			e.offer(ctx, f, fx, nil)
		}
		return append(out, *f)
	case CauseUntrustedIssuer, CauseSelfSigned, CauseTLSAMismatch:
		if fe == nil {
			return nil
		}
		return append(out, e.findTrust(ctx, fe)...)
	case CauseExpired, CauseNotYetValid:
		if fe == nil {
			return nil
		}
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
		if pin, ok := e.leafPin(ctx); ok {
			e.offerPin(ctx, f, pin, "temporary exception for this next hop only (pins the current key, ignores dates); remove it once the server has a valid certificate")
		}
		return append(out, *f)
	}
	if fe != nil {
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

// pemOf encodes a certificate as PEM.
func pemOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// tafileFix is the row that trusts ca for this next hop, with the file it needs.
func (e *evaluator) tafileFix(ca *x509.Certificate, suffix, note string) (finding.Fix, bool) {
	name := "/etc/postfix/tls/" + strings.TrimSuffix(e.obs.Host, ".") + suffix
	level := policy.LevelNotSet
	if !e.p.Level.IsPKIX() {
		level = policy.Secure
	}
	fx, ok := e.rowFix(level, attr("tafile", name), nil, note)
	if !ok {
		return fx, false
	}
	fx.Requires = []finding.Fix{{Kind: finding.FixFile, Key: name, Content: pemOf(ca),
		Note: "the trust anchor: " + fingerprint.OneLine(ca.RawSubject) + " (confirm it with the server's operator)"}}
	return fx, true
}

// caFileFix is the main.cf fix that points smtp_tls_CAfile at the system bundle.
func caFileFix(note string) finding.Fix {
	return finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: "/etc/ssl/certs/ca-certificates.crt", Note: note}
}

func (e *evaluator) findTrust(ctx context.Context, fe *ChainError) []finding.Finding {
	p := e.p
	leaf := e.obs.Chain[0]
	nCAs := 0
	if e.opt.Trust != nil {
		nCAs = len(e.opt.Trust.CAs)
	}
	if fe.Num == X509DepthZeroSelfSigned {
		f := &finding.Finding{Code: finding.SelfSigned, Cause: "C-3", Summary: fmt.Sprintf(
			"%s presents a self-signed certificate (%s); no CA vouches for it, so %s cannot pass.", e.namaddr, fe.Subject, p.Level)}
		if pin, ok := e.leafPin(ctx); ok {
			e.offerPin(ctx, f, pin, "pin this server's public key for this next hop only (confirm it with the operator out of band)")
		}
		if e.obs.TLSA != nil && len(e.obs.TLSA.Records) > 0 {
			if fx, ok := e.rowFix(policy.Dane, nil, []string{"match", "tafile", "servername"}, "the domain publishes TLSA records: let DANE authenticate the self-signed certificate"); ok {
				e.offer(ctx, f, fx, nil)
			}
		}
		return []finding.Finding{*f}
	}
	var issuer *x509.Certificate
	for _, c := range e.obs.Chain[1:] {
		if openssl.Issued(leaf, c) {
			issuer = c
		}
	}
	top := e.obs.Chain[len(e.obs.Chain)-1]
	if len(p.TrustAnchorFiles) == 0 && nCAs == 0 {
		f := &finding.Finding{Code: finding.NoCA, Cause: "A-1", Summary: fmt.Sprintf(
			"No CA is trusted: smtp_tls_CAfile and smtp_tls_CApath are empty (or were not loaded), so every certificate is \"untrusted\" at %s — not just %s's (untrusted issuer %s).",
			p.Level, e.obs.Host, fe.Issuer)}
		if t := e.opt.Trust; t != nil {
			if t.UnhashedCAPathFiles > 0 {
				f.Summary = fmt.Sprintf("smtp_tls_CApath %s holds %d files, but none named like OpenSSL's hash links (1a2b3c4d.0), and OpenSSL opens nothing else: no CA is trusted, so %s's chain (untrusted issuer %s) cannot pass at %s.",
					p.CAPath, t.UnhashedCAPathFiles, e.obs.Host, fe.Issuer, p.Level)
				f.Details = append(f.Details, "create the hash links: openssl rehash "+p.CAPath+" (or c_rehash "+p.CAPath+"), then postfix reload")
			}
			f.Details = append(f.Details, t.Notes...)
		}
		e.offerTrust(ctx, f, top)
		return []finding.Finding{*f}
	}
	if !openssl.SelfIssued(leaf) && issuer == nil && fe.Depth == 0 {
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
			f.Details = append(f.Details, "the real fix is on the server: send the full chain; locally, a tafile= holding "+issuerDN+" for this next hop works once you have that certificate")
			if pin, ok := e.leafPin(ctx); ok {
				e.offerPin(ctx, f, pin, "for this next hop only, until the server sends its chain: pins the server's current public key")
			}
			return []finding.Finding{*f}
		}
		f := e.issuerNotTrusted(ctx, fe, nCAs, top)
		f.Details = append(f.Details, "the server sends only its own certificate; if "+issuerDN+" is an intermediate CA, the server omits it and must send the full chain")
		return []finding.Finding{f}
	}
	return []finding.Finding{e.issuerNotTrusted(ctx, fe, nCAs, top)}
}

// offerTrust offers the fixes that make the chain's CA trusted: the system bundle (only
// when it holds the CA, which the proof shows), a trust-anchor file with the top of the
// chain the server sent, and a pin.
func (e *evaluator) offerTrust(ctx context.Context, f *finding.Finding, top *x509.Certificate) {
	if len(e.p.TrustAnchorFiles) == 0 {
		e.offer(ctx, f, caFileFix("main.cf; Debian/Ubuntu/Alpine path (RHEL: /etc/pki/tls/certs/ca-bundle.crt, FreeBSD: /etc/ssl/cert.pem); then postfix reload"), nil)
	}
	if len(e.obs.Chain) > 1 && e.p.Level.IsPKIX() {
		if fx, ok := e.tafileFix(top, "-ca.pem", "for a private CA: trust the CA the server sent for this next hop only"); ok {
			e.offer(ctx, f, fx, nil)
		}
	}
	if pin, ok := e.leafPin(ctx); ok {
		e.offerPin(ctx, f, pin, "for this next hop only: pins the server's current public key (confirm it with the operator out of band)")
	}
}

func (e *evaluator) issuerNotTrusted(ctx context.Context, fe *ChainError, nCAs int, top *x509.Certificate) finding.Finding {
	p := e.p
	f := finding.Finding{Code: finding.IssuerNotTrusted, Cause: "A-2", Summary: fmt.Sprintf(
		"The chain of %s ends at %s, which is not among the %d trusted CAs (smtp_tls_CAfile %q, smtp_tls_CApath %q).",
		e.namaddr, fe.Issuer, nCAs, p.CAFile, p.CAPath)}
	if fe.Num == X509UnableToGetIssuer {
		f.Summary = fmt.Sprintf("The trusted CAs contain %s but not the root above it; OpenSSL (without partial chains) needs the self-signed root too.", fe.Subject)
	}
	if e.opt.Trust != nil {
		f.Details = append(f.Details, e.opt.Trust.Notes...)
	}
	e.offerTrust(ctx, &f, top)
	return f
}

// leafNamesHost reports whether the certificate presented already names the MX host (as
// match=hostname checks it): then asking for that name with SNI cannot bring a better one.
func (e *evaluator) leafNamesHost() bool {
	if len(e.obs.Chain) == 0 || e.obs.Chain[0] == nil {
		return false
	}
	opt := e.matchOptions()
	refs, _ := match.References([]string{"hostname"}, e.hop.Domain, e.obs.Host, opt)
	return !refs.MustFail && match.Check(e.obs.Chain[0], refs, opt).Matched
}

// findNames explains a hostname (or IP address) mismatch at verify or secure.
func (e *evaluator) findNames(ctx context.Context) []finding.Finding {
	p, obs := e.p, e.obs
	me := e.d.Evidence.Match
	if me == nil {
		return nil
	}
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
				if fx, ok := e.rowFix(policy.Secure, attr("match", n), nil, "verify the certificate against its DNS name instead of the address"); ok && e.offer(ctx, &f, fx, nil) {
					break
				}
			}
		}
		return []finding.Finding{f}
	}
	dom := strings.ToLower(e.hop.Domain)
	mxOutside := !strings.HasSuffix(strings.ToLower(host), "."+dom) && !strings.EqualFold(host, dom)
	defaultSecure := p.Level == policy.Secure && sameItems(p.Match, []string{"nexthop", "dot-nexthop"})
	f := finding.Finding{Code: finding.HostnameMismatch, Cause: "B-5"}
	if p.Level == policy.Secure && mxOutside {
		f.Code, f.Cause = finding.SecureNexthopMismatch, "B-1"
		f.Summary = fmt.Sprintf("Level secure with match list %q accepts only certificates for %s and its subdomains (*.%s), but the MX host %s is in another domain and its certificate names %s.",
			strings.Join(p.Match, ":"), dom, dom, host, names)
		if !defaultSecure {
			f.Summary = fmt.Sprintf("Level secure with match list %q accepts only the names %s, but the certificate of the MX host %s names %s.",
				strings.Join(p.Match, ":"), strings.Join(me.References, ", "), host, names)
		}
	} else {
		f.Summary = fmt.Sprintf("The certificate of %s names %s, which matches none of the names level %s checks (%s).",
			e.namaddr, names, p.Level, strings.Join(me.References, ", "))
	}
	// Candidate match lists, each proven by judging the row again.
	var suffixes, exact []string
	for _, n := range me.CertNames {
		ln := strings.ToLower(n)
		switch {
		case strings.HasPrefix(ln, "*.") && strings.Count(ln, ".") >= 2:
			suffixes = append(suffixes, ln[1:])
		case strings.Count(ln, ".") >= 2 && !isIPLiteral(ln):
			suffixes = append(suffixes, ln[strings.Index(ln, "."):])
			exact = append(exact, ln)
		case !strings.HasPrefix(ln, "*") && !isIPLiteral(ln):
			exact = append(exact, ln)
		}
	}
	level := policy.LevelNotSet
	if p.Level != policy.Secure && p.Level != policy.Verify {
		level = policy.Secure
	}
	// A few candidates are enough (a certificate may name hundreds of hosts).
	suffixes, exact = firstN(dedupe(suffixes), 5), firstN(dedupe(exact), 5)
	for _, c := range suffixes {
		fx, ok := e.rowFix(level, attr("match", c), nil, fmt.Sprintf("accepts the certificate of any host under %s (robust when the MX names change) and nothing else", c[1:]))
		if ok && e.offer(ctx, &f, fx, nil) && defaultSecure {
			if fx, ok := e.rowFix(level, attr("match", "nexthop:dot-nexthop:"+c), nil, "the same, keeping the default names"); ok {
				e.offer(ctx, &f, fx, nil)
			}
		}
	}
	if len(f.Fixes) == 0 {
		// One exact-name row is enough: the first certificate name that works.
		for _, c := range exact {
			if fx, ok := e.rowFix(level, attr("match", c), nil, "accepts exactly this certificate name"); ok && e.offer(ctx, &f, fx, nil) {
				break
			}
		}
	}
	if p.Level == policy.Secure {
		if fx, ok := e.rowFix(policy.Verify, attr("match", "hostname"), nil, fmt.Sprintf("checks the MX name %s", host)); ok {
			e.offer(ctx, &f, fx, nil)
		}
	}
	if obs.SNI == "" && p.Level.IsPKIX() && e.v.AtLeast(3, 4, 0) && !e.leafNamesHost() {
		f.Details = append(f.Details, fmt.Sprintf("no SNI was sent; if %s presents the right certificate when asked for %s (openssl s_client -starttls smtp -servername %s), add servername=hostname to the row", host, host, host))
	}
	if t := obs.TLSA; t != nil && len(t.Records) > 0 && t.Error == "" {
		if fx, ok := e.rowFix(policy.Dane, nil, []string{"match", "tafile", "servername"}, "the domain publishes TLSA records: DANE authenticates the MX host without trusting the MX lookup"); ok {
			if !e.offer(ctx, &f, fx, nil) {
				f.Details = append(f.Details, "the domain publishes TLSA records, but they do not match this server now, so level dane would not deliver either")
			}
		}
	}
	if !hasKeptFix(f) {
		// No match list can make this chain pass without giving something up (a
		// certificate with no DNS name and no CN matches none): the sender's authenticated
		// way out is a pin of the observed certificate's key.
		note := "for this next hop only: no match list accepts this certificate, so pin the server's current public key (confirm it with the operator out of band) and ask for a certificate that names " + host
		if pin, ok := e.leafPin(ctx); ok && e.offerPin(ctx, &f, pin, note) && len(me.CertNames) == 0 {
			f.Details = append(f.Details, "the certificate names no host at all (no DNS subjectAltName, no CN): no match list can ever match it")
		}
	}
	return []finding.Finding{f}
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
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

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// hasKeptFix reports whether f has a fix that gives nothing up (no Downgrade label).
func hasKeptFix(f finding.Finding) bool {
	for _, fx := range f.Fixes {
		if !fx.IsDowngrade() {
			return true
		}
	}
	return false
}

// chainCAFileFix points smtp_tls_CAfile at a new file holding the CA at the top of the
// observed chain (so that tls_client_init() loads CA data and the engine starts). OpenSSL
// accepts a chain only up to a self-signed root from the CAfile (Postfix sets no partial
// chains there): when the server sent its root, the file holds it; otherwise the file holds
// the top CA the server sent and the next hop's row also names it as its trust anchor
// (tafile=, where a partial chain is enough). The proof decides whether it delivers.
func (e *evaluator) chainCAFileFix() (finding.Fix, bool) {
	if len(e.obs.Chain) < 2 {
		return finding.Fix{}, false
	}
	top := e.obs.Chain[len(e.obs.Chain)-1]
	if !top.IsCA {
		return finding.Fix{}, false
	}
	name := "/etc/postfix/tls/" + strings.TrimSuffix(e.obs.Host, ".") + "-ca.pem"
	fx := finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: name}
	if openssl.SelfIssued(top) {
		fx.Note = fmt.Sprintf("main.cf: smtp_tls_CAfile %s cannot be loaded; a file with the root CA %s sent restarts the TLS engine (add the other CAs your destinations need, or use your CA bundle if you have one)", e.p.CAFile, e.obs.Host)
		fx.Requires = []finding.Fix{{Kind: finding.FixFile, Key: name, Content: pemOf(top),
			Note: "the root CA: " + fingerprint.OneLine(top.RawSubject) + " (confirm it with the server's operator)"}}
		return fx, true
	}
	row, ok := e.tafileFix(top, "-ca.pem", "trusts the CA the server sent for this next hop only (a CAfile needs the self-signed root, which the server did not send)")
	if !ok {
		return finding.Fix{}, false
	}
	fx.Note = fmt.Sprintf("main.cf: smtp_tls_CAfile %s cannot be loaded; a file with the CA %s sent restarts the TLS engine (replace it with your CA bundle, with its root, if you have one)", e.p.CAFile, e.obs.Host)
	fx.Requires = []finding.Fix{row}
	return fx, true
}

// levelNames are the level names one configures, weakest first.
func levelNames() []string {
	var out []string
	for l := policy.None; l <= policy.Secure; l++ {
		if l != policy.HalfDane {
			out = append(out, l.String())
		}
	}
	return out
}

// fingerprintWithoutPins offers the row that pins the observed certificate's key for a
// fingerprint policy without usable pins (Postfix: "configured at fingerprint security
// level, but with no fingerprints to match", §5). Without an observed chain there is
// nothing to prove a pin with: the finding says how to obtain the fingerprints.
func (e *evaluator) fingerprintWithoutPins(ctx context.Context, f *finding.Finding) {
	f.Summary += " Level fingerprint needs match= with the fingerprints of the server's certificate or public key."
	if pin, ok := e.leafPin(ctx); ok {
		e.offerPin(ctx, f, pin, fmt.Sprintf("pins the public key of the certificate %s presented when checked (observed, not configured: confirm it with the operator out of band)", e.obs.Host))
		return
	}
	digest := e.p.FingerprintDigest
	dest := e.hop.Nexthop
	if dest == "" {
		dest = e.hop.Domain
	}
	f.Details = append(f.Details, fmt.Sprintf(
		"no fix proven: the server's certificate was not observed (Postfix does not connect with this policy). Obtain the fingerprints with: posttls-finger -c -l fingerprint -d %s %s (it logs fingerprint= for the certificate and pkey_fingerprint= for its public key, in the digest Postfix compares), confirm them with the operator, then write the row as %s fingerprint match=<pkey_fingerprint>",
		digest, dest, e.hop.Key))
}
