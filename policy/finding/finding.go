// Package finding holds the shape every diagnosis of this module shares: a Finding with a
// stable Code, the failure-catalogue cause it covers (docs/failure-catalogue.md), a summary
// in plain words, details and the fixes proposed. Package policy reports configuration
// findings with it, package policy/verdict the findings of a judged delivery attempt.
package finding

import "encoding/json"

// Code is a stable finding identifier: monitors may key on it.
type Code string

// Finding codes. They are stable: monitors may key on them. Each names the cause of
// failure-catalogue.md it covers.
const (
	SecureNexthopMismatch Code = "secure-nexthop-mismatch"      // B-1: secure vs an MX in another domain
	HostnameMismatch      Code = "hostname-mismatch"            // B-2/B-5: the certificate names another host
	IPNexthop             Code = "ip-nexthop-name-check"        // B-3: [IP] next hop at verify/secure
	NoCA                  Code = "no-ca-configured"             // smtp_tls_CAfile and CApath empty
	IssuerNotTrusted      Code = "issuer-not-trusted"           // the chain ends at a CA not configured
	MissingIntermediate   Code = "missing-intermediate"         // C-1: the server omits its intermediate
	WrongIntermediate     Code = "wrong-intermediate"           // C-1: the server sends an unrelated CA
	Expired               Code = "certificate-expired"          // C-2
	NotYetValid           Code = "certificate-not-yet-valid"    // C-2 (or a wrong local clock)
	SelfSigned            Code = "self-signed-certificate"      // C-3
	FingerprintStale      Code = "fingerprint-pin-stale"        // D-1: pin of another certificate/key
	FingerprintDigest     Code = "fingerprint-digest-mismatch"  // D-2: pin computed with another digest
	TLSAStale             Code = "tlsa-stale-after-rollover"    // D-3: no TLSA record matches the key
	TLSALookup            Code = "tlsa-lookup-error"            // D-4: TLSA query fails
	DANEDNSSECDisabled    Code = "dane-dnssec-disabled"         // D-5: dane without dnssec lookups
	DaneOnlyNoDNSSEC      Code = "dane-only-without-dane"       // D-6: dane-only for a domain without DANE
	InvalidPolicy         Code = "invalid-policy-entry"         // E-1/E-2/E-3: Postfix does not connect
	InvalidProtocols      Code = "invalid-protocols"            // G-3: bad protocols= value
	InvalidCiphers        Code = "invalid-cipher-setting"       // G-3: bad ciphers=/exclude= value
	HandshakeFailure      Code = "handshake-failure"            // G-3/G-7: the TLS handshake failed
	NoSTARTTLS            Code = "starttls-not-offered"         // G-4/G-5
	STARTTLSRefused       Code = "starttls-refused"             // G-6
	WrapperMode           Code = "wrappermode-below-encrypt"    // G-1/G-2
	NoNameChecks          Code = "no-usable-match-names"        // B: match list installs no name
	Port465NoWrapper      Code = "port-465-without-wrappermode" // G-1: SMTPS port spoken to as plain SMTP
	WrapperOnSTARTTLSPort Code = "wrappermode-on-starttls-port" // G-2: TLS at once to a STARTTLS port
	TLSEngineUnavailable  Code = "tls-engine-unavailable"       // Postfix's TLS engine did not start (unreadable CAfile, unknown digest)
	TLSProxyMissing       Code = "tlsproxy-missing"             // G-3: connection reuse without a tlsproxy service in master.cf
	VerificationFailed    Code = "verification-failed"          // another certificate verification failure (OpenSSL's num= and text)
	RecipientRefused      Code = "recipient-refused"            // the TLS part delivers, but the server refuses RCPT TO (or MAIL FROM, or the EHLO inside TLS)
)

// Finding explains a failure (or a risk) and proposes fixes: edits of the administrator's
// own configuration (the row that decided, keeping its other attributes; a main.cf line), or
// changes only the receiving side can make (a DNS record, the server's chain), best first.
//
// In JSON, "fixes" stays a list of strings (each Fix's String) with "fix_notes" beside it;
// "edits" holds the typed fixes.
type Finding struct {
	// Code is one of the code constants; Cause is the failure-catalogue.md entry.
	Code  Code   `json:"code"`
	Cause string `json:"cause,omitempty"`
	// Summary says what happened and why, for a tired administrator.
	Summary string `json:"summary"`
	// Details add facts (certificate names, records, values).
	Details []string `json:"details,omitempty"`
	// Fixes are the proposed edits, best first: those that keep the level and the
	// authentication before downgrades.
	Fixes []Fix `json:"-"`
}

// Add appends a fix, unless one with the same text is already there.
func (f *Finding) Add(x Fix) {
	for _, y := range f.Fixes {
		if y.String() == x.String() {
			return
		}
	}
	f.Fixes = append(f.Fixes, x)
}

// FixLines returns the fixes as text, the JSON "fixes" list.
func (f Finding) FixLines() []string {
	if len(f.Fixes) == 0 {
		return nil
	}
	out := make([]string, len(f.Fixes))
	for i, x := range f.Fixes {
		out[i] = x.String()
	}
	return out
}

type findingJSON struct {
	Code     Code     `json:"code"`
	Cause    string   `json:"cause,omitempty"`
	Summary  string   `json:"summary"`
	Details  []string `json:"details,omitempty"`
	Fixes    []string `json:"fixes,omitempty"`
	FixNotes []string `json:"fix_notes,omitempty"`
	Edits    []Fix    `json:"edits,omitempty"`
}

// MarshalJSON writes the finding with "fixes" as strings, "fix_notes" and the typed "edits".
func (f Finding) MarshalJSON() ([]byte, error) {
	j := findingJSON{Code: f.Code, Cause: f.Cause, Summary: f.Summary, Details: f.Details, Fixes: f.FixLines(), Edits: f.Fixes}
	if len(f.Fixes) > 0 {
		j.FixNotes = make([]string, len(f.Fixes))
		for i, x := range f.Fixes {
			j.FixNotes[i] = x.Note
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes. A document without "edits" gives fixes of
// kind FixText.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Finding{Code: j.Code, Cause: j.Cause, Summary: j.Summary, Details: j.Details, Fixes: j.Edits}
	if len(j.Edits) == 0 {
		for i, l := range j.Fixes {
			x := Fix{Kind: FixText, Value: l}
			if i < len(j.FixNotes) {
				x.Note = j.FixNotes[i]
			}
			f.Fixes = append(f.Fixes, x)
		}
	}
	return nil
}

// Finding codes about the configuration rather than one connection.
const (
	PolicyKeyMismatch   Code = "policy-key-mismatch"    // E-4: a row keyed unlike the next hop never applies
	BareKeySubdomain    Code = "bare-key-no-subdomains" // E-4: "example.com" does not cover sub.example.com
	DuplicateParameter  Code = "duplicate-parameter"    // E-5: main.cf sets a TLS parameter twice
	MasterCFOverride    Code = "master-cf-override"     // E-5: a transport's -o setting decides
	LegacyTLSParameters Code = "legacy-tls-parameters"  // E-5: smtp_use_tls/smtp_enforce_tls decide
	ServerSideParameter Code = "server-side-parameter"  // E-5: smtpd_ set where smtp_ was meant
)
