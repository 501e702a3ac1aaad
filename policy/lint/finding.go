package lint

import (
	"context"
	"fmt"

	"github.com/postfixtls/postfixtls/policy/finding"

	"github.com/postfixtls/postfixtls/policy"
)

// Severity says how bad a finding is (the one Severity type of package finding). Errors
// are Postfix's own complaints (in Postfix's words); warnings and notes are advice. Higher is
// worse.
type Severity = finding.Severity

// The severities lint reports, mildest first.
const (
	// SeverityNote is advice that needs no change unless it was not meant.
	SeverityNote = finding.SeverityNote
	// SeverityWarning is advice: the configuration probably does not do what was meant.
	SeverityWarning = finding.SeverityWarning
	// SeverityError is what Postfix itself reports (a skipped line, a rejected entry, a
	// fatal setting).
	SeverityError = finding.SeverityError
)

// Code names the rule behind a finding (finding.Code). The values are stable: scripts may
// key on them.
type Code = finding.Code

// Errors: Postfix itself reports these (the message is Postfix's text).
const (
	CodeTableSyntax      Code = "table-syntax"      // §1.1: a line the table reader skips or warns about
	CodeTableStale       Code = "table-stale"       // §1.1: the compiled file is older than its source
	CodeTableUnavailable Code = "table-unavailable" // §1.4/§9.19: the table cannot be opened; every lookup fails
	CodeDuplicateKey     Code = "duplicate-key"     // §1.1: duplicate key (texthash: whole table unavailable in smtp(8))
	CodeInvalidPolicy    Code = "invalid-policy"    // §1.2-§1.4: the entry is invalid; mail defers with 4.7.5
	CodeUnknownAttribute Code = "unknown-attribute" // §1.3: attribute the emulated release does not know
	CodeTAFileUnreadable Code = "tafile-unreadable" // §6.5: tafile= cannot be loaded; the entry is invalid
	CodeIgnoredAttribute Code = "ignored-attribute" // §1.3: attributes after "none" are ignored (warning)
	CodeUnknownDigest    Code = "unknown-digest"    // §5.1: smtp_tls_fingerprint_digest unknown: TLS disabled
	CodeNextHopSyntax    Code = "next-hop-syntax"   // a configured next hop smtp(8) cannot parse
	CodeMainCF           Code = "main-cf"           // main.cf/master.cf warnings and fatal settings of TLS or routing parameters
	CodeMainCFSyntax     Code = "main-cf-syntax"    // a fatal main.cf syntax error
	CodeKeyBOM           Code = "key-bom"           // a UTF-8 byte-order mark glued to the first key: it never matches
	CodeKeyControl       Code = "key-control"       // a key with control characters or non-UTF-8 bytes: it never matches
	CodeMasterCFSyntax   Code = "master-cf-syntax"  // a fatal master.cf error (master(8)'s words: "bad transport type", "bad field count", ...)
)

// Advice: Postfix says nothing, but the configuration probably does not do what was meant.
const (
	CodeKeyNeverMatches           Code = "key-never-matches"           // §2.1/§9.22: [host] vs [host]:port and similar
	CodeTrailingDotKey            Code = "trailing-dot-key"            // §2.2: "example.com." is never a next hop
	CodeWildcardKey               Code = "wildcard-key"                // §2.2: "*.example.com" is a literal key
	CodeIPKeyUnbracketed          Code = "ip-key-unbracketed"          // §2.1: next hops for addresses are "[192.0.2.1]"
	CodeBareDomainKey             Code = "bare-domain-key"             // §2.2/§9.21: "example.com" does not cover subdomains (note)
	CodeSecureMXOutsideDomain     Code = "secure-mx-outside-domain"    // §2.3/§9.43: secure's default match excludes the MX
	CodeHostnameInSecure          Code = "hostname-in-secure"          // §4.1: "hostname" trusts unsigned MX lookups
	CodeDANEWithoutDNSSEC         Code = "dane-without-dnssec"         // §6.1 item 3/§9.68: dane silently becomes may
	CodeDANEOnlyWithoutDNSSEC     Code = "dane-only-without-dnssec"    // §6.1 item 3: dane-only then always defers
	CodeWeakFingerprintDigest     Code = "weak-fingerprint-digest"     // §5.1: md5/sha1 fingerprints
	CodeFingerprintLengthMismatch Code = "fingerprint-length-mismatch" // §5.2/§9.53: pin length does not fit the digest
	CodeFingerprintNoPins         Code = "fingerprint-no-pins"         // §5.1: fingerprint without match= and an empty *_tls_fingerprint_cert_match: the policy is invalid
	CodeLegacyParameter           Code = "legacy-parameter"            // §2.4: obsolete smtp_use_tls & co.
	CodeNoneOverridesGlobal       Code = "none-overrides-global"       // §2.4 item 2/§9.25: a table "none" beats the global level (note)
	CodeWeakerThanGlobal          Code = "weaker-than-global"          // §2.4 item 2/§9.25: "may" under a TLS-required global level (note)
	CodeTableNotEmulated          Code = "table-not-emulated"          // a table the library cannot read (ldap:, ...), or reading stopped
	CodeCompiledDiffers           Code = "compiled-differs"            // §1.1: the compiled file smtp(8) reads lacks a source row or answers another value
	CodeMainCFOther               Code = "main-cf-other"               // main.cf/master.cf warnings unrelated to TLS (note)
	CodePatternTableNotLinted     Code = "pattern-table-not-linted"    // regexp/pcre/inline/static entries are not linted (note)
	CodeDNSLookupFailed           Code = "dns-lookup-failed"           // Options.LookupMX: the MX lookup failed (note)
	CodeNoPolicyTables            Code = "no-policy-tables"            // a configuration without any smtp_tls_policy_maps (note)
	CodeMoreFindings              Code = "more-findings"               // findings of one file and code beyond Options.MaxAdvice (note)
)

// Finding is one problem: where, how bad, which rule, Postfix's (or lint's) words, and the
// fix.
type Finding struct {
	// Diagnostic is where, how bad, which rule, and Postfix's (or lint's) words: the shape
	// policy/maincf and policy/tables report too. Its fields marshal at the top level.
	finding.Diagnostic
	// Text is the offending text (the table line, the parameter setting).
	Text string `json:"text,omitempty"`
	// Fix says what to change, for people: the advice in words and the lines of Edits with
	// their notes.
	Fix string `json:"fix,omitempty"`
	// Edits are the proposed changes as typed edits (the finding.Fix of Diagnose): a table
	// row built from the administrator's row with every attribute that is not the cause
	// kept, a main.cf setting, a command. Each was proven against the policy engine before
	// it is shown (Proven says how): Postfix accepts the configuration after the change,
	// would not defer the destination for a configuration reason, and gives it no lower
	// level unless Downgrade says what is given up. Empty when lint can only say it in
	// words (a fingerprint it has never seen, a merge of duplicate rows).
	Edits []finding.Fix `json:"edits,omitempty"`
}

// Summary counts the findings of a run (MaxAdvice does not change the counts).
type Summary struct {
	// Version is the Postfix release emulated.
	Version policy.Version
	// Errors, Warnings and Notes count the findings of each severity.
	Errors, Warnings, Notes int
}

// Advice returns the number of advice findings: warnings plus notes.
func (s Summary) Advice() int { return s.Warnings + s.Notes }

// reporter passes findings on as they come: errors at once, advice kept (bounded by max per
// file and code) and passed on after all errors.
type reporter struct {
	emit   func(Finding) error
	err    error              // the first emit error; nothing more is passed on
	cancel context.CancelFunc // stops the run after an emit error
	max    int                // advice findings kept per (file, code); 0 = all
	sum    Summary

	advice []Finding
	counts map[countKey]*codeCount
	order  []*codeCount // codes with hidden findings, in order of the first hidden one
}

type countKey struct {
	file string
	code Code
}

// codeCount counts the advice findings of one file and code.
type codeCount struct {
	file          string
	code          Code
	shown, hidden int
	sev           Severity // the worst severity hidden
}

func newReporter(emit func(Finding) error, max int, v policy.Version, cancel context.CancelFunc) *reporter {
	return &reporter{emit: emit, max: max, cancel: cancel, sum: Summary{Version: v}, counts: map[countKey]*codeCount{}}
}

// add records a finding. Errors are passed on immediately; advice is kept for later, up to
// max per file and code.
func (r *reporter) add(f Finding) {
	if f.Severity == SeverityError {
		r.sum.Errors++
		r.send(f)
		return
	}
	if r.admit(f.File, f.Code, f.Severity) {
		r.advice = append(r.advice, f)
	}
}

// admit counts one advice finding and reports whether it is to be kept; callers on hot
// paths ask before they format the message, then call keep.
func (r *reporter) admit(file string, code Code, sev Severity) bool {
	return r.admitCount(r.counter(file, code), sev)
}

// counter returns the count of one file and code; hot paths keep it.
func (r *reporter) counter(file string, code Code) *codeCount {
	k := countKey{file, code}
	c := r.counts[k]
	if c == nil {
		c = &codeCount{file: file, code: code}
		r.counts[k] = c
	}
	return c
}

func (r *reporter) admitCount(c *codeCount, sev Severity) bool {
	if sev == SeverityWarning {
		r.sum.Warnings++
	} else {
		r.sum.Notes++
	}
	if r.max > 0 && c.shown >= r.max {
		if c.hidden == 0 {
			r.order = append(r.order, c)
		}
		if c.hidden == 0 || sev == SeverityWarning {
			c.sev = sev
		}
		c.hidden++
		return false
	}
	c.shown++
	return true
}

// keep stores an advice finding that admit let through.
func (r *reporter) keep(f Finding) { r.advice = append(r.advice, f) }

// send passes one finding on, unless an earlier one failed.
func (r *reporter) send(f Finding) {
	if r.err != nil {
		return
	}
	if err := r.emit(f); err != nil {
		r.err = fmt.Errorf("lint: passing on a finding: %w", err)
		r.cancel()
	}
}

// finish passes on the kept advice and the more-findings notes, and returns the counts.
func (r *reporter) finish() (Summary, error) {
	for _, f := range r.advice {
		r.send(f)
	}
	r.advice = nil
	for _, c := range r.order {
		r.send(Finding{Diagnostic: finding.Diagnostic{File: c.file, Severity: SeverityNote, Code: CodeMoreFindings, Message: fmt.Sprintf("%d more %s %s findings not shown", c.hidden, c.code, c.sev)}, Fix: "run with -max 0 to see all"})
	}
	return r.sum, r.err
}
