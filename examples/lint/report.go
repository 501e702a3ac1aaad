package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Severities. Errors are Postfix's own complaints (in Postfix's words); warnings and notes are
// the linter's advice.
const (
	sevError   = "error"
	sevWarning = "warning"
	sevNote    = "note"
)

// Finding codes. They are stable: scripts may key on them.
const (
	// Errors: Postfix itself reports these (the message is Postfix's text).
	codeTableSyntax      = "table-syntax"       // §1.1: a line the table reader skips or warns about
	codeTableStale       = "table-stale"        // §1.1: the compiled file is older than its source
	codeTableUnavailable = "table-unavailable"  // §1.4/§9.19: the table cannot be opened; every lookup fails
	codeDuplicateKey     = "duplicate-key"      // §1.1: duplicate key (texthash: whole table unavailable in smtp(8))
	codeInvalidPolicy    = "invalid-policy"     // §1.2-§1.4: the entry is invalid; mail defers with 4.7.5
	codeUnknownAttribute = "unknown-attribute"  // §1.3: attribute the emulated release does not know
	codeTAFile           = "tafile-unreadable"  // §6.5: tafile= cannot be loaded; the entry is invalid
	codeIgnoredAttribute = "ignored-attribute"  // §1.3: attributes after "none" are ignored (warning)
	codeUnknownDigest    = "unknown-digest"     // §5.1: smtp_tls_fingerprint_digest unknown: TLS disabled
	codeMainCF           = "main-cf"            // main.cf/master.cf warnings about TLS or routing parameters
	codeMainCFSyntax     = "main-cf-syntax"     // a fatal main.cf/master.cf syntax error
	codeTableNotLinted   = "table-not-emulated" // a table the library cannot read (ldap:, ...)

	// Advice: Postfix says nothing, but the configuration probably does not do what was meant.
	codeKeyNeverMatches    = "key-never-matches"           // §2.1/§9.22: [host] vs [host]:port and similar
	codeTrailingDotKey     = "trailing-dot-key"            // §2.2: "example.com." is never a next hop
	codeWildcardKey        = "wildcard-key"                // §2.2: "*.example.com" is a literal key
	codeIPKey              = "ip-key-unbracketed"          // §2.1: next hops for addresses are "[192.0.2.1]"
	codeBareDomain         = "bare-domain-key"             // §2.2/§9.21: "example.com" does not cover subdomains
	codeSecureMX           = "secure-mx-outside-domain"    // §2.3/§9.43: secure's default match excludes the MX
	codeHostnameInSecure   = "hostname-in-secure"          // §4.1: "hostname" trusts unsigned MX lookups
	codeDANENoDNSSEC       = "dane-without-dnssec"         // §6.1 item 3/§9.68
	codeWeakDigest         = "weak-fingerprint-digest"     // §5.1: md5/sha1 fingerprints
	codeFingerprintLength  = "fingerprint-length-mismatch" // §5.2/§9.53: pin length does not fit the digest
	codeLegacyParameter    = "legacy-parameter"            // §2.4: obsolete smtp_use_tls & co.
	codeNoneOverrides      = "none-overrides-global"       // §2.4 item 2/§9.25: a table "none" beats the global level
	codeWeakerThanGlobal   = "weaker-than-global"          // §2.4 item 2/§9.25: "may" under a TLS-required global level
	codeMainCFOther        = "main-cf-other"               // main.cf/master.cf warnings unrelated to TLS
	codeMoreFindings       = "more-findings"               // findings of one code beyond -max
	codePatternTableEntry  = "pattern-table-not-linted"    // regexp/pcre/inline/static entries are not linted
	codeDNSLookup          = "dns-lookup-failed"           // -dns: the MX lookup failed
	codeNoTablesConfigured = "no-policy-tables"            // -C without any smtp_tls_policy_maps
	codeDANEOnlyNoDNSSEC   = "dane-only-without-dnssec"    // §6.1 item 3: dane-only then always defers
	codeNextHopSyntax      = "next-hop-syntax"             // a configured next hop smtp(8) cannot parse
)

// Finding is one problem: where, how bad, which rule, Postfix's (or our) words, and the fix.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	// Text is the offending text (the table line, the parameter setting).
	Text string `json:"text,omitempty"`
	Fix  string `json:"fix,omitempty"`
}

// reporter writes findings as they come: errors at once, advice buffered (bounded by max per
// file and code) and written after all errors.
type reporter struct {
	w       *bufio.Writer
	json    bool
	max     int // advice findings shown per (file, code); 0 = all
	version string

	errors, warnings, notes int
	first                   bool // no finding written yet (JSON comma handling)

	advice []Finding
	counts map[[2]string]*codeCount
	order  []*codeCount // codes with hidden findings, in order of the first hidden one
}

// codeCount counts the advice findings of one file and code.
type codeCount struct {
	file, code    string
	shown, hidden int
	sev           string // the worst severity hidden
}

func newReporter(w io.Writer, jsonOut bool, max int, version string) *reporter {
	r := &reporter{w: bufio.NewWriterSize(w, 64<<10), json: jsonOut, max: max, version: version, first: true,
		counts: map[[2]string]*codeCount{}}
	if jsonOut {
		fmt.Fprintf(r.w, "{\"version\":%s,\"findings\":[", strconv.Quote(version))
	}
	return r
}

// add records a finding. Errors are written immediately; advice is kept for later, up to
// max per file and code.
func (r *reporter) add(f Finding) {
	if f.Severity == sevError {
		r.errors++
		r.write(f)
		return
	}
	if r.admit(f.File, f.Code, f.Severity) {
		r.advice = append(r.advice, f)
	}
}

// admit counts one advice finding and reports whether it is to be shown; callers on hot
// paths ask before they format the message, then call keep.
func (r *reporter) admit(file, code, sev string) bool {
	return r.admitCount(r.counter(file, code), sev)
}

// counter returns the count of one file and code; hot paths keep it.
func (r *reporter) counter(file, code string) *codeCount {
	k := [2]string{file, code}
	c := r.counts[k]
	if c == nil {
		c = &codeCount{file: file, code: code}
		r.counts[k] = c
	}
	return c
}

func (r *reporter) admitCount(c *codeCount, sev string) bool {
	if sev == sevWarning {
		r.warnings++
	} else {
		r.notes++
	}
	if r.max > 0 && c.shown >= r.max {
		if c.hidden == 0 {
			r.order = append(r.order, c)
		}
		if c.hidden == 0 || sev == sevWarning {
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

func (r *reporter) write(f Finding) {
	if r.json {
		if !r.first {
			r.w.WriteByte(',')
		}
		b, _ := json.Marshal(f)
		r.w.Write(b)
		r.first = false
		return
	}
	r.first = false
	loc := f.File
	if loc == "" {
		loc = "(settings)"
	}
	if f.Line > 0 {
		loc += ":" + strconv.Itoa(f.Line)
	}
	fmt.Fprintf(r.w, "%s: %s: %s: %s\n", loc, f.Severity, f.Code, f.Message)
	if f.Text != "" {
		fmt.Fprintf(r.w, "\t%s\n", f.Text)
	}
	if f.Fix != "" {
		fmt.Fprintf(r.w, "\tfix: %s\n", f.Fix)
	}
}

// finish writes the buffered advice, the summary, and returns the exit status.
func (r *reporter) finish() (int, error) {
	for _, f := range r.advice {
		r.write(f)
	}
	for _, c := range r.order {
		r.write(Finding{File: c.file, Severity: sevNote, Code: codeMoreFindings,
			Message: fmt.Sprintf("%d more %s %s findings not shown", c.hidden, c.code, c.sev),
			Fix:     "run with -max 0 to see all"})
	}
	if r.json {
		fmt.Fprintf(r.w, "],\"errors\":%d,\"advice\":%d,\"warnings\":%d,\"notes\":%d}\n", r.errors, r.warnings+r.notes, r.warnings, r.notes)
	} else {
		fmt.Fprintf(r.w, "lint (Postfix %s): %d errors, %d warnings, %d notes\n", r.version, r.errors, r.warnings, r.notes)
	}
	if err := r.w.Flush(); err != nil {
		return exitUsage, err
	}
	switch {
	case r.errors > 0:
		return exitErrors, nil
	case r.warnings > 0:
		return exitAdvice, nil
	}
	return exitClean, nil
}
