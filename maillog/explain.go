package maillog

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
)

// Evidence that a log can lack, in the words the explanations use.
const (
	MissingNames        = "the certificate names: raise smtp_tls_loglevel to 2 for this destination (main.cf, or -o smtp_tls_loglevel=2 on the transport that serves it) and wait for the next retry, or run postfixtls check"
	MissingFingerprints = "the server's fingerprints: raise smtp_tls_loglevel to 2 for this destination (main.cf, or -o smtp_tls_loglevel=2 on the transport that serves it) and wait for the next retry: Postfix then logs fingerprint= and pkey_fingerprint= with the digest it compares; or run postfixtls check"
	MissingTLS          = "the TLS summary line: smtp_tls_loglevel is 0; set it to 1 (or 2) to see the trust word, protocol and cipher"
	MissingConfig       = "the configuration: give -C with Postfix's configuration directory to get findings and proposed policy rows"
	MissingEarlier      = "the first session: this one re-used a cached TLS session, and the verification failure was logged when that session was made (look earlier in the log, or run postfixtls check)"
	// MissingAttempt: the newest failure was a suspension (see Delivery.Suspended) and the
	// log holds no earlier failed delivery to the destination with connection lines.
	MissingAttempt = "the delivery attempt that failed: the queue manager deferred this delivery without connecting because an earlier delivery to this destination had failed, and this log holds no failed delivery with connection lines (it began later: look in an older log, e.g. the rotated maillog.1, or run postfixtls check)"
)

// SynthesizedCAName is the subject CN of the stand-in CA that Explain creates when it
// re-judges a name check from logged names. The stand-in certificates carry only the
// names Postfix logged; they are never shown as evidence of trust.
const SynthesizedCAName = "postfixtls maillog stand-in CA (synthesized from log lines, not a real certificate)"

// ExplainOptions say how to explain deliveries.
type ExplainOptions struct {
	// Settings is the Postfix configuration (nil: explanations without findings that need
	// the policy).
	Settings *policy.Settings
	// All includes destinations whose deliveries all succeeded.
	All bool
	// MaxDestinations caps the destinations kept (default 10000). When the cap is reached
	// and a delivery to a new destination fails, a destination whose deliveries all
	// succeeded makes room (without All: it would not be shown); otherwise the new
	// destination's deliveries are not kept, only counted (Collector.Stats).
	MaxDestinations int
}

// CollectorStats counts what the caps of a Collector left out.
type CollectorStats struct {
	// DestinationsDropped counts the distinct destinations whose deliveries were not kept
	// because MaxDestinations destinations were kept already; DeliveriesDropped and
	// FailedDeliveriesDropped their deliveries (all, and those not sent). A destination
	// dropped while only its successes were seen is kept from its first failure on, when a
	// succeeded-only destination can make room: it is then shown and counted. Distinct
	// destinations are counted exactly up to DropCountLimit; beyond it DestinationsDropped
	// is a lower bound and DestinationsAtLeast is set.
	DestinationsDropped     int64 `json:"destinations_not_shown"`
	DestinationsAtLeast     bool  `json:"destinations_not_shown_at_least,omitempty"`
	DeliveriesDropped       int64 `json:"deliveries_not_shown"`
	FailedDeliveriesDropped int64 `json:"failed_deliveries_not_shown"`
	// DestinationsEvicted counts destinations whose deliveries had all succeeded and that
	// made room for a failing one (only without All). A later delivery to such a
	// destination starts it afresh.
	DestinationsEvicted int64 `json:"succeeded_destinations_evicted"`
	// MaxDestinations is the cap in force.
	MaxDestinations int `json:"max_destinations"`
}

// DropCountLimit is the number of distinct dropped destinations a Collector counts
// exactly (a table of 64-bit hashes that grows to at most 4 MiB).
const DropCountLimit = 3 << 17

// maxRecipients is the number of distinct recipients counted per destination.
const maxRecipients = 100

// Explanation is the story of one destination.
type Explanation struct {
	// Destination is the next hop Postfix used (with Settings: the transport's next hop such
	// as "[relay.example]:587" or the recipient domain) or the recipient domain.
	Destination string `json:"destination"`
	// Domains are the recipient domains seen for it (at most 20).
	Domains []string `json:"domains,omitempty"`
	// Deliveries counts the status lines, Statuses them by status word, Recipients the
	// distinct recipients (at most 100 counted: RecipientsAtLeast is set beyond).
	Deliveries        int            `json:"deliveries"`
	Statuses          map[string]int `json:"statuses"`
	Recipients        int            `json:"recipients"`
	RecipientsAtLeast bool           `json:"recipients_at_least,omitempty"`
	// FirstLogged and LastLogged are the timestamps of the first and newest status lines as
	// logged; First and Last are them parsed (see Delivery.Time: not in JSON).
	FirstLogged string    `json:"first,omitempty"`
	LastLogged  string    `json:"last,omitempty"`
	First       time.Time `json:"-"`
	Last        time.Time `json:"-"`
	// Latest is the newest delivery that failed (or the newest at all when none failed).
	Latest Delivery `json:"latest"`
	// Attempted is set when Latest was suspended (Delivery.Suspended): the newest earlier
	// failed delivery to the destination that had connection attempts. The findings are
	// those of its attempts.
	Attempted *Delivery `json:"attempted,omitempty"`
	// Verdict says Postfix's verdict in a sentence; Story what happened, attempt by attempt.
	Verdict string   `json:"verdict"`
	Story   []string `json:"story"`
	// Policy is the TLS policy the configuration gives the deciding server (with Settings).
	Policy *PolicyInfo `json:"policy,omitempty"`
	// Findings explain the failure and propose fixes, narrowest first.
	Findings []finding.Finding `json:"findings,omitempty"`
	// Missing lists evidence the log lacks for a complete answer.
	Missing []string `json:"missing,omitempty"`
	// Notes say how the answer was reached where it is not plain reading of the log.
	Notes []string `json:"notes,omitempty"`

	sentSeq int64
	sentLog string
	// tried is the newest failed delivery with connection attempts (one per destination).
	tried *Delivery
}

// dest is what a Collector keeps of a destination until Each explains it: the parts of
// an Explanation that Add fills, without the ones explaining fills.
type dest struct {
	key                     string
	domains                 []string
	deliveries              int
	statuses                []statusCount
	first, last             time.Time
	firstLogged, lastLogged string
	// latest is the newest delivery that failed (the newest at all while none failed;
	// nil then unless ExplainOptions.All: it is never shown), lastSeq its Seq.
	latest           packed
	lastSeq, sentSeq int64
	sentLog          string
	rcpts            []uint64 // hashes of the distinct recipients (at most maxRecipients)
	moreRcpt, failed bool
	// tried is the newest failed delivery with connection attempts, triedAt its Seq; when
	// it is latest itself (as it mostly is), triedIsLatest is set and tried is nil.
	tried         packed
	triedAt       int64
	triedIsLatest bool
}

// statusCount counts the status lines with one status word.
type statusCount struct {
	word string
	n    int
}

// triedSeq is the Seq of the tried delivery (-1 when none).
func (e *dest) triedSeq() int64 {
	switch {
	case e.triedIsLatest:
		return e.lastSeq
	case e.tried != nil:
		return e.triedAt
	}
	return -1
}

// explanation returns the Explanation of e as far as Add knows it.
func (e *dest) explanation() Explanation {
	x := Explanation{Destination: e.key, Domains: e.domains, Deliveries: e.deliveries,
		Statuses: make(map[string]int, len(e.statuses)), Recipients: len(e.rcpts), RecipientsAtLeast: e.moreRcpt,
		FirstLogged: e.firstLogged, LastLogged: e.lastLogged, First: e.first, Last: e.last,
		Latest: e.latest.unpack(), sentSeq: e.sentSeq, sentLog: e.sentLog}
	for _, st := range e.statuses {
		x.Statuses[st.word] = st.n
	}
	switch {
	case e.triedIsLatest:
		t := x.Latest
		x.tried = &t
	case e.tried != nil:
		t := e.tried.unpack()
		x.tried = &t
	}
	return x
}

// PolicyInfo is the policy summary shown with an explanation.
type PolicyInfo struct {
	Nexthop string       `json:"nexthop"`
	Level   policy.Level `json:"level"`
	Match   []string     `json:"match,omitempty"`
	Source  string       `json:"source"`
	Valid   bool         `json:"valid"`
}

// Collector groups deliveries by destination. It is not safe for concurrent use. Its
// memory is bounded: at most MaxDestinations destinations, each with at most two
// deliveries (the newest failure and the newest failure with connections), 20 domains and
// 100 recipient hashes, plus a fixed table counting the destinations left out.
type Collector struct {
	opt     ExplainOptions
	dests   map[string]*dest
	nexthop map[string]string
	// okOnly stacks the destinations created with a successful delivery (candidates to
	// make room for failing ones; entries that failed since or are gone are skipped).
	okOnly []string
	// dropped is an open-addressing set of the hashes of dropped destinations.
	dropped []uint64
	ndrop   int
	stats   CollectorStats
	seed    maphash.Seed
	scratch []byte // pack's buffer
}

// NewCollector returns an empty Collector.
func NewCollector(opt ExplainOptions) *Collector {
	if opt.MaxDestinations <= 0 {
		opt.MaxDestinations = 10000
	}
	return &Collector{opt: opt, dests: map[string]*dest{}, nexthop: map[string]string{}, seed: maphash.MakeSeed(),
		stats: CollectorStats{MaxDestinations: opt.MaxDestinations}}
}

// Stats returns the counts of what the caps left out.
func (c *Collector) Stats() CollectorStats { return c.stats }

// SetSettings replaces the configuration the explanations use (for example once the log
// has shown which release wrote it). Destinations already grouped keep their keys.
func (c *Collector) SetSettings(s *policy.Settings) { c.opt.Settings = s }

// makeRoom evicts a destination whose deliveries all succeeded; false when there is none.
func (c *Collector) makeRoom() bool {
	for len(c.okOnly) > 0 {
		k := c.okOnly[len(c.okOnly)-1]
		c.okOnly = c.okOnly[:len(c.okOnly)-1]
		if e := c.dests[k]; e != nil && !e.failed {
			delete(c.dests, k)
			c.stats.DestinationsEvicted++
			return true
		}
	}
	return false
}

// drop counts a delivery to a destination that is not kept.
func (c *Collector) drop(key string, fail bool) {
	c.stats.DeliveriesDropped++
	if fail {
		c.stats.FailedDeliveriesDropped++
	}
	h := maphash.String(c.seed, key) | 1 // 0 marks a free slot
	if c.ndrop >= DropCountLimit {
		if !c.inDropped(h) {
			c.stats.DestinationsDropped++ // may have been seen before: a lower bound no more
			c.stats.DestinationsAtLeast = true
		}
		return
	}
	if len(c.dropped) == 0 || c.ndrop >= len(c.dropped)*3/4 {
		old := c.dropped
		c.dropped = make([]uint64, max(1024, 2*len(old)))
		for _, x := range old {
			if x != 0 {
				c.insertDropped(x)
			}
		}
	}
	if c.insertDropped(h) {
		c.ndrop++
		c.stats.DestinationsDropped++
	}
}

// insertDropped adds h to the set and reports whether it was new.
func (c *Collector) insertDropped(h uint64) bool {
	n := uint64(len(c.dropped))
	for i := h % n; ; i = (i + 1) % n {
		switch c.dropped[i] {
		case h:
			return false
		case 0:
			c.dropped[i] = h
			return true
		}
	}
}

func (c *Collector) inDropped(h uint64) bool {
	n := uint64(len(c.dropped))
	for i := h % n; ; i = (i + 1) % n {
		switch c.dropped[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// Add records one delivery.
func (c *Collector) Add(ctx context.Context, d Delivery) {
	key := c.destination(ctx, d)
	fail := d.Status != "sent"
	e := c.dests[key]
	if e == nil {
		if len(c.dests) >= c.opt.MaxDestinations && !(fail && !c.opt.All && c.makeRoom()) {
			c.drop(key, fail)
			return
		}
		e = &dest{key: key}
		c.dests[key] = e
		if !fail && !c.opt.All {
			if len(c.okOnly) >= 2*c.opt.MaxDestinations {
				kept := c.okOnly[:0]
				for _, k := range c.okOnly {
					if x := c.dests[k]; x != nil && !x.failed {
						kept = append(kept, k)
					}
				}
				c.okOnly = kept
			}
			c.okOnly = append(c.okOnly, key)
		}
	}
	e.deliveries++
	counted := false
	for i := range e.statuses {
		if e.statuses[i].word == d.Status {
			e.statuses[i].n++
			counted = true
			break
		}
	}
	if !counted {
		e.statuses = append(e.statuses, statusCount{d.Status, 1})
	}
	if h := maphash.String(c.seed, d.Recipient); !e.moreRcpt && !slices.Contains(e.rcpts, h) {
		if len(e.rcpts) < maxRecipients {
			e.rcpts = append(e.rcpts, h)
		} else {
			e.moreRcpt = true
		}
	}
	if d.Domain != "" && len(e.domains) < 20 && !contains(e.domains, d.Domain) {
		e.domains = append(e.domains, d.Domain)
	}
	if e.first.IsZero() || (!d.Time.IsZero() && d.Time.Before(e.first)) {
		e.first, e.firstLogged = d.Time, d.Logged
	}
	if d.Time.After(e.last) || (e.lastLogged == "" && e.last.IsZero()) {
		e.last, e.lastLogged = d.Time, d.Logged
	}
	if !fail && d.Seq > e.sentSeq {
		e.sentSeq, e.sentLog = d.Seq, d.Logged
	}
	tried := fail && len(d.Attempts) > 0 && d.Seq >= e.triedSeq()
	newer := d.Seq >= e.lastSeq
	latest := (fail && (!e.failed || newer)) || (!e.failed && newer)
	if latest && e.triedIsLatest && !tried {
		// the tried delivery stays (packed buffers are never changed: it is shared)
		e.tried, e.triedAt, e.triedIsLatest = e.latest, e.lastSeq, false
	}
	if latest {
		e.latest, e.lastSeq = nil, d.Seq
		if fail || c.opt.All {
			e.latest, c.scratch = pack(c.scratch, &d)
		}
		e.failed = e.failed || fail
	}
	if tried {
		if latest {
			e.tried, e.triedIsLatest = nil, true
		} else {
			e.tried, c.scratch = pack(c.scratch, &d)
			e.triedAt, e.triedIsLatest = d.Seq, false
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (c *Collector) destination(ctx context.Context, d Delivery) string {
	if c.opt.Settings == nil || d.Domain == "" {
		if d.Domain == "" {
			return d.Recipient
		}
		return d.Domain
	}
	if nh, ok := c.nexthop[d.Domain]; ok {
		return nh
	}
	nh := d.Domain
	if rt, err := c.opt.Settings.Route(ctx, d.Recipient); err == nil && rt.Nexthop != "" {
		nh = rt.Nexthop
	}
	if len(c.nexthop) < 10000 {
		c.nexthop[d.Domain] = nh
	}
	return nh
}

// Explanations returns one explanation per destination with a failed delivery (every
// destination with ExplainOptions.All), newest first.
func (c *Collector) Explanations(ctx context.Context) []Explanation {
	var out []Explanation
	c.Each(ctx, func(e *Explanation) error {
		out = append(out, *e)
		return nil
	})
	return out
}

// Each calls fn with the explanations of Explanations, in the same order, one at a time:
// only the one passed to fn and the few explained ahead of it (on a goroutine of Each's,
// ended before Each returns) are in memory. It stops at fn's first error and returns it.
// fn must not call the Collector's Add or SetSettings.
func (c *Collector) Each(ctx context.Context, fn func(*Explanation) error) error {
	var keep []*dest
	for _, e := range c.dests {
		if e.failed || c.opt.All {
			keep = append(keep, e)
		}
	}
	sort.Slice(keep, func(i, j int) bool {
		a, b := keep[i], keep[j]
		if !a.last.Equal(b.last) {
			return a.last.After(b.last)
		}
		if a.lastSeq != b.lastSeq {
			return a.lastSeq > b.lastSeq
		}
		return a.key < b.key
	})
	// The explanations are made on a goroutine of their own, a few ahead of fn (which
	// mostly prints them): the two take about as long.
	out := make(chan *Explanation, 32)
	stop := make(chan struct{})
	defer func() {
		// fn failed (or panicked): stop the goroutine; it has ended once out is closed
		close(stop)
		for range out {
		}
	}()
	go func() {
		defer close(out)
		for _, e := range keep {
			x := e.explanation()
			explainOne(ctx, &x, c.opt.Settings)
			select {
			case out <- &x:
			case <-stop:
				return
			}
		}
	}()
	for x := range out {
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

// Explain reads a whole log and explains it (see Collector and Reader).
func Explain(ctx context.Context, r *Reader, opt ExplainOptions) ([]Explanation, error) {
	c := NewCollector(opt)
	for {
		d, err := r.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		c.Add(ctx, d)
	}
	return c.Explanations(ctx), nil
}

// explainOne writes the verdict, the story, the findings and what is missing.
func explainOne(ctx context.Context, e *Explanation, s *policy.Settings) {
	d := e.Latest
	e.Verdict = fmt.Sprintf("%s: %s (dsn=%s", d.Status, d.Reason, d.DSN)
	if d.Relay != "" {
		e.Verdict += ", relay=" + d.Relay
	}
	e.Verdict += ")"
	if n := e.Deliveries; n > 1 {
		e.Verdict += fmt.Sprintf("; %d status lines for this destination", n)
	}
	if d.Status != "sent" && e.sentSeq > d.Seq {
		e.Verdict += "; a later delivery to it succeeded"
		if e.sentLog != "" {
			e.Verdict += " (" + e.sentLog + ")"
		}
	}
	e.Story = nil
	e.Findings, e.Missing, e.Notes = nil, nil, nil
	suspended, isSuspended := d.Suspended()
	if isSuspended && d.Status != "sent" {
		t := e.tried
		if t == nil || t.Seq > d.Seq {
			e.Story = append(e.Story, fmt.Sprintf("not attempted: the queue manager had suspended deliveries to this destination after an earlier delivery to it failed (%q), and deferred this one without connecting; that earlier delivery is not in this log", suspended))
			e.Missing = append(e.Missing, MissingAttempt)
		} else {
			e.Attempted = t
			at := ""
			if t.Logged != "" {
				at = " at " + t.Logged
			}
			if t.Reason == suspended {
				e.Story = append(e.Story, fmt.Sprintf("not attempted: the queue manager had suspended deliveries to this destination after a delivery to it failed, and deferred this one without connecting; the newest earlier failed delivery with connections, %s to %s%s, failed with the reason the suspension names; its attempts:", t.QueueID, t.Recipient, at))
			} else {
				e.Story = append(e.Story, fmt.Sprintf("not attempted: the queue manager had suspended deliveries to this destination after a delivery to it failed (%q), and deferred this one without connecting; the newest earlier failed delivery with connections, %s to %s%s, failed otherwise (%q); its attempts:", suspended, t.QueueID, t.Recipient, at, t.Reason))
				e.Notes = append(e.Notes, "the failure that suspended this destination may not be in this log: the findings are those of the newest earlier delivery with connections, whose reason differs")
			}
			d = *t
		}
	}
	e.Story = append(e.Story, d.Warnings...)
	var decide *Attempt
	for i := range d.Attempts {
		a := &d.Attempts[i]
		e.Story = append(e.Story, describe(a))
		if a.Final || decide == nil || (a.Reason != "" && !decide.Final) {
			decide = a
		}
	}
	if len(d.Attempts) == 0 && d.Status != "sent" && !isSuspended {
		e.Story = append(e.Story, "no connection lines for this delivery: "+d.Reason)
	}
	if d.Status == "sent" {
		return
	}
	fromLog(e, d, decide)
	if s == nil {
		e.Missing = append(e.Missing, MissingConfig)
		return
	}
	withSettings(ctx, e, s, d, decide)
}

// describe renders one attempt in a line.
func describe(a *Attempt) string {
	var b strings.Builder
	srv := a.Server
	if srv == "" {
		srv = "(server not logged)"
	}
	b.WriteString(srv)
	if a.ConnectError != "" {
		b.WriteString(": " + a.ConnectError)
	}
	if a.TLS != nil {
		fmt.Fprintf(&b, ": %s TLS, %s, %s", a.TLS.Trust, a.TLS.Protocol, a.TLS.Cipher)
	}
	for _, v := range a.Verify {
		b.WriteString("; verification: " + v.Text)
	}
	if a.HandshakeError != "" {
		b.WriteString("; handshake error: " + a.HandshakeError)
	}
	for _, l := range a.Library {
		b.WriteString("; TLS library: " + l)
	}
	if n := certNames(a); len(n) > 0 {
		b.WriteString("; certificate names logged: " + strings.Join(n, ", "))
	}
	for _, x := range a.DANE {
		b.WriteString("; " + x)
	}
	if a.ReusedUntrusted {
		b.WriteString("; re-used a session whose certificate was not verified")
	}
	if a.Reason != "" {
		b.WriteString(" -> " + a.Reason)
	}
	return b.String()
}

// certNames returns the distinct names the log shows for the peer certificate.
func certNames(a *Attempt) []string {
	var out []string
	for _, n := range a.Names {
		if !contains(out, n.Name) {
			out = append(out, n.Name)
		}
	}
	return out
}

// nameOnly reports whether the log proves that the chain was trusted and only the name
// check failed: the only verification error is a hostname or IP mismatch (3.6+), or the
// reason is "Server certificate not verified" from a release that reports an untrusted
// chain separately (<= 3.5: "Trusted" summary), or the trust word is Trusted/Verified.
func nameOnly(a *Attempt) bool {
	if a == nil {
		return false
	}
	if len(a.Verify) > 0 {
		for _, v := range a.Verify {
			if v.Num != verdict.X509HostnameMismatch && v.Num != verdict.X509IPMismatch {
				return false
			}
		}
		return true
	}
	return a.TLS != nil && (a.TLS.Trust == verdict.TrustTrusted || a.TLS.Trust == verdict.TrustVerified)
}

// fromLog adds what the log alone says.
func fromLog(e *Explanation, d Delivery, a *Attempt) {
	reason := d.Reason
	if a != nil && a.Reason != "" {
		reason = a.Reason
	}
	reason = strings.TrimPrefix(reason, SuspendedPrefix)
	add := func(code finding.Code, cause, summary string, details ...string) {
		e.Findings = append(e.Findings, finding.Finding{Code: code, Cause: cause, Summary: summary, Details: details})
	}
	srv := d.Relay
	if a != nil && a.Server != "" {
		srv = a.Server
	}
	switch {
	case strings.HasPrefix(reason, "TLS is required, but was not offered"):
		add(finding.NoSTARTTLS, "G-4", fmt.Sprintf("%s did not offer STARTTLS in its EHLO reply, and the policy requires TLS.", srv))
	case strings.Contains(reason, "refused to start TLS"):
		add(finding.STARTTLSRefused, "G-6", fmt.Sprintf("%s announced STARTTLS but refused it: %s", srv, reason))
	case strings.HasPrefix(reason, verdict.ReasonHandshake):
		f := finding.Finding{Code: finding.HandshakeFailure, Cause: "G-3", Summary: fmt.Sprintf("The TLS handshake with %s failed.", srv)}
		if a != nil {
			if a.HandshakeError != "" {
				f.Details = append(f.Details, "SSL_connect error: "+a.HandshakeError)
			}
			for _, l := range a.Library {
				f.Details = append(f.Details, "TLS library problem: "+l)
			}
		}
		e.Findings = append(e.Findings, f)
	case strings.HasPrefix(reason, policy.InvalidReason):
		add(finding.InvalidPolicy, "E-1", "Postfix found the TLS policy for this destination invalid and did not connect; the warning before the status line names the problem.", d.Warnings...)
	case strings.HasPrefix(reason, "TLSA lookup error"):
		add(finding.TLSALookup, "D-4", "The TLSA lookup failed (SERVFAIL, timeout or a bogus answer), so Postfix deferred: "+reason)
	case strings.HasPrefix(reason, verdict.ReasonEngine):
		add(finding.NoCA, "A-1", "Postfix's TLS engine did not start (look for \"cannot load Certification Authority data\" or another TLS initialisation warning at process start).")
	case strings.HasPrefix(reason, verdict.ReasonNotTrusted):
		add(finding.IssuerNotTrusted, "A-2", fmt.Sprintf("The certificate chain of %s did not validate against the configured CAs (Postfix <= 3.5 wording).", srv))
	}
	if a == nil {
		return
	}
	for _, v := range a.Verify {
		t := strings.ToLower(v.Text)
		switch {
		case strings.HasPrefix(t, "untrusted issuer"):
			add(finding.IssuerNotTrusted, "A-2", fmt.Sprintf("The chain of %s ends at %s, which is not among the CAs in smtp_tls_CAfile/smtp_tls_CApath.", srv, strings.TrimPrefix(v.Text, "untrusted issuer ")))
		case strings.HasPrefix(t, "self-signed certificate"), strings.Contains(t, "self signed"), strings.Contains(t, "self-signed"):
			add(finding.SelfSigned, "C-3", fmt.Sprintf("%s presents a self-signed certificate.", srv))
		case strings.Contains(t, "certificate has expired"):
			add(finding.Expired, "C-2", fmt.Sprintf("A certificate of %s has expired (%s certificate).", srv, orWord(v.Purpose, "server")))
		case strings.Contains(t, "not yet valid"):
			add(finding.NotYetValid, "C-2", fmt.Sprintf("A certificate of %s is not yet valid (or the local clock is wrong).", srv))
		case v.Num == verdict.X509DANENoMatch || strings.Contains(t, "dane tlsa"):
			add(finding.TLSAStale, "D-3", fmt.Sprintf("No TLSA record of %s matches the certificate it presents: the records are stale after a key or certificate rollover, or the server sends the wrong chain.", srv), a.DANE...)
		case v.Num == verdict.X509HostnameMismatch || v.Num == verdict.X509IPMismatch:
			// explained with the names below
		case strings.Contains(t, "not trusted by local or tlsa policy"):
			add(finding.FingerprintStale, "D-1", fmt.Sprintf("The certificate of %s matched neither a pinned fingerprint nor a TLSA record.", srv), fpDetails(a)...)
		}
	}
	if a.ReusedUntrusted && len(a.Verify) == 0 {
		e.Missing = append(e.Missing, MissingEarlier)
	}
	if a.TLS == nil && a.ConnectError == "" && a.Server != "" && (strings.Contains(reason, "certificate") || strings.Contains(reason, "TLS")) {
		e.Missing = append(e.Missing, MissingTLS)
	}
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fpDetails(a *Attempt) []string {
	var out []string
	if a.CertFingerprint != "" {
		out = append(out, "certificate fingerprint (logged): "+a.CertFingerprint)
	}
	if a.PKeyFingerprint != "" {
		out = append(out, "public-key fingerprint (logged): "+a.PKeyFingerprint)
	}
	return out
}

// withSettings adds the policy and the findings that need it.
func withSettings(ctx context.Context, e *Explanation, s *policy.Settings, d Delivery, a *Attempt) {
	res, err := s.Resolve(ctx, d.Recipient)
	if err != nil || len(res.Hops) == 0 {
		e.Notes = append(e.Notes, fmt.Sprintf("could not resolve %s with the configuration: %v", d.Recipient, err))
		return
	}
	hop := res.Hops[0]
	if a != nil && len(res.Hops) > 1 {
		for _, h := range res.Hops {
			if strings.EqualFold(h.Domain, a.Host) {
				hop = h
			}
		}
	}
	p := hop.Policy
	host := hop.Domain
	if a != nil && a.Host != "" {
		host = a.Host
		if pp, err := s.PolicyFor(ctx, res.Route, hop.NextHop, host); err == nil {
			p = pp
		}
	}
	e.Policy = &PolicyInfo{Nexthop: hop.Key, Level: p.Level, Match: p.Match, Source: p.Source.String(), Valid: !p.Invalid}
	e.Findings = append(e.Findings, s.ConfigFindings(ctx, res)...)
	if p.Invalid {
		// An invalid policy needs no connection evidence: package policy explains it fully.
		fs := verdict.Findings(p, hop.NextHop, verdict.Observation{Host: host}, verdict.EvalOptions{Version: s.Version()})
		if len(fs) > 0 {
			kept := e.Findings[:0]
			for _, f := range e.Findings {
				if f.Code != finding.InvalidPolicy {
					kept = append(kept, f)
				}
			}
			e.Findings = append(kept, fs...)
		}
		if len(p.Warnings) > 0 {
			e.Notes = append(e.Notes, "the configuration makes this policy invalid: "+strings.Join(p.Warnings, "; "))
		}
	}
	if a == nil {
		return
	}
	r := a.Reason
	if r == "" {
		r = d.Reason
	}
	if !p.Level.TLSRequired() && (strings.HasPrefix(r, verdict.ReasonNotVerified) || strings.HasPrefix(r, verdict.ReasonNotTrusted) || strings.HasPrefix(r, "TLS is required")) {
		e.Notes = append(e.Notes, fmt.Sprintf("the configuration gives %s level %q, but the log shows a level that requires TLS: the configuration differs from the one that wrote the log (another -C, a later change, or a transport with its own settings)", hop.Key, p.Level.String()))
	}
	for i := range e.Findings {
		f := &e.Findings[i]
		if f.Code != finding.IssuerNotTrusted || len(f.Fixes) > 0 {
			continue
		}
		f.Details = append(f.Details, fmt.Sprintf("configured: smtp_tls_CAfile = %q, smtp_tls_CApath = %q", p.CAFile, p.CAPath))
		if p.CAFile == "" && p.CAPath == "" && len(p.TrustAnchorFiles) == 0 {
			f.Code, f.Cause = finding.NoCA, "A-1"
			f.Summary += " No CA is configured at all: with smtp_tls_CAfile and smtp_tls_CApath empty, Postfix trusts nothing (the system store is not used)."
		}
		// A log holds no chain, so no fix can be proven: the usual ones are advice only
		// (postfixtls check proves them against the server).
		if len(p.TrustAnchorFiles) == 0 {
			f.Details = append(f.Details, "not proven from the log: smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt (main.cf), if the server's CA is a public one and the configured file is the wrong bundle")
		}
		if p.Level >= policy.Verify && a.Host != "" {
			f.Details = append(f.Details, fmt.Sprintf("not proven from the log: for a private CA, a trust-anchor file for this next hop only (tafile=/etc/postfix/tls/%s-ca.pem in the row of %s) holding the issuer named above, obtained from the operator", strings.TrimSuffix(a.Host, "."), hop.Key))
		}
	}
	nameFail := false
	for _, v := range a.Verify {
		if v.Num == verdict.X509HostnameMismatch || v.Num == verdict.X509IPMismatch {
			nameFail = true
		}
	}
	if strings.HasPrefix(a.Reason, verdict.ReasonNotVerified) && len(a.Verify) == 0 && p.Level.IsPKIX() && nameOnly(a) {
		nameFail = true // <= 3.5 (or loglevel without detail): trusted chain, name not matched
	}
	if p.Level.IsPKIX() && !nameFail && len(a.Verify) == 0 && strings.HasPrefix(a.Reason, verdict.ReasonNotVerified) && a.TLS == nil {
		e.Missing = append(e.Missing, MissingNames)
	}
	switch {
	case p.Level.IsPKIX() && nameFail:
		names := logNames(a)
		if len(names.san) == 0 && names.cn == "" {
			e.Missing = append(e.Missing, MissingNames)
			return
		}
		rejudgeNames(e, s, p, hop.NextHop, a, names)
	case p.Level == policy.Fingerprint && strings.HasPrefix(a.Reason, verdict.ReasonNotVerified):
		// A pin of the wrong length can never match, whatever the server sends (§5.2).
		var sizes []string
		for _, v := range p.Match {
			if m, bad := fingerprint.CheckSize(v, p.FingerprintDigest); bad {
				sizes = append(sizes, fmt.Sprintf("the pin %s is %s", v, m))
			}
		}
		f := finding.Finding{Code: finding.FingerprintStale, Cause: "D-1",
			Summary: fmt.Sprintf("The pinned fingerprints (%s) match neither the certificate nor the public key that %s presented.", strings.Join(p.Match, ", "), a.Server),
			Details: append(sizes, fpDetails(a)...)}
		if a.CertFingerprint == "" && a.PKeyFingerprint == "" {
			e.Missing = append(e.Missing, MissingFingerprints)
			if len(sizes) == 0 {
				return
			}
		}
		if a.PKeyFingerprint != "" {
			f.Details = append(f.Details, "not proven from the log: pin the public key Postfix saw (digest "+digestName(a.PKeyFingerprint)+", match="+a.PKeyFingerprint+"), but only after confirming out of band that this key is genuine: a log line is no proof")
		}
		replaced := false
		for i := range e.Findings {
			if e.Findings[i].Code == f.Code {
				e.Findings[i], replaced = f, true
			}
		}
		if !replaced {
			e.Findings = append(e.Findings, f)
		}
	}
}

func digestName(fp string) string {
	switch (len(fp) + 1) / 3 {
	case 16:
		return "md5"
	case 20:
		return "sha1"
	case 32:
		return "sha256"
	case 64:
		return "sha512"
	}
	return "unknown"
}

type loggedNames struct {
	san []string
	cn  string
}

// logNames collects the certificate names the log holds: subjectAltName lines (<= 3.5)
// and the subject CN.
func logNames(a *Attempt) loggedNames {
	var n loggedNames
	for _, x := range a.Names {
		switch x.Kind {
		case "subjectAltName":
			if !contains(n.san, x.Name) {
				n.san = append(n.san, x.Name)
			}
		case "subject_CN", "CommonName", "subject":
			if n.cn == "" {
				n.cn = x.Name
			}
		}
	}
	return n
}

// rejudgeNames re-runs Postfix's name check with verdict.Evaluate on a stand-in chain that
// carries only the logged names. The chain is "trusted" only because the log proves the
// real one was (nameOnly); the stand-in never reaches any output.
func rejudgeNames(e *Explanation, s *policy.Settings, p policy.Policy, hop policy.NextHop, a *Attempt, names loggedNames) {
	now := time.Now()
	root, leaf, err := standIn(names, now)
	if err != nil {
		e.Notes = append(e.Notes, "could not build the stand-in certificate: "+err.Error())
		return
	}
	obs := verdict.Observation{Host: a.Host, Addr: a.Addr, Port: a.Port, HaveMX: !strings.EqualFold(a.Host, hop.Domain) || hop.MX,
		STARTTLSOffered: true, Chain: verdict.Chain{leaf}, SNI: a.SNI}
	if a.TLS != nil {
		obs.TLSVersion, obs.Cipher, obs.CipherBits, obs.CipherAlgBits = a.TLS.Protocol, a.TLS.Cipher, a.TLS.Bits, a.TLS.AlgBits
	}
	dec := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{Version: s.Version(), Now: now, Trust: &verdict.Trust{CAs: []*x509.Certificate{root}}})
	src := "the subject CN"
	if len(names.san) > 0 {
		src = "the subjectAltNames"
	}
	why := "the only verification error Postfix logged was the name mismatch"
	if len(a.Verify) == 0 {
		why = "Postfix logged the session as " + string(a.TLS.Trust)
	}
	all := append([]string(nil), names.san...)
	if names.cn != "" && !contains(all, names.cn) {
		all = append(all, "CN "+names.cn)
	}
	e.Notes = append(e.Notes, fmt.Sprintf("name check re-run with Postfix %s's rules on %s logged at smtp_tls_loglevel 2 (%s); the chain counts as trusted because %s",
		s.Version(), src, strings.Join(all, ", "), why))
	if len(names.san) == 0 {
		e.Notes = append(e.Notes, "Postfix >= 3.6 logs the subject CN, not the subjectAltNames: the certificate may name more hosts (postfixtls check lists them all)")
	}
	if dec.Outcome == verdict.OutcomeDeliver {
		e.Notes = append(e.Notes, "with the logged names the current configuration would pass the name check: either the configuration changed since, or the certificate carries names the log does not show")
		return
	}
	findings := dec.Findings
	kept := 0
	for _, f := range findings {
		switch f.Code {
		case finding.SecureNexthopMismatch, finding.HostnameMismatch, finding.IPNexthop, finding.NoNameChecks:
			e.Findings = append(e.Findings, f)
			kept++
		}
	}
	if kept == 0 {
		var codes []string
		for _, f := range findings {
			codes = append(codes, string(f.Code))
		}
		e.Notes = append(e.Notes, fmt.Sprintf("the re-run name check failed (%s: %s) but gave no name finding (findings: %s)", dec.DSN, dec.Reason, strings.Join(codes, ", ")))
	}
}

// standIn makes a throw-away root and a leaf carrying the logged names only.
func standIn(n loggedNames, now time.Time) (root, leaf *x509.Certificate, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: SynthesizedCAName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, rt, rt, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if root, err = x509.ParseCertificate(der); err != nil {
		return nil, nil, err
	}
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: n.cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: n.san,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err = x509.CreateCertificate(rand.Reader, lt, root, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err = x509.ParseCertificate(der)
	return root, leaf, err
}
