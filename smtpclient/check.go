package smtpclient

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/policy"
)

// CheckOptions say how Check talks to DNS and to servers.
type CheckOptions struct {
	// Resolver is the validating resolver for MX, address and TLSA lookups. Nil means the
	// servers of /etc/resolv.conf, whose AD bit is believed as Postfix believes it.
	Resolver dnssec.Resolver
	// Dialer makes the TCP connections (tests point it at loopback servers). Nil means a
	// net.Dialer.
	Dialer Dialer
	// Sender is the envelope sender: it picks sender_dependent_relayhost_maps and
	// sender_dependent_default_transport_maps entries (policy.RouteOptions). Empty is the
	// null sender, looked up as "<>".
	Sender string
	// Deadline bounds the whole check of one destination (every MX and address), on top of
	// Postfix's own per-step timeouts, which can add up to many minutes for a server that
	// accepts and never speaks. Zero means DefaultDeadline; a negative value means none.
	// When it ends the check, the attempt it cut counts as a deferral (Postfix would have
	// waited longer) and Verdict.Deadline says so.
	Deadline time.Duration
	// HeloName is sent with EHLO; empty means $myhostname (smtp_helo_name's default).
	HeloName string
	// MessageAge is how long the message would have waited in the queue (§3.3: at may, a
	// failed handshake falls back to plaintext only for messages at least
	// minimal_backoff_time old). Zero is a new message.
	MessageAge time.Duration
	// Now is the time certificates are checked at; zero means time.Now().
	Now time.Time
	// FS is where CA files, CApath directories and trust-anchor files are read; nil means
	// the operating system's files.
	FS fs.FS
	// SystemRoots are the roots tls_append_default_CA adds; nil means none.
	SystemRoots []*x509.Certificate
	// TrustCache, when set, keeps the CA and trust-anchor files loaded across the checks
	// that share it, while the files are unchanged (not used with SystemRoots).
	TrustCache *TrustCache
	// KeepSessions puts each session's full record (transcript, replies, timings) into the
	// attempts.
	KeepSessions bool
	// ProbeRecipient asks each server about the recipient once the TLS part of its session
	// would deliver (after a TLS session Postfix accepts, or after the plaintext EHLO where
	// the level allows plaintext): EHLO again inside TLS, MAIL FROM:<Sender>, RCPT
	// TO:<recipient>, then RSET and QUIT — never DATA, as Postfix's address verification
	// does. The replies decide the verdict as they decide Postfix's: a 5xx to RCPT TO
	// bounces the recipient, a 4xx defers it and the next server is tried, a refused MAIL
	// FROM fails the message. Without it the verdict's Recipient says that the recipient was
	// not tested. Postfix's own verification probes send MAIL FROM:<$address_verify_sender>
	// (double-bounce@$myorigin by default): set Sender to that to see what they see.
	ProbeRecipient bool
	// Recipient is the RCPT TO address of the probe; empty means the destination's address
	// (ProbeRecipient with a domain or [host] destination and no Recipient is an error
	// wrapping ErrNoRecipient).
	Recipient string
}

// ErrNoRecipient is wrapped by the error of a recipient probe that has no address to ask
// about.
var ErrNoRecipient = errors.New("smtpclient: the recipient probe needs a recipient address")

// Verdict is what Check found: the policy and where it came from, every attempt, and
// Postfix's verdict with its explanation. It marshals to the JSON contract of the check tool
// (design.md): fields may be added, never renamed.
type Verdict struct {
	Destination    string        `json:"destination"`
	Nexthop        string        `json:"nexthop"`
	PostfixVersion string        `json:"postfix_version"`
	Policy         VerdictPolicy `json:"policy"`
	// Outcome is deliver, defer or bounce; DSN and Reason are Postfix's status.
	Outcome verdict.Outcome `json:"outcome"`
	DSN     policy.DSN      `json:"dsn"`
	Reason  string          `json:"reason"`
	// Trust is Postfix's word for the last TLS session (Anonymous, Untrusted, Trusted,
	// Verified); null without TLS.
	Trust    *verdict.TrustWord `json:"trust"`
	Attempts []Attempt          `json:"attempts"`
	Findings []finding.Finding  `json:"findings"`
	// Warnings are configuration warnings (table problems, ignored parameters).
	Warnings []string `json:"warnings,omitempty"`
	// Log holds the "<queue id>: <reason>" lines Postfix logs for servers that failed before
	// the last one.
	Log []string `json:"log,omitempty"`
	// Deadline is set when CheckOptions.Deadline ended the check before Postfix's own
	// timeouts would have: what was cut, and how long Postfix would have waited.
	Deadline string `json:"deadline,omitempty"`
	// Recipient is what is known of the recipient at the deciding attempt: the server's
	// replies to MAIL FROM and RCPT TO (CheckOptions.ProbeRecipient), or why the recipient
	// was not tested.
	Recipient verdict.RecipientStatus `json:"recipient"`
}

// DefaultDeadline is the CheckOptions.Deadline used when none is given.
const DefaultDeadline = 60 * time.Second

// VerdictPolicy is the policy of the first next hop, as the JSON contract shows it.
type VerdictPolicy struct {
	Level  policy.Level `json:"level"`
	Match  []string     `json:"match"`
	Source string       `json:"source"`
	// Valid is false for an entry Postfix cannot use (no connection, 4.7.5).
	Valid    bool     `json:"valid"`
	Warnings []string `json:"warnings,omitempty"`
}

// Attempt is one server tried (or skipped).
type Attempt struct {
	Host    string             `json:"host"`
	Addr    string             `json:"addr,omitempty"`
	Port    int                `json:"port,omitempty"`
	Trust   *verdict.TrustWord `json:"trust"`
	Outcome verdict.Outcome    `json:"outcome"`
	DSN     policy.DSN         `json:"dsn,omitempty"`
	Reason  string             `json:"reason,omitempty"`
	Log     []string           `json:"log,omitempty"`
	// Level is the policy level for this server and EffectiveLevel the level after the DNS
	// dependent DANE steps.
	Level          policy.Level `json:"level"`
	EffectiveLevel policy.Level `json:"effective_level"`
	// Gaps are differences between this Go handshake and OpenSSL's inside Postfix.
	Gaps []Gap `json:"gaps,omitempty"`
	// Session is the full session record (with CheckOptions.KeepSessions).
	Session *Session `json:"session,omitempty"`
	// Decision is the evaluator's full decision (evidence, rule, notes).
	Decision verdict.Decision `json:"-"`
}

// Check answers whether Postfix, configured as s, would deliver to destination (an address,
// a domain, "[host]" or "[host]:port"): it resolves the next hops, walks the MX and address
// records with their DNSSEC status, computes each server's policy, dials each server as
// Postfix would (STARTTLS, SNI, protocol and cipher limits), judges each session with
// verdict.Evaluate, and stops at the first server Postfix would deliver to.
//
// A configuration Postfix would refuse to run with is an error wrapping policy.ErrConfig; a
// destination that is not delivered by the SMTP client wraps policy.ErrNotSMTP. Everything
// that happens on the network is part of the Verdict, not an error.
func Check(ctx context.Context, s *policy.Settings, destination string, opt CheckOptions) (*Verdict, error) {
	res, err := s.ResolveFor(ctx, destination, policy.RouteOptions{Sender: opt.Sender})
	if err != nil {
		return nil, err
	}
	parent := ctx
	deadline := opt.Deadline
	if deadline == 0 {
		deadline = DefaultDeadline
	}
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	r := opt.Resolver
	if r == nil {
		if r, err = SystemResolver(); err != nil {
			return nil, err
		}
	}
	c := &checker{s: s, opt: opt, r: r, res: res, trust: map[string]*verdict.Trust{}}
	if err := c.limits(); err != nil {
		return nil, err
	}
	if opt.ProbeRecipient {
		rcpt := opt.Recipient
		if rcpt == "" {
			rcpt = res.Route.Recipient
		}
		if rcpt == "" {
			return nil, fmt.Errorf("%w: %s is not an address; give the recipient (CheckOptions.Recipient)", ErrNoRecipient, destination)
		}
		c.envelope = &Envelope{Sender: opt.Sender, Recipient: rcpt}
	}
	v := c.newVerdict(destination)
	var decisions []verdict.Decision
	for _, hop := range res.Hops {
		stop, err := c.hop(ctx, hop, &decisions, v)
		if err != nil {
			return nil, err
		}
		if stop {
			break
		}
	}
	if deadlinePassed(parent) {
		// The caller gave up: no verdict.
		if err := parent.Err(); err != nil {
			return nil, err
		}
		return nil, context.DeadlineExceeded
	}
	if deadlinePassed(ctx) {
		v.Deadline = fmt.Sprintf("the check's deadline (%s) ended it; Postfix would have waited up to %s to connect and %s for each reply before it gave up on a server, so its verdict may differ",
			deadline, c.connectTimeout, c.heloTimeout)
	}
	c.finish(context.WithoutCancel(ctx), v, decisions)
	return v, nil
}

// Observed is what one server showed, seen by other means than a connection made here (a
// saved certificate chain, TLSA records, a log), for CheckObserved.
type Observed struct {
	// MXHost is the MX host the observation is of. Empty means the next hop's own name, as
	// for a [bracketed] next hop or a domain without MX records.
	MXHost string
	// Observation is what the server showed. Empty Host and Port default to MXHost (or the
	// next hop's domain) and the next hop's port; HaveMX is set when MXHost is given.
	Observation verdict.Observation
}

// CheckObserved is Check for an observation instead of a connection: it resolves
// destination as Check does, computes the policy of the first next hop for the observed
// server, loads the trust files the policy names, judges the observation with
// verdict.Evaluate and returns the same Verdict Check would — configuration findings
// included — with one attempt. Nothing is dialled and no DNS is queried. opt's FS,
// SystemRoots and Now apply; the network options are ignored.
func CheckObserved(ctx context.Context, s *policy.Settings, destination string, o Observed, opt CheckOptions) (*Verdict, error) {
	res, hop, host, err := observedHop(ctx, s, destination, o.MXHost, opt.Sender)
	if err != nil {
		return nil, err
	}
	c := &checker{s: s, opt: opt, res: res, trust: map[string]*verdict.Trust{}}
	if err := c.limits(); err != nil {
		return nil, err
	}
	p, err := s.PolicyFor(ctx, res.Route, hop.NextHop, host)
	if err != nil {
		return nil, err
	}
	obs := o.Observation
	if obs.Host == "" {
		obs.Host = host
	}
	if obs.Port == 0 {
		obs.Port = hop.Port
	}
	if o.MXHost != "" {
		obs.HaveMX = true
	}
	v := c.newVerdict(destination)
	trust, terr := c.trustFor(ctx, p)
	if terr != nil {
		v.Warnings = append(v.Warnings, terr.Error())
	}
	att := Attempt{Host: obs.Host, Addr: obs.Addr, Port: obs.Port, Level: p.Level}
	d, att, err := c.judge(p, hop, obs, trust, len(p.EngineUnavailable) > 0 || terr != nil, att)
	if err != nil {
		return nil, err
	}
	v.Attempts = append(v.Attempts, att)
	c.finish(ctx, v, []verdict.Decision{d})
	return v, nil
}

// observedHop resolves destination for an observation of its first next hop's server: the
// resolution, that hop, and the server's host name (mxHost, else the hop's own name).
func observedHop(ctx context.Context, s *policy.Settings, destination, mxHost, sender string) (*policy.Resolution, policy.Hop, string, error) {
	res, err := s.ResolveFor(ctx, destination, policy.RouteOptions{Sender: sender})
	if err != nil {
		return nil, policy.Hop{}, "", err
	}
	if len(res.Hops) == 0 {
		return nil, policy.Hop{}, "", fmt.Errorf("%w: %s has no next hop", policy.ErrNextHop, destination)
	}
	hop := res.Hops[0]
	if hop.Unix {
		return nil, policy.Hop{}, "", fmt.Errorf("%w: LMTP over a UNIX-domain socket (%s) has no TLS to check", policy.ErrNotSMTP, hop.Nexthop)
	}
	host := strings.TrimSuffix(hop.Domain, ".")
	if mxHost != "" {
		if !hop.MX {
			return nil, policy.Hop{}, "", fmt.Errorf("%w: next hop %s is not looked up in MX records (bracketed, or DNS lookups disabled), so it has no MX host %s",
				policy.ErrNextHop, hop.Nexthop, mxHost)
		}
		host = strings.TrimSuffix(mxHost, ".")
	}
	return res, hop, host, nil
}

// newVerdict starts the Verdict for destination with the first next hop's policy.
func (c *checker) newVerdict(destination string) *Verdict {
	res := c.res
	v := &Verdict{Destination: destination, Nexthop: res.Route.Nexthop, PostfixVersion: c.s.Version().String(),
		Warnings: res.Warnings, Attempts: []Attempt{}, Findings: []finding.Finding{}}
	if len(res.Hops) > 0 {
		p := res.Hops[0].Policy
		v.Policy = VerdictPolicy{Level: p.Level, Match: p.Match, Source: p.Source.String(), Valid: !p.Invalid, Warnings: p.Warnings}
	}
	return v
}

// finish concludes the attempts as Postfix's delivery agent does and adds the findings.
func (c *checker) finish(ctx context.Context, v *Verdict, decisions []verdict.Decision) {
	conc := verdict.Conclude(decisions)
	v.Outcome, v.DSN, v.Reason, v.Log = conc.Outcome, conc.DSN, conc.Reason, conc.Log
	v.Recipient = verdict.RecipientStatus{Check: verdict.RecipientNotTested, Note: "the recipient was not tested: no server was tried"}
	if i := conc.Deciding; i >= 0 && i < len(decisions) {
		v.Recipient = decisions[i].Recipient
	}
	if conc.Trust != "" {
		t := conc.Trust
		v.Trust = &t
	}
	// Findings explain the deciding attempt; when none decided, every attempt (servers
	// that fail differently each get theirs; a finding that repeats the same code and
	// fixes for another server is left out).
	if i := conc.Deciding; i >= 0 && i < len(decisions) {
		v.Findings = append(v.Findings, decisions[i].Findings...)
	} else {
		seen := map[string]bool{}
		for _, d := range decisions {
			for _, f := range d.Findings {
				k := string(f.Code) + "\x00" + strings.Join(f.FixLines(), "\x00")
				if !seen[k] {
					seen[k] = true
					v.Findings = append(v.Findings, f)
				}
			}
		}
	}
	// Configuration mistakes that keep an intended setting from applying (E-4, E-5).
	v.Findings = append(v.Findings, c.s.ConfigFindings(ctx, c.res)...)
}

type checker struct {
	s     *policy.Settings
	opt   CheckOptions
	r     dnssec.Resolver
	res   *policy.Resolution
	trust map[string]*verdict.Trust
	sigs  verdict.SignatureCache

	addrLimit, sessionLimit int
	connectTimeout          time.Duration
	heloTimeout             time.Duration
	starttlsTimeout         time.Duration
	mailTimeout             time.Duration
	rcptTimeout             time.Duration
	rsetTimeout             time.Duration
	softBounce              bool
	envelope                *Envelope
	ipv4, ipv6              bool
	helo                    string
	sessions, addrs         int
}

// limits reads the client's walk limits and timeouts.
func (c *checker) limits() error {
	cl := string(c.res.Route.Client)
	num, dur := c.s.Int, c.s.Duration
	var err error
	if c.addrLimit, err = num(cl + "_mx_address_limit"); err != nil {
		return err
	}
	if c.sessionLimit, err = num(cl + "_mx_session_limit"); err != nil {
		return err
	}
	if c.connectTimeout, err = dur(cl + "_connect_timeout"); err != nil {
		return err
	}
	helo := cl + "_helo_timeout"
	if cl == "lmtp" {
		helo = "lmtp_lhlo_timeout"
	}
	if c.heloTimeout, err = dur(helo); err != nil {
		return err
	}
	if c.starttlsTimeout, err = dur(cl + "_starttls_timeout"); err != nil {
		return err
	}
	if c.mailTimeout, err = dur(cl + "_mail_timeout"); err != nil {
		return err
	}
	if c.rcptTimeout, err = dur(cl + "_rcpt_timeout"); err != nil {
		return err
	}
	if c.rsetTimeout, err = dur(cl + "_rset_timeout"); err != nil {
		return err
	}
	sb, err := c.s.Param("soft_bounce")
	if err != nil {
		return err
	}
	c.softBounce = strings.EqualFold(strings.TrimSpace(sb.Value), "yes")
	ip, err := c.s.Param("inet_protocols")
	if err != nil {
		return err
	}
	for _, w := range strings.FieldsFunc(ip.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		switch strings.ToLower(w) {
		case "all":
			c.ipv4, c.ipv6 = true, true
		case "ipv4":
			c.ipv4 = true
		case "ipv6":
			c.ipv6 = true
		}
	}
	c.helo = c.opt.HeloName
	if c.helo == "" {
		mh, err := c.s.Param("myhostname")
		if err != nil {
			return err
		}
		c.helo = mh.Value
	}
	return nil
}

// server is one address to try, with the DNS facts Postfix's decision depends on.
type server struct {
	host       string
	addr       netip.Addr
	pref       int
	haveMX     bool
	mxSecure   bool
	mxOwner    string
	hostInfo   *dnssec.Host
	lookupErr  string
	permanent  bool
	addrSecure bool
	// lookupDSN and lookupWarning go to Observation.LookupDSN and LookupWarning.
	lookupDSN     policy.DSN
	lookupWarning string
}

// hop tries the servers of one next hop. stop is true when Postfix would stop there.
func (c *checker) hop(ctx context.Context, hop policy.Hop, decisions *[]verdict.Decision, v *Verdict) (bool, error) {
	if hop.Unix {
		return false, fmt.Errorf("smtpclient: LMTP over UNIX-domain sockets (%s) is not checked", hop.Nexthop)
	}
	// smtp_mx_address_limit and smtp_mx_session_limit count per next hop (smtp_connect_inet).
	c.addrs, c.sessions = 0, 0
	servers := c.walk(ctx, hop)
	for _, sv := range servers {
		d, att, err := c.attempt(ctx, hop, sv)
		if err != nil {
			return false, err
		}
		*decisions = append(*decisions, d)
		v.Attempts = append(v.Attempts, att)
		switch d.Outcome {
		case verdict.OutcomeDeliver, verdict.OutcomeBounce, verdict.OutcomePlaintextRetry:
			return true, nil
		}
		if c.sessionLimit > 0 && c.sessions >= c.sessionLimit {
			return false, nil // on to the next next hop (fallback relays), if any
		}
	}
	return false, nil
}

// walk lists the servers of a next hop in Postfix's order: MX hosts by preference (or the
// bracketed host, or the domain itself without MX records), each host's addresses, up to
// smtp_mx_address_limit addresses.
func (c *checker) walk(ctx context.Context, hop policy.Hop) (out []server) {
	name := strings.TrimSuffix(hop.Domain, ".")
	if a, err := netip.ParseAddr(name); err == nil {
		return []server{{host: name, addr: a, addrSecure: false}}
	}
	type cand struct {
		host     string
		pref     int
		haveMX   bool
		mxSecure bool
		owner    string
	}
	var cands []cand
	if hop.MX {
		mx, err := dnssec.LookupMX(ctx, c.r, name)
		switch {
		case err != nil && dnssec.IsNotFound(err):
			// smtp_domain_addr(): an MX lookup that finds nothing (NXDOMAIN too) means "no
			// MX": the domain's own address records are looked up, and their failure is
			// the one reported (type=A).
		case err != nil:
			return []server{{host: name, lookupErr: err.Error()}}
		case err == nil && mx.NullMX:
			return []server{{host: name, lookupErr: "Domain " + name + " does not accept mail (nullMX)", permanent: true, lookupDSN: "5.1.0"}}
		case err == nil && !mx.NoMX:
			for _, h := range mx.Hosts {
				cands = append(cands, cand{host: strings.TrimSuffix(h.Name, "."), pref: int(h.Preference), haveMX: true, mxSecure: mx.Authentic, owner: strings.TrimSuffix(mx.Owner, ".")})
			}
		}
	}
	if len(cands) == 0 {
		cands = []cand{{host: name}}
	}
	var failed []server // MX hosts whose address lookup failed
	defer func() {
		// smtp_domain_addr(): an MX host without a usable address is left out silently; only
		// when no MX host has one does the last lookup error decide, after a warning (5.4.4
		// when it was "not found", else 4.4.3).
		if len(out) == 0 && len(failed) > 0 {
			last := failed[len(failed)-1]
			last.lookupWarning = "no MX host for " + name + " has a valid address record"
			out = []server{last}
		}
	}()
	for _, cd := range cands {
		// inet_protocols: a family Postfix does not use is not even asked for.
		h, err := dnssec.LookupHostFamilies(ctx, c.r, cd.host, dnssec.Families{NoIPv4: !c.ipv4, NoIPv6: !c.ipv6})
		if err != nil {
			// Both families failed: err is the one Postfix reports (dns_lookup_rv()).
			msg := err.Error()
			sv := server{host: cd.host, pref: cd.pref, haveMX: cd.haveMX, mxSecure: cd.mxSecure, mxOwner: cd.owner,
				lookupErr: msg, permanent: dnssec.IsNotFound(err)}
			if cd.haveMX {
				failed = append(failed, sv)
				continue
			}
			out = append(out, sv)
			continue
		}
		for _, a := range h.Addrs {
			if (a.Is4() && !c.ipv4) || (a.Is6() && !a.Is4In6() && !c.ipv6) {
				continue
			}
			if c.addrLimit > 0 && c.addrs >= c.addrLimit {
				return out
			}
			c.addrs++
			out = append(out, server{host: cd.host, addr: a, pref: cd.pref, haveMX: cd.haveMX, mxSecure: cd.mxSecure,
				mxOwner: cd.owner, hostInfo: h, addrSecure: h.Secure})
		}
	}
	return out
}

// attempt computes the server's policy, dials it (unless the policy or DNS forbids it) and
// judges the session.
func (c *checker) attempt(ctx context.Context, hop policy.Hop, sv server) (verdict.Decision, Attempt, error) {
	p, err := c.s.PolicyFor(ctx, c.res.Route, hop.NextHop, sv.host)
	if err != nil {
		return verdict.Decision{}, Attempt{}, err
	}
	obs := verdict.Observation{Host: sv.host, Port: hop.Port, HaveMX: sv.haveMX, MXPreference: sv.pref,
		MXSecure: sv.mxSecure, MXOwner: sv.mxOwner, AddrSecure: sv.addrSecure, MessageAge: c.opt.MessageAge}
	if sv.addr.IsValid() {
		obs.Addr = sv.addr.String()
	}
	obs.LookupError, obs.LookupPermanent = sv.lookupErr, sv.permanent
	obs.LookupDSN, obs.LookupWarning = sv.lookupDSN, sv.lookupWarning
	att := Attempt{Host: sv.host, Addr: obs.Addr, Port: hop.Port, Level: p.Level}

	trust, err := c.trustFor(ctx, p)
	engineDown := len(p.EngineUnavailable) > 0
	if err != nil {
		engineDown = true
	}
	if !p.Invalid && sv.lookupErr == "" {
		hs := p // the policy the handshake is made with
		if p.Level.IsDANE() && p.DANE != nil && p.DANE.Problem == "" && sv.hostInfo != nil {
			obs.TLSA, _, _ = c.tlsa(ctx, sv, hop.Port, p)
			// dane_init() decides before connecting (§6.1), by the rule Evaluate applies:
			// a downgraded dane uses the settings of the level it became; no connection
			// when it defers.
			var connect bool
			if hs, connect = verdict.HandshakePolicy(p, hop.NextHop, obs, c.evalOptions(nil, false)); !connect {
				if p.Level == policy.DaneOnly {
					// dane-only defers without connecting; a pin of the server's key can keep
					// it authenticated where no usable TLSA record exists: look at the
					// certificate (findings only, as for the fingerprint probe below).
					c.probe(ctx, hop, sv, p, &obs)
				}
				return c.judge(p, hop, obs, trust, engineDown, att)
			}
		}
		// With the recipient probe the session goes on exactly when Postfix would send MAIL
		// FROM: the evaluator judges what the session has shown so far.
		cont := func(s *Session) bool {
			o := obs
			c.observe(s, &o)
			opt := c.evalOptions(trust, engineDown)
			opt.NoFindings = true
			return verdict.Evaluate(p, hop.NextHop, o, opt).Outcome == verdict.OutcomeDeliver
		}
		sess := c.dial(ctx, hop, sv, hs, obs.TLSA, cont)
		c.observe(sess, &obs)
		if e := sess.Err; e != nil && deadlinePassed(ctx) && (e.Kind == KindTimeout || e.Kind == KindCanceled) {
			// The check's deadline cut the session, not one of Postfix's timeouts: never
			// judge what is left of it (fail closed: a cut session does not deliver).
			obs.ConnectError = "conversation with " + sess.Namaddr() + " cut short by the check's deadline while " + e.Step.where()
			obs.HandshakeError = ""
		}
		att.Gaps = sess.Gaps
		if c.opt.KeepSessions {
			att.Session = sess
		}
	} else if sv.lookupErr == "" && p.Entry != nil && p.Entry.TAFileError != "" {
		// A tafile= that cannot be loaded: Postfix does not connect, and the fix creates
		// the file with the CA the server sends: look at the chain (findings only).
		c.probe(ctx, hop, sv, p, &obs)
	} else if p.PinsMissing() && sv.lookupErr == "" {
		// Postfix does not connect (a fingerprint policy without usable pins), and the fix
		// is a pin of the server's certificate: look at the certificate, as posttls-finger
		// would, so that the pin is proven against it. Evaluate still judges the policy
		// invalid (no connection); only the findings read what this session saw.
		c.observe(c.dial(ctx, hop, sv, p, nil, nil), &obs)
	}
	return c.judge(p, hop, obs, trust, engineDown, att)
}

// probe makes one connection Postfix would not make, to see the server's certificate
// chain for the findings of a policy that defers before connecting (a dane-only policy
// without usable TLSA records, a missing tafile=): TLS without verification, as
// posttls-finger at encrypt. Evaluate still judges the policy as Postfix does; only the
// proofs of the fixes read the chain.
func (c *checker) probe(ctx context.Context, hop policy.Hop, sv server, p policy.Policy, obs *verdict.Observation) {
	pp := p
	pp.Level, pp.Invalid = policy.Encrypt, false
	c.observe(c.dial(ctx, hop, sv, pp, nil, nil), obs)
}

// deadlinePassed reports whether ctx has ended or its deadline has come (a socket deadline
// set to it can fire a moment before ctx.Err() says so).
func deadlinePassed(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// judge evaluates one attempt and fills its record.
func (c *checker) judge(p policy.Policy, hop policy.Hop, obs verdict.Observation, trust *verdict.Trust, engineDown bool, att Attempt) (verdict.Decision, Attempt, error) {
	d := verdict.Evaluate(p, hop.NextHop, obs, c.evalOptions(trust, engineDown))
	att.Decision = d
	att.Outcome, att.DSN, att.Reason, att.Log = d.Outcome, d.DSN, d.Reason, d.Log
	att.EffectiveLevel = d.EffectiveLevel
	if d.Trust != "" {
		t := d.Trust
		att.Trust = &t
	}
	return d, att, nil
}

// trustFor loads (once per set of files) the CAs and trust anchors a policy names.
func (c *checker) trustFor(ctx context.Context, p policy.Policy) (*verdict.Trust, error) {
	key := p.CAFile + "\x00" + p.CAPath + "\x00" + strings.Join(p.TrustAnchorFiles, "\x00") + "\x00" + strconv.FormatBool(p.AppendDefaultCA)
	if t, ok := c.trust[key]; ok {
		return t, nil
	}
	load := func() (*verdict.Trust, error) {
		t, err := verdict.LoadPolicyTrust(ctx, c.opt.FS, p, c.opt.SystemRoots)
		if err != nil && !errors.Is(err, verdict.ErrCAFile) {
			err = fmt.Errorf("%w: %w", verdict.ErrCAFile, err)
		}
		return t, err
	}
	var t *verdict.Trust
	var err error
	if c.opt.TrustCache != nil && c.opt.SystemRoots == nil {
		t, err = c.opt.TrustCache.load(ctx, c.opt.FS, key, p, load)
	} else {
		t, err = load()
	}
	if err != nil {
		return nil, err
	}
	c.trust[key] = t
	return t, nil
}

// tlsa looks up the server's TLSA records (§6.2).
func (c *checker) tlsa(ctx context.Context, sv server, port int, p policy.Policy) (*verdict.TLSAObservation, *dane.TLSAResult, error) {
	res, err := dane.LookupTLSA(ctx, c.r, dane.TLSAQuery{Host: *sv.hostInfo, Port: port, ForceInsecure: p.DANE.ForceInsecureHostTLSA})
	if err != nil {
		return &verdict.TLSAObservation{Error: err.Error()}, res, err
	}
	if res.Skipped {
		return nil, res, nil
	}
	to := &verdict.TLSAObservation{BaseDomain: res.BaseDomain, QName: res.QName, RName: res.RName}
	for _, rec := range res.Records {
		to.Records = append(to.Records, rec.String())
	}
	return to, res, nil
}

// evalOptions are the evaluator's per-call inputs for this check.
func (c *checker) evalOptions(trust *verdict.Trust, engineDown bool) verdict.EvalOptions {
	// The findings judge the same chain under other policies: signature checks are remembered.
	return verdict.EvalOptions{Now: c.opt.Now, Trust: trust, TLSEngineUnavailable: engineDown,
		ChainCache: &c.sigs, SystemRoots: c.opt.SystemRoots, SoftBounce: c.softBounce}
}

// dial holds the SMTP session the way Postfix would for this policy.
func (c *checker) dial(ctx context.Context, hop policy.Hop, sv server, p policy.Policy, tlsa *verdict.TLSAObservation, cont func(*Session) bool) *Session {
	mode := StartTLS
	switch {
	case p.Level == policy.None:
		mode = NoTLS
	case p.WrapperMode:
		mode = Wrapper
	}
	sni := ""
	switch {
	case p.Level.IsDANE() && tlsa != nil && len(tlsa.Records) > 0:
		sni = tlsa.BaseDomain
	case p.ServerName == policy.ServerNameHostname:
		sni = sv.host
	case p.ServerName == policy.ServerNameNexthop:
		sni = hop.Domain
	default:
		sni = p.ServerName
	}
	m, _ := TLSConfigFor(TLSParams{Protocols: p.Protocols, Grade: p.Ciphers, Exclusions: p.Exclude, Level: p.Level,
		Release: c.s.Version()})
	addr := net.JoinHostPort(sv.addr.String(), strconv.Itoa(hop.Port))
	sess, _ := Probe(ctx, addr, ProbeOptions{Host: sv.host, HeloName: c.helo, Mode: mode, TLS: &m, SNI: sni,
		ConnectTimeout: c.connectTimeout, HeloTimeout: c.heloTimeout, StartTLSTimeout: c.starttlsTimeout,
		Dialer: c.opt.Dialer, SkipEHLOAfterTLS: true,
		Envelope: c.envelope, Continue: cont, MailTimeout: c.mailTimeout, RcptTimeout: c.rcptTimeout, RSETTimeout: c.rsetTimeout})
	if sess.Banner != nil {
		c.sessions++
	}
	return sess
}

// observe copies what a session saw into the evaluator's Observation.
func (c *checker) observe(s *Session, obs *verdict.Observation) {
	obs.WrapperMode = s.Mode == Wrapper
	obs.STARTTLSOffered = s.STARTTLSOffered
	obs.SNI = s.SNI
	if r := s.STARTTLSReply; r != nil && !r.Positive() {
		obs.STARTTLSReply = r
	}
	if t := s.TLS; t != nil {
		obs.TLSVersion, obs.Cipher, obs.CipherBits, obs.CipherAlgBits, obs.KeyExchange = t.Version, t.Cipher, t.CipherBits, t.CipherBits, t.Group
		for _, pc := range t.PeerChain {
			if pc.Cert != nil {
				obs.Chain = append(obs.Chain, pc.Cert)
			}
		}
	}
	if s.HandshakeError != nil {
		obs.HandshakeError = s.HandshakeError.Error()
		return
	}
	if env := s.Envelope; env != nil {
		rp := &verdict.RecipientProbe{Sender: env.Sender, Recipient: env.Recipient, MailFrom: env.MAIL, RcptTo: env.RCPT, Skipped: env.Skipped}
		if r := s.PostTLSHELO; r != nil && !r.Positive() {
			rp.EHLO = r
		} else if r := s.PostTLSEHLO; r != nil && r.Code == 421 {
			rp.EHLO = r
		}
		obs.Recipient = rp
	}
	if e := s.Err; e != nil && afterTLSPart(e.Step) && c.envelope != nil {
		// Lost or timed out while the recipient was asked about.
		if obs.Recipient == nil {
			obs.Recipient = &verdict.RecipientProbe{Sender: c.envelope.Sender, Recipient: c.envelope.Recipient}
		}
		if reason, _, ok := s.FailureReason(false); ok {
			obs.Recipient.ConversationError = reason
		}
		return
	}
	// Connection-level failures before TLS (connect, greeting, EHLO) end the attempt.
	if e := s.Err; e != nil && s.TLS == nil && e.Step != StepHandshake {
		if reason, _, ok := s.FailureReason(false); ok {
			obs.ConnectError = reason
		}
	} else if s.Banner != nil && !s.Banner.Positive() {
		if reason, _, ok := s.FailureReason(false); ok {
			obs.ConnectError = reason
		}
	}
}

// afterTLSPart reports the steps of the recipient probe: what fails there fails after the
// TLS part was judged.
func afterTLSPart(st Step) bool {
	return st == StepPostTLSEHLO || st == StepPostTLSHELO || st == StepMAIL || st == StepRCPT
}

// SystemResolver is the resolver Check uses when CheckOptions.Resolver is nil: the servers
// of /etc/resolv.conf, whose AD bit is believed as Postfix believes it. A program that checks
// many destinations makes it once and passes it in every CheckOptions.
func SystemResolver() (dnssec.Resolver, error) {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("smtpclient: no resolver given and %w", err)
	}
	defer f.Close()
	rc, err := dnssec.ParseResolvConf(f)
	if err != nil {
		return nil, fmt.Errorf("smtpclient: /etc/resolv.conf: %w", err)
	}
	c := rc.Client()
	// Postfix sets RES_TRUSTAD itself (dns_lookup.c): it believes the AD bit of whatever
	// resolver resolv.conf names. Believing less would turn an enforced DANE policy into
	// opportunistic TLS and report deliveries Postfix would defer.
	c.TrustAD = dnssec.TrustADAlways
	return c, nil
}
