package verdict

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/policy"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/match"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// Outcome is what one delivery attempt to one server ends in.
type Outcome string

// The outcomes of Evaluate.
const (
	// OutcomeDeliver: the message is delivered over this connection (with TLS, or in
	// plaintext where the level allows it).
	OutcomeDeliver Outcome = "deliver"
	// OutcomeDefer: this server failed with a 4xx reason; Postfix tries the next server
	// and defers the message with this reason when none is left.
	OutcomeDefer Outcome = "defer"
	// OutcomePlaintextRetry: TLS failed at level may and §3.3 allows an immediate retry of
	// the same server without TLS (which then delivers in plaintext).
	OutcomePlaintextRetry Outcome = "plaintext-retry"
	// OutcomeBounce: a 5xx reply (to STARTTLS) returns the message to the sender at once.
	OutcomeBounce Outcome = "bounce"
)

// TrustWord is the word Postfix's TLS summary line starts with ("Trusted TLS connection
// established to …", §3.4); "" when no TLS session was made.
type TrustWord string

// The words Postfix's TLS summary line starts with (§3.4).
const (
	TrustAnonymous TrustWord = "Anonymous"
	TrustUntrusted TrustWord = "Untrusted"
	TrustTrusted   TrustWord = "Trusted"
	TrustVerified  TrustWord = "Verified"
)

// Reasons Postfix puts into status=... (§3.2).
const (
	ReasonNotVerified     = "Server certificate not verified"
	ReasonNotTrusted      = "Server certificate not trusted"
	ReasonHandshake       = "Cannot start TLS: handshake failure"
	ReasonEngine          = "TLS is required, but our TLS engine is unavailable"
	ReasonWrapperModeSkip = "server unavailable or unable to receive mail"
)

// EvalOptions are what Evaluate needs besides the policy and the observation.
type EvalOptions struct {
	// Version, when not zero, overrides the release emulated (Policy.Release, else
	// Latest()): for judging an observation as another release would (maillog, tests).
	Version policy.Version
	// Now is the time certificates are checked at (zero: time.Now()).
	Now time.Time
	// Trust is the loaded trust material (LoadTrust). Nil means no CA and no trust anchor
	// file was loaded, which is what Postfix has when smtp_tls_CAfile and smtp_tls_CApath
	// are empty.
	Trust *Trust
	// TLSEngineUnavailable reports that Postfix's TLS initialisation failed (for example
	// LoadTrust returned ErrCAFile): may runs in plaintext, stronger levels fail. Callers that
	// read the CA files from the policy set it when Policy.EngineUnavailable is not empty.
	TLSEngineUnavailable bool
	// NoFindings skips the Findings (Evaluate then does no extra evaluations).
	NoFindings bool
	// SystemRoots are the roots tls_append_default_CA adds, for proving a fix that changes
	// the CA settings (see Diagnose); nil means none.
	SystemRoots []*x509.Certificate
	// SigCache, when set, memoises DANE signature checks across calls; ChainCache does the
	// same for PKIX chain verification.
	SigCache   *dane.SigCache
	ChainCache *SignatureCache
	// SoftBounce is soft_bounce = yes: a 5xx reply to the recipient probe defers (4.x.x)
	// instead of bouncing.
	SoftBounce bool
}

// Decision is Postfix's verdict on one connection attempt, with its evidence.
type Decision struct {
	// Host, Addr and Port name the server.
	Host string `json:"host"`
	Addr string `json:"addr,omitempty"`
	Port int    `json:"port"`
	// Level is the policy's level and EffectiveLevel the one used after the DNS-dependent
	// DANE adjustments (dane may become may, encrypt or halfdane).
	Level          policy.Level `json:"level"`
	EffectiveLevel policy.Level `json:"effective_level"`
	// Outcome, DSN and Reason are the attempt's result: Reason is the text Postfix puts in
	// status=deferred (...) (empty when delivered).
	Outcome Outcome    `json:"outcome"`
	DSN     policy.DSN `json:"dsn"`
	Reason  string     `json:"reason,omitempty"`
	// Cause is the rule that failed or skipped the server, the same in every release
	// (CauseNone when it delivered); findings are chosen by it.
	Cause Cause `json:"cause,omitempty"`
	// Connected is false when Postfix does not even connect (invalid policy, TLSA lookup
	// error, dane-only failures, wrapper mode below encrypt): relay=none.
	Connected bool `json:"connected"`
	// Relay is what Postfix's status line shows: "host[addr]:port", or "none".
	Relay string `json:"relay"`
	// TLS reports a TLS session; Trust is the word Postfix's summary line starts with for
	// the emulated version ("" without TLS).
	TLS   bool      `json:"tls"`
	Trust TrustWord `json:"trust,omitempty"`
	// Throttle reports that the failure throttles the destination (§3.2).
	Throttle bool `json:"throttle,omitempty"`
	// Rule cites the rule of postfix-semantics.md that decided.
	Rule string `json:"rule"`
	// Log holds the lines Postfix logs for this attempt (with smtp_tls_loglevel = 1), without
	// the "postfix/smtp[pid]: " prefix and without the final status line.
	Log []string `json:"log,omitempty"`
	// Evidence is what the decision was based on.
	Evidence Evidence `json:"evidence"`
	// Notes record where this emulation may differ from Postfix with OpenSSL.
	Notes []string `json:"notes,omitempty"`
	// Findings explain a failure (or a risk) and propose fixes, narrowest first.
	Findings []finding.Finding `json:"findings,omitempty"`
	// Recipient says what is known of the recipient: the server's replies to MAIL FROM and
	// RCPT TO when the observation has a recipient probe and the TLS part delivers, else
	// why the recipient was not tested.
	Recipient RecipientStatus `json:"recipient"`
}

// Evidence is what a Decision rests on.
type Evidence struct {
	// DANE is the DNS-dependent DANE decision and the TLSA verification (DANE levels, and
	// trust-anchor files at verify/secure).
	DANE *DANEEvidence `json:"dane,omitempty"`
	// Chain is the PKIX chain verification against the CAs.
	Chain *ChainResult `json:"chain,omitempty"`
	// Error is the verification error Postfix reports ("certificate verification failed
	// for ..."); nil when none.
	Error *ChainError `json:"error,omitempty"`
	// Match is the peer name check (verify, secure, DANE-TA).
	Match *MatchEvidence `json:"match,omitempty"`
	// Fingerprint is the fingerprint check.
	Fingerprint *FingerprintEvidence `json:"fingerprint,omitempty"`
}

// MatchEvidence is the name check in words.
type MatchEvidence struct {
	// Items is the match list as configured, References the names Postfix installs.
	Items      []string `json:"items"`
	References []string `json:"references"`
	// CertNames are the certificate names Postfix compares; CertNote says why the CN does or
	// does not count.
	CertNames []string `json:"cert_names"`
	CertNote  string   `json:"cert_note,omitempty"`
	// Matched, MatchedName and Error are the result; Summary says it in a sentence.
	Matched     bool        `json:"matched"`
	MatchedName string      `json:"matched_name,omitempty"`
	Error       string      `json:"error,omitempty"`
	Summary     string      `json:"summary"`
	Tries       []match.Try `json:"tries,omitempty"`

	refs   match.RefList
	result match.Result
}

// FingerprintEvidence is the fingerprint check in words.
type FingerprintEvidence struct {
	Digest       string   `json:"digest"`
	Certificate  string   `json:"certificate"`
	PublicKey    string   `json:"public_key"`
	Matched      bool     `json:"matched"`
	MatchedValue string   `json:"matched_value,omitempty"`
	Unusable     []string `json:"unusable,omitempty"`
	Error        string   `json:"error,omitempty"`
	Summary      string   `json:"summary"`
	// Identified says, on a mismatch, what each configured value is.
	Identified []fingerprint.Identification `json:"identified,omitempty"`

	result fingerprint.Result
}

// DANEEvidence is the DANE part of a decision.
type DANEEvidence struct {
	// Outcome is dane.Decide's outcome ("dane", "halfdane", "may", "encrypt", "defer"), with
	// Postfix's Reason, the Rule and an Explanation.
	Outcome     string `json:"outcome"`
	Reason      string `json:"reason,omitempty"`
	Rule        string `json:"rule,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	// BaseDomain is the TLSA base domain and Names the DANE-TA reference names.
	BaseDomain string   `json:"base_domain,omitempty"`
	Names      []string `json:"names,omitempty"`
	// Records reports each record: status, whether it matched, and why not.
	Records []RecordEvidence `json:"records,omitempty"`
	// Verified, Fallback and Error are the verification result.
	Verified bool   `json:"verified"`
	Fallback bool   `json:"fallback,omitempty"`
	Error    string `json:"error,omitempty"`
	Matched  string `json:"matched,omitempty"`

	set    *dane.RecordSet
	result *dane.Result
}

// RecordEvidence is one TLSA (or trust-anchor) record and what happened to it.
type RecordEvidence struct {
	Record  string `json:"record"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Matched bool   `json:"matched,omitempty"`
	Note    string `json:"note,omitempty"`
}

type evaluator struct {
	p           policy.Policy
	hop         policy.NextHop
	obs         Observation
	opt         EvalOptions
	v           policy.Version
	now         time.Time
	d           *Decision
	namaddr     string
	namaddrport string
}

// Evaluate judges one connection attempt as the emulated Postfix version would: the DANE
// adjustments that depend on DNS (§6.1), the STARTTLS dialogue (§3.2), local TLS setup
// errors and handshake failures with the plaintext fallback rule (§3.3), and the
// verification the level requires (§4-§6): fingerprints, DANE TLSA records, or the PKIX
// chain against exactly the configured CAs followed by the peer-name check. The Decision
// carries the trust word Postfix logs, the outcome, DSN, reason, log lines and evidence.
//
// Evaluate does no I/O: the CAs and trust-anchor files come in opt.Trust (see LoadTrust).
// It is safe to call concurrently; the same Observation may be judged under many policies
// and versions.
//
// p is judged as given: the zero Policy is level none, which Postfix delivers in
// plaintext. Judge only a policy that policy.Settings computed without error (PolicyFor and
// Resolve return an invalid Policy beside every error, which defers).
func Evaluate(p policy.Policy, hop policy.NextHop, obs Observation, opt EvalOptions) Decision {
	e := newEvaluator(p, hop, obs, opt)
	e.run()
	if e.d.Outcome == OutcomeDeliver {
		// The TLS part delivers: now the replies to MAIL FROM and RCPT TO decide.
		e.recipient()
	} else if e.d.Outcome == OutcomePlaintextRetry {
		e.d.Recipient = RecipientStatus{Check: RecipientNotTested, Note: notePlaintextRetry}
	} else if e.d.Recipient.Check == "" {
		e.d.Recipient = RecipientStatus{Check: RecipientNotTested, Note: noteNotReached}
	}
	e.d.Relay = "none"
	if e.d.Connected {
		e.d.Relay = e.namaddrport
	}
	daneInert := p.DANE != nil && p.DANE.Problem != ""
	if !opt.NoFindings && (e.d.Outcome != OutcomeDeliver || daneInert) {
		e.d.Findings = e.diagnose(context.Background())
	}
	return *e.d
}

func newEvaluator(p policy.Policy, hop policy.NextHop, obs Observation, opt EvalOptions) *evaluator {
	v := opt.Version
	if v.IsZero() {
		v = p.Release.OrLatest()
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	port := obs.Port
	if port == 0 {
		port = hop.Port
	}
	if port == 0 {
		port = 25
	}
	obs.Port = port
	if len(obs.Chain) > 0 {
		// Drop nil entries a caller may leave in a hand-filled chain.
		compact := make(Chain, 0, len(obs.Chain))
		for _, c := range obs.Chain {
			if c != nil {
				compact = append(compact, c)
			}
		}
		obs.Chain = compact
	}
	if obs.Host == "" {
		obs.Host = hop.Domain
	}
	if p.Level == policy.LevelNotSet && !p.Invalid {
		// An empty level is Postfix's "none".
		p.Level = policy.None
	}
	d := &Decision{Host: obs.Host, Addr: obs.Addr, Port: port, Level: p.Level, EffectiveLevel: p.Level, Connected: true}
	e := &evaluator{p: p, hop: hop, obs: obs, opt: opt, v: v, now: now, d: d}
	e.namaddr = obs.namaddr()
	e.namaddrport = e.namaddr + ":" + strconv.Itoa(port)
	return e
}

func (e *evaluator) log(lines ...string) { e.d.Log = append(e.d.Log, lines...) }

func (e *evaluator) warn(lines ...string) {
	for _, l := range lines {
		e.d.Log = append(e.d.Log, "warning: "+l)
	}
}

func (e *evaluator) fail(o Outcome, dsn policy.DSN, reason, rule string, cause Cause) {
	e.d.Outcome, e.d.DSN, e.d.Reason, e.d.Rule, e.d.Cause = o, dsn, reason, rule, cause
}

// skip is a server that Postfix does not connect to (relay=none).
func (e *evaluator) skip(dsn policy.DSN, reason, rule string, cause Cause) {
	e.d.Connected = false
	e.d.Throttle = true
	e.fail(OutcomeDefer, dsn, reason, rule, cause)
}

func (e *evaluator) deliver(rule string) {
	e.d.Outcome, e.d.DSN, e.d.Reason, e.d.Rule, e.d.Cause = OutcomeDeliver, "2.0.0", "", rule, CauseNone
}

func (e *evaluator) run() {
	p, obs, d := e.p, e.obs, e.d
	if obs.LookupError != "" {
		dsn, o := policy.DSN("4.4.3"), OutcomeDefer
		if obs.LookupPermanent {
			dsn, o = "5.4.4", OutcomeBounce
		}
		if obs.LookupDSN != "" {
			dsn = obs.LookupDSN
		}
		if obs.LookupWarning != "" {
			e.warn(obs.LookupWarning)
		}
		e.d.Connected = false
		e.fail(o, dsn, obs.LookupError, "§6.2 DNS lookup failure", CauseDNSLookup)
		return
	}
	if p.Invalid {
		e.warn(p.Warnings...)
		reason, dsn := p.Reason, p.DSN
		if reason == "" {
			reason = policy.InvalidReason
		}
		if dsn == "" {
			dsn = policy.InvalidDSN
		}
		e.warn(fmt.Sprintf("TLS policy lookup for %s/%s: %s", e.hop.Key, obs.Host, reason))
		e.skip(dsn, reason, "§1.4", CauseInvalidPolicy)
		return
	}
	for _, w := range p.Warnings {
		e.warn(w)
	}
	if p.Level.IsDANE() && (p.DANE == nil || p.DANE.Problem == "") {
		if !e.daneDecide() {
			return
		}
	}
	level := d.EffectiveLevel
	if p.WrapperMode && level < policy.Encrypt && level > policy.None {
		e.warn(`smtp_tls_wrappermode requires "smtp_tls_security_level = encrypt" (or stronger)`)
		e.skip("4.3.0", ReasonWrapperModeSkip, "§2.4 wrappermode", CauseWrapperModeLevel)
		return
	}
	if obs.ConnectError != "" {
		// "connect to host[addr]:port: ..." never reached the server (4.4.1, relay=none);
		// a lost or timed-out conversation did (4.4.2).
		if strings.HasPrefix(obs.ConnectError, "connect to ") {
			e.d.Connected = false
			e.fail(OutcomeDefer, "4.4.1", obs.ConnectError, "§3.2 connection failure", CauseConnect)
			return
		}
		e.fail(OutcomeDefer, "4.4.2", obs.ConnectError, "§3.2 conversation failure", CauseConversation)
		return
	}
	if level == policy.None {
		e.deliver("§3.1 level none: no TLS")
		return
	}
	if e.opt.TLSEngineUnavailable {
		if level == policy.May {
			e.deliver("§2.4 item 5: TLS engine unavailable, may runs in plaintext")
			return
		}
		d.Throttle = true
		e.fail(OutcomeDefer, "4.7.5", ReasonEngine, "§2.4 item 5", CauseTLSEngine)
		return
	}
	if !p.WrapperMode && !obs.WrapperMode {
		if !obs.STARTTLSOffered {
			if level == policy.May {
				e.deliver("§3.1 may: STARTTLS not offered, plaintext")
				return
			}
			d.Throttle = true
			e.fail(OutcomeDefer, "4.7.4", "TLS is required, but was not offered by host "+e.namaddr, "§3.2 STARTTLS not offered", CauseNoSTARTTLS)
			return
		}
		if r := obs.STARTTLSReply; r != nil && (r.Code < 200 || r.Code > 299) {
			if level == policy.May {
				e.deliver("§3.2 may: STARTTLS refused, plaintext")
				return
			}
			dsn := policy.DSN(r.DSN)
			if dsn == "" {
				dsn = policy.DSN(fmt.Sprintf("%d.0.0", r.Code/100))
			}
			d.Throttle = true
			reason := "TLS is required, but host " + e.namaddr + " refused to start TLS: " + r.String()
			if r.Code >= 500 {
				e.fail(OutcomeBounce, dsn, reason, "§3.2 STARTTLS refused with 5xx", CauseSTARTTLSRefused)
				return
			}
			e.fail(OutcomeDefer, dsn, reason, "§3.2 STARTTLS refused", CauseSTARTTLSRefused)
			return
		}
	}
	if svc := e.p.TLSProxyMissing; svc != "" {
		// With connection reuse smtp(8) passes the connection to tlsproxy(8), which does
		// the handshake; without the service that fails before any TLS byte is sent.
		e.warn("connect to private/" + svc + " service: No such file or directory")
		e.handshakeFailure(level, "tlsproxy(8) unavailable for connection reuse", CauseTLSProxy)
		return
	}
	// Local TLS setup (tls_client_start): protocols, then ciphers, with the handshake
	// settings of the level the policy became.
	setup := e.setup(level)
	e.warn(e.prefixed(setup.Warnings)...)
	if setup.Abort != "" {
		e.warn(e.namaddrport + ": " + setup.Abort)
		cause := CauseCiphers
		if setup.AbortProtocols {
			cause = CauseProtocols
		}
		e.handshakeFailure(level, "§7 local TLS setup error", cause)
		return
	}
	if setup.ConnectError != "" && obs.HandshakeError == "" {
		obs.HandshakeError = setup.ConnectError
	}
	if obs.HandshakeError != "" {
		e.log(fmt.Sprintf("SSL_connect error to %s: -1", e.namaddrport))
		e.d.Notes = append(e.d.Notes, "handshake error as observed: "+obs.HandshakeError)
		e.handshakeFailure(level, "§3.2 handshake failure", CauseHandshake)
		return
	}
	d.TLS = true
	e.verify(level)
}

// HandshakePolicy is what dane_init() decides before Postfix connects (§6.1), for a caller
// that makes the connection itself (smtpclient.Check): the policy at the level the
// destination's DNS leaves — a dane policy without usable TLSA records becomes may or
// encrypt, with the protocols and ciphers of that level ([policy.Policy.AtLevel]) — and
// connect false when Postfix would not connect at all (Evaluate then reports why). It
// applies the same rule Evaluate applies, so the handshake and the verdict cannot
// disagree. Policies of other levels are returned as they are.
func HandshakePolicy(p policy.Policy, hop policy.NextHop, obs Observation, opt EvalOptions) (hs policy.Policy, connect bool) {
	if p.Invalid || !p.Level.IsDANE() || (p.DANE != nil && p.DANE.Problem != "") {
		return p, true
	}
	e := newEvaluator(p, hop, obs, opt)
	if !e.daneDecide() {
		return p, false
	}
	return p.AtLevel(e.d.EffectiveLevel), true
}

// daneDecide applies dane.Decide; it returns false when the host is skipped.
func (e *evaluator) daneDecide() bool {
	p, obs := e.p, e.obs
	in := dane.DecideInput{
		DaneOnly: p.Level == policy.DaneOnly, HaveMX: obs.HaveMX, MXSecure: obs.MXSecure,
		Options: e.daneOptions(), Host: obs.Host, Port: obs.Port,
	}
	if p.DANE != nil {
		in.InsecureMXPolicy = p.DANE.InsecureMXPolicy
	}
	force := p.DANE != nil && p.DANE.ForceInsecureHostTLSA
	if t := obs.TLSA; t != nil && !obs.AddrSecure && !force {
		e.d.Notes = append(e.d.Notes, "TLSA data ignored: the address lookup of "+obs.Host+
			" was not DNSSEC-validated, so Postfix makes no TLSA query (smtp_tls_force_insecure_host_tlsa_lookup = no)")
		in.TLSA = &dane.TLSAResult{Skipped: true, Why: "the host's address records are not DNSSEC-validated"}
	} else if t != nil {
		recs, bad := t.records()
		for _, b := range bad {
			e.d.Notes = append(e.d.Notes, "unreadable TLSA record in the observation: "+b)
		}
		if t.Error != "" {
			in.TLSAErr = &dane.TLSAError{Host: strings.TrimSuffix(obs.Host, "."), Port: obs.Port, Err: errors.New(t.Error)}
			in.TLSA = &dane.TLSAResult{Warnings: []string{"DANE TLSA lookup problem: " + t.Error}}
		} else {
			base := t.BaseDomain
			if base == "" {
				base = strings.TrimSuffix(obs.Host, ".")
			}
			q := t.QName
			if q == "" {
				q = dane.QueryName(base, obs.Port)
			}
			r := t.RName
			if r == "" {
				r = q
			}
			in.TLSA = &dane.TLSAResult{BaseDomain: base, QName: q, RName: r, Records: recs}
			if len(recs) == 0 {
				in.TLSA.Why = "no validated TLSA records at " + q
			}
		}
	} else if in.TLSA == nil {
		in.TLSA = &dane.TLSAResult{Skipped: true, Why: "no TLSA lookup (the address lookup was not DNSSEC-validated, or none was observed)"}
	}
	dd := dane.Decide(in)
	ev := &DANEEvidence{Outcome: dd.Outcome.String(), Reason: dd.Reason, Rule: dd.Rule, Explanation: dd.Explanation, set: dd.Records}
	if in.TLSA != nil {
		ev.BaseDomain = in.TLSA.BaseDomain
	}
	e.d.Evidence.DANE = ev
	e.warn(dd.Warnings...)
	switch dd.Outcome {
	case dane.OutcomeDefer:
		e.warn(fmt.Sprintf("TLS policy lookup for %s/%s: %s", e.hop.Key, obs.Host, dd.Reason))
		cause := CauseDANEUnavailable
		if in.TLSAErr != nil {
			cause = CauseTLSALookup
		}
		e.skip("4.7.5", dd.Reason, dd.Rule, cause)
		return false
	case dane.OutcomeMay:
		e.d.EffectiveLevel = policy.May
	case dane.OutcomeEncrypt:
		e.d.EffectiveLevel = policy.Encrypt
	case dane.OutcomeHalfDane:
		e.d.EffectiveLevel = policy.HalfDane
	case dane.OutcomeDane:
		e.d.EffectiveLevel = p.Level
	default:
		e.d.EffectiveLevel = policy.May
	}
	return true
}

func (e *evaluator) daneOptions() dane.Options {
	o := dane.Options{PreOpenSSLDANE: e.v.Before(3, 6, 0), NamAddrPort: e.namaddrport}
	if e.p.DANE != nil && len(e.p.DANE.Digests) > 0 {
		o.Digests = dane.ParseDigests(strings.Join(e.p.DANE.Digests, " "))
	}
	return o
}

// handshakeFailure applies §3.2/§3.3 to a failed or locally aborted handshake.
func (e *evaluator) handshakeFailure(level policy.Level, rule string, cause Cause) {
	if level == policy.May {
		backoff := e.p.MinimalBackoff
		if backoff <= 0 {
			backoff = 300 * time.Second
		}
		probeOK := e.obs.AddressProbe && e.v.AtLeast(3, 8, 0)
		switch {
		case e.obs.SASL:
			e.d.Notes = append(e.d.Notes, "no plaintext fallback: a SASL password is configured for this server")
		case e.obs.MessageAge >= backoff || probeOK:
			e.log(ReasonHandshake)
			e.fail(OutcomePlaintextRetry, "4.7.5", ReasonHandshake, "§3.3 plaintext fallback at may", cause)
			return
		default:
			e.d.Notes = append(e.d.Notes, fmt.Sprintf("no plaintext fallback yet: the message is younger than minimal_backoff_time (%s); a later retry falls back to plaintext", backoff))
		}
		e.fail(OutcomeDefer, "4.7.5", ReasonHandshake, "§3.3 "+rule, cause)
		return
	}
	e.d.Throttle = true
	e.fail(OutcomeDefer, "4.7.5", ReasonHandshake, rule, cause)
}

// setup is what tls_client_start() makes of the handshake settings of level (§7): the one
// model smtpclient dials with too.
func (e *evaluator) setup(level policy.Level) openssl.Setup {
	p := e.p.AtLevel(level)
	return openssl.NewSetup(openssl.SetupParams{Protocols: p.Protocols, Grade: p.Ciphers, Exclusions: p.Exclude,
		DANE: level.IsDANE(), Release: e.v})
}

// prefixed puts Postfix's "host[addr]:port: " in front of each warning.
func (e *evaluator) prefixed(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = e.namaddrport + ": " + w
	}
	return out
}

// matchOptions are the match package options for the emulated version.
func (e *evaluator) matchOptions() match.Options {
	o := match.Options{Mode: match.OpenSSL}
	if e.v.Before(3, 6, 0) {
		o.Mode = match.Legacy
		o.WildcardMultipleLabels = !e.p.SingleLabelWildcards
	}
	if e.v.AtLeast(3, 12, 0) {
		o.IPLiterals = match.IPAsDNSName
	}
	return o
}

// trustWordForNameMismatch is the word Postfix logs when the chain is valid but the name
// check failed with OpenSSL error num: Untrusted in 3.6.0-3.10.3 (the bug fixed in 3.10.4
// and 3.11, HISTORY 20250730), Trusted otherwise. The fix (tls_client.c) marks the peer
// trusted only when the verify result is X509_V_ERR_HOSTNAME_MISMATCH (62), so an [address]
// next hop's X509_V_ERR_IP_ADDRESS_MISMATCH (64) still logs Untrusted from 3.6 on (measured
// with 3.11.6: key/bracket-ip-hostname).
func (e *evaluator) trustWordForNameMismatch(num X509Error) TrustWord {
	if e.v.AtLeast(3, 6, 0) && (e.v.Before(3, 10, 4) || num != X509HostnameMismatch) {
		return TrustUntrusted
	}
	return TrustTrusted
}

func (e *evaluator) summaryLine(word TrustWord) string {
	o := e.obs
	bits, alg := o.CipherBits, o.CipherAlgBits
	if bits == 0 {
		bits = cipherBits(o.Cipher)
	}
	if alg == 0 {
		alg = bits
	}
	var line string
	if o.TLSVersion == "" && o.Cipher == "" {
		// Offline: the handshake's parameters are not known; say so rather than invent them.
		line = fmt.Sprintf("%s TLS connection established to %s: %s", word, e.namaddrport, SessionNotObserved)
	} else {
		line = fmt.Sprintf("%s TLS connection established to %s: %s with cipher %s (%d/%d bits)", word, e.namaddrport,
			orNotObserved(o.TLSVersion, "protocol"), orNotObserved(o.Cipher, "cipher"), bits, alg)
	}
	if o.KeyExchange != "" {
		line += " key-exchange " + o.KeyExchange
	}
	if o.ServerSignature != "" {
		line += " server-signature " + o.ServerSignature
	}
	if o.ServerDigest != "" {
		line += " server-digest " + o.ServerDigest
	}
	return line
}

// SessionNotObserved ends the emulated TLS summary line when neither the protocol nor the
// cipher was observed (an offline check from files).
const SessionNotObserved = "protocol and cipher not observed"

func orNotObserved(s, what string) string {
	if s == "" {
		return "(" + what + " not observed)"
	}
	return s
}

func cipherBits(name string) int {
	u := strings.ToUpper(name)
	switch {
	case strings.Contains(u, "AES_128"), strings.Contains(u, "AES128"):
		return 128
	case strings.Contains(u, "AES_256"), strings.Contains(u, "AES256"), strings.Contains(u, "CHACHA20"):
		return 256
	case strings.Contains(u, "3DES"), strings.Contains(u, "DES-CBC3"):
		return 112
	}
	return 0
}

// verify judges the established session at the effective level.
func (e *evaluator) verify(level policy.Level) {
	d := e.d
	chain := []*x509.Certificate(e.obs.Chain)
	if len(chain) == 0 || chain[0] == nil {
		d.Trust = TrustAnonymous
		e.log(e.summaryLine(TrustAnonymous))
		if level.MustMatch() {
			d.Throttle = true
			e.fail(OutcomeDefer, "4.7.5", ReasonNotVerified, "§3.4 anonymous session at a level that requires a certificate", CauseAnonymous)
			return
		}
		e.deliver("§3.1 " + level.String() + ": anonymous TLS accepted")
		return
	}
	switch level {
	case policy.May, policy.Encrypt:
		cr := VerifyChain(chain, ChainOptions{Roots: e.roots(), Now: e.now, Cache: e.opt.ChainCache})
		d.Evidence.Chain = &cr
		d.Trust = TrustUntrusted
		if cr.OK {
			d.Trust = TrustTrusted
		}
		e.log(e.summaryLine(d.Trust))
		e.deliver("§3.1 " + level.String() + ": no authentication required")
	case policy.Fingerprint:
		e.verifyFingerprint(chain)
	case policy.Dane, policy.DaneOnly, policy.HalfDane:
		e.verifyDANE(level, chain)
	case policy.Verify, policy.Secure:
		if len(e.p.TrustAnchorFiles) > 0 {
			e.verifyTrustAnchors(level, chain)
			return
		}
		e.verifyPKIX(level, chain)
	default:
		e.log(e.summaryLine(TrustUntrusted))
		e.deliver("§3.1")
	}
}

func (e *evaluator) roots() []*x509.Certificate {
	if e.opt.Trust == nil {
		if e.p.CAFile != "" || e.p.CAPath != "" {
			e.d.Notes = append(e.d.Notes, "no CA certificates were given (EvalOptions.Trust is nil), although the policy names smtp_tls_CAfile "+
				e.p.CAFile+" / smtp_tls_CApath "+e.p.CAPath+"; load them with LoadTrust")
		}
		return nil
	}
	return e.opt.Trust.CAs
}

// notVerified records a failed verification at a level that requires a match.
func (e *evaluator) notVerified(word TrustWord, errLine string, rule string, cause Cause) {
	d := e.d
	d.Trust = word
	if errLine != "" {
		e.log(errLine)
	}
	e.log(e.summaryLine(word))
	reason := ReasonNotVerified
	// Postfix 2.11-3.5 (smtp_proto.c): at the levels that must trust (half-dane and up), a
	// peer without TLS_CERT_FLAG_TRUSTED fails "not trusted"; that flag is also what makes the
	// logged word Trusted rather than Untrusted, so the two always agree.
	if e.v.Before(3, 6, 0) && word == TrustUntrusted && d.EffectiveLevel != policy.Fingerprint {
		reason = ReasonNotTrusted
	}
	d.Throttle = true
	e.fail(OutcomeDefer, "4.7.5", reason, rule, cause)
}

func (e *evaluator) verified(word TrustWord, rule string) {
	e.d.Trust = word
	e.log(e.summaryLine(word))
	e.deliver(rule)
}

func (e *evaluator) verifyFingerprint(chain []*x509.Certificate) {
	leaf := chain[0]
	p := e.p
	from := fingerprint.Table
	if p.MatchFrom != policy.MatchFromEntry {
		from = fingerprint.MainCF
	}
	list, _, err := fingerprint.ParseList(p.Match, from, fingerprint.Options{Digest: p.FingerprintDigest, ColonsOptional: e.v.AtLeast(3, 6, 0)})
	if err != nil {
		// compute.go marks an empty list invalid; an unknown digest disables TLS.
		e.d.Notes = append(e.d.Notes, "fingerprint list: "+err.Error())
	}
	r := fingerprint.Check(leaf, list)
	ev := &FingerprintEvidence{Digest: list.Digest, Certificate: r.Fingerprints.CertString(), PublicKey: r.Fingerprints.PublicKeyString(),
		Matched: r.Matched, MatchedValue: r.MatchedValue, Unusable: r.Unusable, Error: r.Error, Summary: r.Summary(),
		Identified: r.Identified, result: r}
	e.d.Evidence.Fingerprint = ev
	for _, w := range r.Warnings {
		e.warn(w.Render(e.namaddrport))
	}
	if r.Matched {
		e.verified(TrustVerified, "§5 fingerprint matched")
		return
	}
	line := ""
	if r.Error != "" {
		num := X509DANENoMatch
		if r.AllUnusable {
			num = X509Unspecified
		}
		ce := ChainError{Num: num, Text: num.Text(), Depth: 0}
		e.d.Evidence.Error = &ce
		line = "server certificate verification failed for " + e.namaddrport + ": " + r.Error
	}
	cause := CauseFingerprintMismatch
	if r.AllUnusable {
		cause = CauseFingerprintUnusable
	}
	word := TrustUntrusted
	if e.v.Before(3, 6, 0) {
		word = e.pre36TrustWord(chain)
	}
	e.notVerified(word, line, "§5 fingerprint mismatch", cause)
}

// pre36TrustWord is the word Postfix 2.11-3.5 logs for a peer certificate that no
// fingerprint or DANE-EE record matched, when no DANE-TA record is usable: those releases
// match fingerprints and DANE-EE records themselves (tls_dane_match) and leave the chain to
// OpenSSL's ordinary verification against smtp_tls_CAfile/CApath (no verify callback without
// TA records, tls_dane_set_callback), and verify_extract_name() sets TLS_CERT_FLAG_TRUSTED
// whenever SSL_get_verify_result() is X509_V_OK. So a CA-valid chain logs "Trusted" (and,
// at the DANE levels, fails with "Server certificate not verified", not "not trusted");
// measured with 3.5.27 (level/fingerprint/*, level/dane/*, tlsa/dane/stale-only).
func (e *evaluator) pre36TrustWord(chain []*x509.Certificate) TrustWord {
	if len(chain) == 0 {
		return TrustUntrusted
	}
	if cr := VerifyChain(chain, ChainOptions{Roots: e.roots(), Now: e.now, Cache: e.opt.ChainCache}); cr.OK {
		return TrustTrusted
	}
	return TrustUntrusted
}

// hasUsableTA reports a usable DANE-TA(2) record: with one, Postfix 2.11-3.5 verify the chain
// against the TLSA trust anchors only (dane_cb), not against the CAfile.
func hasUsableTA(set *dane.RecordSet) bool {
	if set == nil {
		return false
	}
	for _, r := range set.Usable() {
		if r.Usage == dane.UsageDANETA {
			return true
		}
	}
	return false
}

// nameChecker returns a dane.NameChecker using package match with fixed references.
func (e *evaluator) nameChecker(refs match.RefList) dane.NameChecker {
	opt := e.matchOptions()
	return func(leaf *x509.Certificate, _ []string) error {
		if refs.MustFail {
			return errors.New("no usable reference names")
		}
		r := match.Check(leaf, refs, opt)
		if r.Matched {
			return nil
		}
		return errors.New(r.Summary())
	}
}

func (e *evaluator) matchEvidence(items []string, refs match.RefList, leaf *x509.Certificate) *MatchEvidence {
	opt := e.matchOptions()
	r := match.Check(leaf, refs, opt)
	names := match.Names(leaf, opt)
	ev := &MatchEvidence{Items: items, References: refs.Names(), CertNote: names.Note, Matched: r.Matched,
		MatchedName: r.MatchedName, Error: r.Error, Summary: r.Summary(), Tries: r.Tries, refs: refs, result: r}
	for _, n := range names.All() {
		if n.Considered {
			ev.CertNames = append(ev.CertNames, n.Value)
		}
	}
	return ev
}

func (e *evaluator) verifyDANE(level policy.Level, chain []*x509.Certificate) {
	d := e.d
	ev := d.Evidence.DANE
	if ev == nil || ev.set == nil {
		e.verified(TrustUntrusted, "§6 no TLSA record set")
		return
	}
	var mx *dnssec.MXResult
	if e.obs.HaveMX {
		owner := e.obs.MXOwner
		if owner == "" {
			owner = e.hop.Domain
		}
		mx = &dnssec.MXResult{Domain: e.hop.Domain, Owner: owner}
	}
	names := dane.MatchNames(ev.BaseDomain, mx)
	ev.Names = names
	mopt := e.matchOptions()
	refs, _ := match.References(names, e.hop.Domain, e.obs.Host, mopt)
	res := ev.set.Verify(chain, dane.VerifyOptions{Names: names, NameCheck: e.nameChecker(refs), Now: e.now,
		SigCache: e.opt.SigCache, DaneOnly: level == policy.DaneOnly})
	ev.result = res
	ev.Verified, ev.Fallback = res.Verified, res.Fallback
	e.daneRecords(ev, res)
	for _, w := range res.Warnings {
		e.warn(w)
	}
	if res.Match != nil {
		ev.Matched = fmt.Sprintf("%s at depth %d", res.Match.Record.PostfixString(), res.Match.Depth)
	}
	switch {
	case res.Verified:
		word := TrustVerified
		if level == policy.HalfDane {
			word = TrustTrusted
		}
		e.verified(word, "§6.4 DANE verified")
	case res.Fallback:
		d.EffectiveLevel = policy.Encrypt
		cr := VerifyChain(chain, ChainOptions{Roots: e.roots(), Now: e.now, Cache: e.opt.ChainCache})
		d.Evidence.Chain = &cr
		word := TrustUntrusted
		if cr.OK {
			word = TrustTrusted
		}
		e.verified(word, "§6.3 all TLSA records unusable: unauthenticated TLS")
	default:
		line := ""
		if res.Err != nil {
			ev.Error = res.Err.Error()
			ce := ChainError{Num: res.Err.Num, Text: res.Err.Text, Depth: res.Err.Depth, Detail: res.Err.Detail, Issuer: res.Err.Issuer}
			d.Evidence.Error = &ce
			line = res.Err.LogLine(e.namaddrport)
		}
		if len(chain) > 0 {
			d.Evidence.Match = e.matchEvidence(names, refs, chain[0])
		}
		word := TrustUntrusted
		if res.Err != nil && res.Err.Num == X509HostnameMismatch && level != policy.HalfDane {
			// A DANE-TA match whose only problem is the name: like a CA-valid misnamed chain.
			word = e.trustWordForNameMismatch(res.Err.Num)
		}
		if e.v.Before(3, 6, 0) && !hasUsableTA(ev.set) {
			word = e.pre36TrustWord(chain)
		}
		cause := CauseTLSAMismatch
		if res.Err != nil {
			cause = causeOf(res.Err.Num)
		}
		e.notVerified(word, line, "§6.4 DANE verification failed", cause)
	}
}

func (e *evaluator) daneRecords(ev *DANEEvidence, res *dane.Result) {
	results := map[string]dane.RecordResult{}
	if res != nil {
		for _, rr := range res.Records {
			results[rr.Record.String()] = rr
		}
	}
	for _, rep := range ev.set.Reports {
		re := RecordEvidence{Record: rep.Record.String(), Status: rep.Status.String(), Reason: rep.Reason}
		if rr, ok := results[rep.Record.String()]; ok {
			re.Matched, re.Note = rr.Matched, rr.Note
		}
		ev.Records = append(ev.Records, re)
	}
}

func (e *evaluator) verifyTrustAnchors(level policy.Level, chain []*x509.Certificate) {
	d := e.d
	var recs []dane.Record
	for _, f := range e.p.TrustAnchorFiles {
		if e.opt.Trust == nil || e.opt.Trust.TrustAnchors[f] == nil {
			d.Notes = append(d.Notes, "trust-anchor file "+f+" was not loaded by the caller (LoadTrust)")
			continue
		}
		recs = append(recs, e.opt.Trust.TrustAnchors[f].Records...)
	}
	ta := &dane.TrustAnchors{File: strings.Join(e.p.TrustAnchorFiles, ","), Records: recs}
	set := ta.RecordSet(e.daneOptions())
	mopt := e.matchOptions()
	refs, warns := match.References(e.p.Match, e.hop.Domain, e.obs.Host, mopt)
	for _, w := range warns {
		e.warn(w.Render(e.namaddrport))
	}
	ev := &DANEEvidence{Outcome: "trust-anchor-file", set: set, Names: refs.Names()}
	d.Evidence.DANE = ev
	d.Evidence.Match = e.matchEvidence(e.p.Match, refs, chain[0])
	names := refs.Names()
	if len(names) == 0 {
		names = []string{"."}
	}
	res := set.Verify(chain, dane.VerifyOptions{Names: names, NameCheck: e.nameChecker(refs), EENameChecks: true,
		Now: e.now, SigCache: e.opt.SigCache, DaneOnly: true})
	ev.result = res
	ev.Verified = res.Verified
	e.daneRecords(ev, res)
	if res.Verified && !refs.MustFail {
		e.verified(TrustVerified, "§6.5 trust anchor matched")
		return
	}
	line := ""
	if refs.MustFail {
		line = "server certificate verification failed for " + e.namaddrport + ": " + match.ErrUnspecified
		d.Evidence.Error = &ChainError{Num: X509Unspecified, Text: X509Unspecified.Text()}
	} else if res.Err != nil {
		ev.Error = res.Err.Error()
		ce := ChainError{Num: res.Err.Num, Text: res.Err.Text, Depth: res.Err.Depth, Detail: res.Err.Detail, Issuer: res.Err.Issuer}
		d.Evidence.Error = &ce
		line = res.Err.LogLine(e.namaddrport)
	}
	word := TrustUntrusted
	if !refs.MustFail && res.Err != nil && res.Err.Num == X509HostnameMismatch {
		word = e.trustWordForNameMismatch(res.Err.Num)
	}
	cause := CauseTLSAMismatch
	switch {
	case refs.MustFail:
		cause = CauseNoPeerNames
	case res.Err != nil:
		cause = causeOf(res.Err.Num)
	}
	e.notVerified(word, line, "§6.5 trust anchor verification failed", cause)
}

func (e *evaluator) verifyPKIX(level policy.Level, chain []*x509.Certificate) {
	d := e.d
	cr := VerifyChain(chain, ChainOptions{Roots: e.roots(), Now: e.now, Cache: e.opt.ChainCache})
	d.Evidence.Chain = &cr
	mopt := e.matchOptions()
	refs, warns := match.References(e.p.Match, e.hop.Domain, e.obs.Host, mopt)
	for _, w := range warns {
		e.warn(w.Render(e.namaddrport))
	}
	me := e.matchEvidence(e.p.Match, refs, chain[0])
	d.Evidence.Match = me
	if e.v.Before(3, 6, 0) {
		// Postfix <= 3.5: OpenSSL checks the chain, Postfix its own names afterwards.
		if !cr.OK {
			fe := finalError(cr.Errors)
			d.Evidence.Error = fe
			e.notVerified(TrustUntrusted, fe.LogLine(e.namaddrport), "§3.2 chain not trusted (<= 3.5)", causeOf(fe.Num))
			return
		}
		if !me.Matched {
			e.notVerified(TrustTrusted, "", "§4.3 name mismatch (<= 3.5)", CauseNameMismatch)
			return
		}
		e.verified(TrustVerified, "§4.3 verified (<= 3.5)")
		return
	}
	if refs.MustFail {
		// must_fail: only the forced "unspecified" error at depth 0 is recorded.
		ce := ChainError{Num: X509Unspecified, Text: X509Unspecified.Text(), Depth: 0}
		d.Evidence.Error = &ce
		e.notVerified(TrustUntrusted, ce.LogLine(e.namaddrport), "§4.1 could not configure peer name checks", CauseNoPeerNames)
		return
	}
	errs := append([]ChainError(nil), cr.Errors...)
	if !me.Matched {
		num := X509HostnameMismatch
		if me.result.Error == match.ErrIPMismatch {
			num = X509IPMismatch
		}
		errs = append(errs, ChainError{Num: num, Text: num.Text(), Depth: 0, stage: stageNames,
			Subject: fingerprint.OneLine(chain[0].RawSubject), Detail: me.Summary})
	}
	fe := finalError(errs)
	if fe == nil {
		e.verified(TrustVerified, "§4.2 chain and name verified")
		return
	}
	d.Evidence.Error = fe
	word := TrustUntrusted
	if cr.OK {
		word = e.trustWordForNameMismatch(fe.Num)
	}
	e.notVerified(word, fe.LogLine(e.namaddrport), "§4.2 verification failed", causeOf(fe.Num))
}

// isIPLiteral reports whether s is an IP address (a [192.0.2.1] next hop's domain).
func isIPLiteral(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// Conclusion is the result of one delivery attempt sequence: what Postfix's status line
// says after it tried the servers of a destination in order.
type Conclusion struct {
	// Outcome is deliver, defer or bounce.
	Outcome Outcome `json:"outcome"`
	// DSN, Reason and Relay are the status line's; Reason is the last failure's when deferred.
	DSN    policy.DSN `json:"dsn"`
	Reason string     `json:"reason,omitempty"`
	Relay  string     `json:"relay"`
	// Trust is the word of the last TLS summary line logged (the session that delivered, or
	// the last one tried); "" when no TLS session was made.
	Trust TrustWord `json:"trust,omitempty"`
	// Deciding indexes the attempt that decided (-1 when there was none).
	Deciding int `json:"deciding"`
	// Log holds the "<queue id>: <reason>" info lines Postfix logs for failed servers before
	// the last one (with "QUEUEID" standing for the queue id).
	Log []string `json:"log,omitempty"`
}

// Conclude combines the decisions for the servers of a destination, in the order Postfix
// tried them (§3.2, §10.1): the first delivery or bounce ends the walk; a plaintext retry
// (§3.3) delivers over the same server without TLS; otherwise the message is deferred with
// the last server's reason.
func Conclude(attempts []Decision) Conclusion {
	c := Conclusion{Outcome: OutcomeDefer, DSN: "4.4.1", Relay: "none", Deciding: -1}
	for i, d := range attempts {
		if d.TLS {
			c.Trust = d.Trust
		}
		c.Deciding, c.Relay = i, d.Relay
		switch d.Outcome {
		case OutcomeDeliver:
			c.Outcome, c.DSN, c.Reason = OutcomeDeliver, d.DSN, ""
			return c
		case OutcomePlaintextRetry:
			c.Log = append(c.Log, "QUEUEID: "+d.Reason)
			c.Outcome, c.DSN, c.Reason = OutcomeDeliver, "2.0.0", ""
			return c
		case OutcomeBounce:
			c.Outcome, c.DSN, c.Reason = OutcomeBounce, d.DSN, d.Reason
			return c
		}
		c.DSN, c.Reason = d.DSN, d.Reason
		if i < len(attempts)-1 {
			c.Log = append(c.Log, "QUEUEID: "+d.Reason)
		}
	}
	return c
}
