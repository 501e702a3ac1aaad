package dane

import (
	"errors"
	"fmt"
	"strings"
)

// Outcome is the effective security level (or failure) after the DNS-dependent DANE checks.
type Outcome int

// The outcomes of Decide.
const (
	// OutcomeNeedTLSA: the MX checks passed; look up TLSA records and call Decide again.
	OutcomeNeedTLSA Outcome = iota
	// OutcomeDane: DANE is enforced and success is logged "Verified".
	OutcomeDane
	// OutcomeHalfDane: the MX RRset is insecure and the insecure-MX policy is dane: DANE is
	// enforced exactly as for dane, but success is logged "Trusted".
	OutcomeHalfDane
	// OutcomeMay: dane degrades to opportunistic TLS.
	OutcomeMay
	// OutcomeEncrypt: dane degrades to mandatory unauthenticated TLS.
	OutcomeEncrypt
	// OutcomeDefer: the host is skipped with DSN 4.7.5 (TLSA lookup error, or a dane-only
	// destination failure); Reason says why.
	OutcomeDefer
)

var outcomeNames = [...]string{"need-tlsa", "dane", "halfdane", "may", "encrypt", "defer"}

// String returns the level name Postfix uses for the outcome ("halfdane", "may", ...).
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Insecure-MX policy values (smtp_tls_dane_insecure_mx_policy).
const (
	InsecureMXMay     = "may"
	InsecureMXEncrypt = "encrypt"
	InsecureMXDane    = "dane"
)

// ErrBadInsecureMXPolicy is returned for a smtp_tls_dane_insecure_mx_policy value Postfix
// refuses (fatal: `invalid smtp_tls_dane_insecure_mx_policy: "<x>"`).
var ErrBadInsecureMXPolicy = errors.New("invalid smtp_tls_dane_insecure_mx_policy")

// ParseInsecureMXPolicy checks a smtp_tls_dane_insecure_mx_policy value (case-insensitive,
// "may", "encrypt" or "dane").
func ParseInsecureMXPolicy(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case InsecureMXMay, InsecureMXEncrypt, InsecureMXDane:
		return v, nil
	}
	return "", fmt.Errorf("%w: %q", ErrBadInsecureMXPolicy, s)
}

// DefaultInsecureMXPolicy is the default of smtp_tls_dane_insecure_mx_policy for a Postfix
// version: "dane", except in the releases whose default was
// "${{$smtp_tls_security_level} == {dane} ? {dane} : {may}}" (3.4.19+, 3.5.9+, 3.6.0-3.6.16,
// 3.7.0-3.7.12, 3.8.0-3.8.7, 3.9.0-3.9.1), where it is "dane" only when the global
// smtp_tls_security_level is dane.
func DefaultInsecureMXPolicy(major, minor, patch int, globalLevel string) string {
	conditional := false
	if major == 3 {
		switch minor {
		case 4:
			conditional = patch >= 19
		case 5:
			conditional = patch >= 9
		case 6:
			conditional = patch <= 16
		case 7:
			conditional = patch <= 12
		case 8:
			conditional = patch <= 7
		case 9:
			conditional = patch <= 1
		}
	}
	if conditional && globalLevel != "dane" {
		return InsecureMXMay
	}
	return InsecureMXDane
}

// DecideInput is what §6.1 items 6-11 depend on. The configuration preconditions (items 1-5)
// are the caller's: they do not depend on DNS.
type DecideInput struct {
	// DaneOnly is true for level dane-only, false for dane.
	DaneOnly bool
	// HaveMX is true when the host came from an MX RRset (not a [host] nexthop, not the
	// A/AAAA fallback); MXSecure is that RRset's DNSSEC status.
	HaveMX, MXSecure bool
	// InsecureMXPolicy is smtp_tls_dane_insecure_mx_policy ("may", "encrypt" or "dane").
	InsecureMXPolicy string
	// TLSA and TLSAErr are LookupTLSA's results; both nil means "not looked up yet".
	TLSA    *TLSAResult
	TLSAErr error
	// Options classify the records (Postfix version behaviour, digests, namaddrport).
	Options Options
	// Host and Port name the server for the TLSA lookup error reason.
	Host string
	Port int
}

// Decision is the explained result of Decide.
type Decision struct {
	Outcome Outcome
	// Reason is Postfix's text for this case ("no TLSA records found", "TLSA lookup error for
	// mx.example.com:25", ...); for dane it is logged only with verbose logging, for dane-only
	// and lookup errors it is the deferral reason.
	Reason string
	// DSN is "4.7.5" when Outcome is OutcomeDefer.
	DSN string
	// Rule cites the rule applied ("§6.1 item 8").
	Rule string
	// Explanation says in plain words what happened and why.
	Explanation string
	// Warnings are lines Postfix logs (without "warning: ").
	Warnings []string
	// Records is the classified TLSA RRset (nil when none was looked up).
	Records *RecordSet
}

// Decide applies §6.1 items 6-11 in Postfix's order (dane_init in smtp_tls_policy.c).
func Decide(in DecideInput) Decision {
	policy := in.InsecureMXPolicy
	if policy == "" {
		policy = InsecureMXDane
	}
	level := "dane"
	if in.DaneOnly {
		level = "dane-only"
	}
	degrade := func(to Outcome, reason, rule, why string) Decision {
		if in.DaneOnly {
			return Decision{Outcome: OutcomeDefer, Reason: reason, DSN: "4.7.5", Rule: rule,
				Explanation: why + "; at dane-only the host is skipped and mail defers"}
		}
		return Decision{Outcome: to, Reason: reason, Rule: rule, Explanation: why + "; dane continues as " + to.String()}
	}
	insecureMX := in.HaveMX && !in.MXSecure
	if insecureMX && (in.DaneOnly || policy == InsecureMXMay) {
		why := "the MX RRset is not DNSSEC-validated"
		if !in.DaneOnly {
			why += " and smtp_tls_dane_insecure_mx_policy = may"
		}
		return degrade(OutcomeMay, "non DNSSEC destination", "§6.1 item 6", why)
	}
	if in.TLSAErr != nil {
		d := Decision{Outcome: OutcomeDefer, DSN: "4.7.5", Rule: "§6.1 item 7",
			Explanation: "the TLSA lookup failed; Postfix skips this host at " + level + " (no downgrade) and defers when no host is left"}
		var te *TLSAError
		if errors.As(in.TLSAErr, &te) {
			d.Reason = te.Reason()
		} else {
			d.Reason = fmt.Sprintf("TLSA lookup error for %s:%d", trimDot(in.Host), in.Port)
		}
		if in.TLSA != nil {
			d.Warnings = append(d.Warnings, in.TLSA.Warnings...)
		}
		return d
	}
	if in.TLSA == nil {
		return Decision{Outcome: OutcomeNeedTLSA, Rule: "§6.1 item 7",
			Explanation: "the MX checks pass; the host's TLSA records are needed"}
	}
	warnings := append([]string(nil), in.TLSA.Warnings...)
	if !in.TLSA.Found() {
		d := degrade(OutcomeMay, "no TLSA records found", "§6.1 item 8", in.TLSA.Why)
		d.Warnings = warnings
		return d
	}
	set := Classify(in.TLSA.Records, in.TLSA.QName, in.TLSA.RName, in.Options)
	for _, r := range set.Reports {
		if r.Warning != "" && r.Status != StatusUnusable {
			warnings = append(warnings, r.Warning)
		}
	}
	if set.UnusableAtLookup() {
		d := degrade(OutcomeEncrypt, "TLSA records unusable", "§6.1 item 9",
			"TLSA records exist but none has certificate usage 2 or 3 (or survives Postfix's checks)")
		d.Warnings, d.Records = warnings, set
		return d
	}
	d := Decision{Outcome: OutcomeDane, Rule: "§6.1", Records: set, Warnings: warnings,
		Explanation: "validated, usable TLSA records at " + in.TLSA.BaseDomain + ": DANE is enforced"}
	if insecureMX {
		switch policy {
		case InsecureMXEncrypt:
			d = degrade(OutcomeEncrypt, "Verification not possible, MX RRset is insecure", "§6.1 item 10",
				"the MX RRset is not DNSSEC-validated and smtp_tls_dane_insecure_mx_policy = encrypt")
			d.Records, d.Warnings = set, warnings
			return d
		default:
			d.Outcome, d.Rule = OutcomeHalfDane, "§6.1 item 11"
			d.Explanation = "the MX RRset is not DNSSEC-validated but the host's TLSA records are: DANE is enforced as halfdane (success logged Trusted, not Verified)"
		}
	}
	return d
}

// SuccessWord is the word Postfix's TLS summary line uses when DANE authentication succeeds at
// this outcome: "Verified" for dane (and dane-only), "Trusted" for halfdane, "" otherwise.
func (o Outcome) SuccessWord() string {
	switch o {
	case OutcomeDane:
		return "Verified"
	case OutcomeHalfDane:
		return "Trusted"
	}
	return ""
}
