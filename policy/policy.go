package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/tables"
)

// The DSN and reason Postfix uses when a policy is invalid (postfix-semantics.md §1.4).
const (
	InvalidDSN    DSN    = "4.7.5"
	InvalidReason string = "client TLS configuration problem"
)

// SourceKind says which mechanism decided a policy's level (postfix-semantics.md §2.4).
type SourceKind string

// The mechanisms, in Postfix's precedence order.
const (
	FromTLSRequiredHeader SourceKind = "tls-required-header" // "TLS-Required: no" (3.10+)
	FromPolicyTable       SourceKind = "policy-table"        // smtp_tls_policy_maps hit
	FromPerSiteTable      SourceKind = "per-site-table"      // obsolete smtp_tls_per_site
	FromGlobal            SourceKind = "global"              // smtp_tls_security_level
	FromLegacy            SourceKind = "legacy"              // smtp_use_tls / smtp_enforce_tls
	// FromCommandLine is LoadOptions.CommandLine: a one-off policy given to a tool, as
	// posttls-finger's -l, -m and -p give it; it replaces the configured policy.
	FromCommandLine SourceKind = "command-line"
)

// Source says where a policy came from: the table, key, file and line of the entry that
// decided it, or the main.cf parameter.
type Source struct {
	// Kind is the mechanism.
	Kind SourceKind `json:"kind"`
	// Table is the table as configured ("texthash:/etc/postfix/tls_policy"), for table kinds.
	Table string `json:"table,omitempty"`
	// Key is the lookup key that was found (".example.com" after parent-domain recursion).
	Key string `json:"key,omitempty"`
	// File and Line locate the entry (Line is the first line of a multi-line entry).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Raw is the entry as written (continuation lines joined).
	Raw string `json:"raw,omitempty"`
	// Note says how the table was read ("read from the source file beside ...").
	Note string `json:"note,omitempty"`
	// Params are the main.cf parameters that decided the level, for the global and legacy
	// kinds, and for a table miss.
	Params []Param `json:"params,omitempty"`
}

// String renders the source as the check tool's JSON does:
// "texthash:/etc/postfix/tls_policy:3: example.com secure",
// "texthash:/etc/postfix/tls_policy: lookup of "example.com" failed" (a table lookup error,
// no entry) or "smtp_tls_security_level = may (/etc/postfix/main.cf:40)".
func (s Source) String() string {
	switch s.Kind {
	case FromPolicyTable, FromPerSiteTable:
		var b strings.Builder
		b.WriteString(s.Table)
		if s.Line > 0 {
			fmt.Fprintf(&b, ":%d", s.Line)
		}
		if s.Raw != "" {
			b.WriteString(": " + s.Raw)
		} else if s.Key != "" {
			// No entry: the lookup of this key failed (the table is unavailable).
			b.WriteString(": lookup of \"" + s.Key + "\" failed")
		}
		return b.String()
	case FromTLSRequiredHeader:
		return "TLS-Required: no (message header)"
	case FromCommandLine:
		return "command line: " + s.Raw
	}
	parts := make([]string, 0, len(s.Params))
	for _, p := range s.Params {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ", ")
}

// DANEConfig holds what decides DANE before any DNS query: whether DNSSEC lookups are on and
// the parameters the DNS-dependent steps use. The DNS-dependent adjustments (no TLSA → may,
// unusable TLSA → encrypt, insecure MX, TLSA lookup errors) belong to the evaluator.
type DANEConfig struct {
	// Problem is the configuration reason why DANE cannot work, in Postfix's words
	// ("example.com: dane configured with dnssec lookups disabled"); empty when DANE can
	// proceed. At dane the level has then already become may; at dane-only the policy is
	// invalid.
	Problem string `json:"problem,omitempty"`
	// InsecureMXPolicy is smtp_tls_dane_insecure_mx_policy (may, encrypt or dane).
	InsecureMXPolicy string `json:"insecure_mx_policy,omitempty"`
	// Digests is tls_dane_digests, most preferred first.
	Digests []string `json:"digests,omitempty"`
	// ForceInsecureHostTLSA is smtp_tls_force_insecure_host_tlsa_lookup.
	ForceInsecureHostTLSA bool `json:"force_insecure_host_tlsa_lookup,omitempty"`
}

// Policy is the TLS policy Postfix would apply to one next hop (and, for a host-specific
// computation, one server host name): the level, everything the handshake and the
// verification will use, and where it came from.
type Policy struct {
	// Level is the effective security level. For an invalid policy it is the level that
	// was configured (LevelNotSet when even that was unreadable).
	Level Level `json:"level"`
	// ConfiguredLevel is the level before configuration-only DANE adjustments (a dane
	// policy with DNSSEC lookups disabled becomes may).
	ConfiguredLevel Level `json:"configured_level"`
	// Invalid is set when Postfix would mark the policy invalid: it does not connect to the
	// server and defers with DSN and Reason.
	// The zero value is a valid policy at level none (plaintext), so a Policy literal
	// needs no setting for it; PolicyFor returns an invalid Policy beside every error.
	Invalid bool `json:"invalid,omitempty"`
	// DSN and Reason are Postfix's status for an invalid policy ("4.7.5", "client TLS
	// configuration problem"); empty for a valid one.
	DSN    DSN    `json:"dsn,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Warnings are the warnings Postfix logs while computing the policy, in its words.
	Warnings []string `json:"warnings,omitempty"`

	// Match is the match list for fingerprint, verify and secure (strategies such as
	// "nexthop", "dot-nexthop", "hostname", ".suffix" patterns, literal names, or
	// fingerprint values), and MatchFrom where it came from ("policy entry" or the main.cf
	// parameter name).
	Match     []string    `json:"match,omitempty"`
	MatchFrom MatchOrigin `json:"match_from,omitempty"`
	// FingerprintDigest is smtp_tls_fingerprint_digest (fingerprint level).
	FingerprintDigest string `json:"fingerprint_digest,omitempty"`

	// Ciphers is the cipher grade, Exclude the exclusion list (including the eNULL or aNULL
	// Postfix adds), Protocols the protocol list, each from the policy entry or from the
	// opportunistic or mandatory main.cf parameter for the level.
	Ciphers   string   `json:"ciphers,omitempty"`
	Exclude   []string `json:"exclude,omitempty"`
	Protocols string   `json:"protocols,omitempty"`

	// CAFile and CAPath are smtp_tls_CAfile and smtp_tls_CApath; AppendDefaultCA is
	// tls_append_default_CA. TrustAnchorFiles are the tafile= attributes or
	// smtp_tls_trust_anchor_file (verify and secure), which then replace the CAs.
	CAFile           string   `json:"ca_file,omitempty"`
	CAPath           string   `json:"ca_path,omitempty"`
	AppendDefaultCA  bool     `json:"append_default_ca,omitempty"`
	TrustAnchorFiles []string `json:"trust_anchor_files,omitempty"`

	// ServerName is the SNI setting: "" (none), "hostname", "nexthop" or a literal name.
	// DANE levels ignore it and send the TLSA base domain.
	ServerName string `json:"servername,omitempty"`
	// ConnectionReuse and EnableRPK are the effective connection_reuse and enable_rpk.
	ConnectionReuse bool `json:"connection_reuse,omitempty"`
	// TLSProxyMissing is the tlsproxy_service_name ("tlsproxy") when ConnectionReuse is on
	// at a level that uses TLS and master.cf has no unix service of that name: smtp(8)
	// hands every TLS session to tlsproxy(8), cannot reach it ("connect to
	// private/tlsproxy service: No such file or directory") and fails the handshake. Empty
	// when the service exists, is not needed, or master.cf is not known.
	TLSProxyMissing string `json:"tlsproxy_missing,omitempty"`
	EnableRPK       bool   `json:"enable_rpk,omitempty"`
	// WrapperMode is smtp_tls_wrappermode (TLS from the first byte, port 465).
	WrapperMode bool `json:"wrapper_mode,omitempty"`
	// EngineUnavailable holds Postfix's log lines when its TLS engine could not start (an
	// unreadable smtp_tls_CAfile, an unknown smtp_tls_fingerprint_digest). Postfix then
	// still connects: may runs in plaintext, and every level above may defers with
	// "4.7.5 TLS is required, but our TLS engine is unavailable" (§2.4 item 5).
	EngineUnavailable []string `json:"engine_unavailable,omitempty"`

	// DANE holds the DANE settings, for the dane and dane-only levels.
	DANE *DANEConfig `json:"dane,omitempty"`

	// Release is the Postfix release the policy was computed for (the Settings' version);
	// the evaluator emulates it. The zero Version means the newest release.
	Release Version `json:"-"`
	// MinimalBackoff is minimal_backoff_time: at may, a message this old falls back to
	// plaintext after a failed handshake (§3.3). Zero means Postfix's default, 300s.
	MinimalBackoff time.Duration `json:"-"`
	// SingleLabelWildcards is tls_wildcard_matches_multiple_labels = no: a "*." wildcard
	// covers one label only. It matters for Postfix 2.11-3.5 (later releases use OpenSSL's
	// single-label rule whatever it says).
	SingleLabelWildcards bool `json:"-"`

	// Source says what decided the level.
	Source Source `json:"source"`
	// Entry is the parsed table entry, when a table decided. It may be shared with other
	// policies from the same table value and must not be modified; so must the slices
	// Match, Exclude and TrustAnchorFiles.
	Entry *Entry `json:"-"`

	sharedEntry bool               // Entry is the remembered parse of its value
	static      *clientStatic      // the main.cf settings the policy was computed from (AtLevel)
	from        *policyFrom        // the Settings, route and host it was computed for (With)
	duplicates  []tables.Duplicate // the repeated keys that made the policy table unavailable
}

// DSN is an RFC 3463 enhanced status code as Postfix reports it ("4.7.5", "2.0.0").
type DSN string

// Class is the DSN's first digit: 2 (success), 4 (temporary) or 5 (permanent); 0 when the
// code does not start with one.
func (d DSN) Class() int {
	if len(d) > 0 && d[0] >= '2' && d[0] <= '5' {
		return int(d[0] - '0')
	}
	return 0
}

// MatchOrigin says where a policy's match list came from: MatchFromEntry, or the name of
// the main.cf parameter (smtp_tls_secure_cert_match, …) that supplied it.
type MatchOrigin string

// MatchFromEntry is the origin of a match list given by the policy entry's match= attribute.
const MatchFromEntry MatchOrigin = "policy entry"

// AtLevel returns the policy as it is when its level becomes l, as a dane policy becomes
// may or encrypt when dane_init() finds no usable TLSA records (§6.1): the level and the
// handshake settings Postfix uses at l — the protocol list, cipher grade and exclusions of
// main.cf for that level (§7.1), unless the entry's own protocols=, ciphers= or exclude=
// set them. Everything else is kept. For a policy that was not computed from a
// configuration (a literal Policy{}), only the level changes.
func (p Policy) AtLevel(l Level) Policy {
	q := p
	q.Level = l
	if p.static == nil || l == p.Level || l <= None {
		return q
	}
	p.static.protocols(&q)
	p.static.ciphers(&q)
	return q
}

// errorPolicy is the Policy returned beside an error: invalid, so that a caller who judges
// it anyway defers (fail closed) instead of reading the zero Policy's level none.
func errorPolicy() Policy {
	return Policy{Invalid: true, DSN: InvalidDSN, Reason: InvalidReason}
}

func (p *Policy) invalid(dsn DSN, reason string, warnings ...string) {
	p.Invalid = true
	p.DSN, p.Reason = dsn, reason
	p.Warnings = append(p.Warnings, warnings...)
}

// PinsMissing reports whether the policy is invalid only for want of pins: level
// fingerprint from a row (or main.cf) that Postfix accepted, but with no usable fingerprint
// to match ("configured at fingerprint security level, but with no fingerprints to match",
// §5). Postfix does not connect; the fix is a pin of the server's certificate.
func (p Policy) PinsMissing() bool {
	// FingerprintDigest is set once the match list was computed: an earlier problem (an
	// invalid servername setting) leaves it empty.
	return p.Invalid && p.Level == Fingerprint && p.FingerprintDigest != "" && (p.Entry == nil || p.Entry.Valid)
}
