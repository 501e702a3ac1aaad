package fingerprint

import (
	"errors"
	"strings"
)

// ErrNoFingerprints is returned by ParseList when no usable value remains. smtp(8) then
// marks the policy invalid, logging "nexthop domain <dest>: " followed by this text, and
// defers with "client TLS configuration problem" (posttls-finger instead falls back to
// PKIX checks).
//
//lint:ignore ST1005 the text is Postfix's, full stop included.
var ErrNoFingerprints = errors.New("configured at fingerprint security level, but with no fingerprints to match.")

// Source says where a fingerprint list comes from, which decides how it is split.
type Source int

const (
	// Table is a policy table's match= attribute: each value is split on '|'.
	Table Source = iota
	// MainCF is smtp_tls_fingerprint_cert_match: split on whitespace and commas (not '|').
	MainCF
)

// Options choose the Postfix behaviour.
type Options struct {
	// Digest is smtp_tls_fingerprint_digest ("sha256" is the default at
	// compatibility_level >= 3.6, "md5" before). Empty means "sha256".
	Digest string
	// ColonsOptional selects Postfix >= 3.6: values are hex decoded with optional colons
	// between byte pairs, malformed ones are warned about and skipped, and each value
	// becomes private TLSA records "3 0 255" and "3 1 255" whose length must equal the
	// digest's. Without it (Postfix <= 3.5) values are compared as strings,
	// case-insensitively, with Postfix's "AB:CD:..." rendering.
	ColonsOptional bool
	// PublicKeyOnly matches public-key digests only (posttls-finger and smtp(8) with raw
	// public keys enabled, Postfix >= 3.9).
	PublicKeyOnly bool
}

func (o Options) digest() string {
	if o.Digest == "" {
		return "sha256"
	}
	return o.Digest
}

// Value is one fingerprint value from the list.
type Value struct {
	// Text is the value as configured.
	Text string
	// Bytes is the decoded value (ColonsOptional only).
	Bytes []byte
	// Malformed is set when Postfix >= 3.6 cannot decode the value; it is skipped.
	Malformed bool
}

// List is a parsed fingerprint match list.
type List struct {
	// Values are all values in configuration order, malformed ones included.
	Values []Value
	// Digest is the canonical name of the digest values are compared under.
	Digest string
	// ColonsOptional and PublicKeyOnly repeat the options the list was parsed with.
	ColonsOptional, PublicKeyOnly bool
}

// Warning is a diagnostic in Postfix's words. Text may contain "{namaddr}", the
// placeholder for the server's "host[addr]:port".
type Warning struct {
	// Text is the warning after Postfix's "warning: " prefix.
	Text string
}

// Render returns the warning with "{namaddr}" replaced by namaddr.
func (w Warning) Render(namaddr string) string {
	return strings.Replace(w.Text, "{namaddr}", namaddr, 1)
}

// String renders the warning with the placeholder shown as "<namaddr>".
func (w Warning) String() string { return w.Render("<namaddr>") }

// maxValueLen is 3 * EVP_MAX_MD_SIZE: longer values are malformed without decoding.
const maxValueLen = 3 * 64

func splitAny(s, seps string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
}

// ParseList reads fingerprint values as Postfix does: raw holds the policy table's
// match= values (from Table, each split on '|') or the smtp_tls_fingerprint_cert_match
// value(s) (from MainCF, split on ", \t\r\n"). Empty pieces vanish.
//
// With ColonsOptional (Postfix >= 3.6) each value is hex decoded; a value longer than 192
// characters or not of the form "XX[:]XX..." is skipped with Postfix's warning
// "malformed fingerprint value: <value>". When no usable value remains, the error is
// ErrNoFingerprints. An unknown digest gives a *DigestError.
func ParseList(raw []string, from Source, opt Options) (List, []Warning, error) {
	dig, err := CanonicalDigest(opt.digest())
	if err != nil {
		return List{}, nil, err
	}
	l := List{Digest: dig, ColonsOptional: opt.ColonsOptional, PublicKeyOnly: opt.PublicKeyOnly}
	seps := "|"
	if from == MainCF {
		seps = ", \t\r\n"
	}
	var warns []Warning
	usable := 0
	for _, r := range raw {
		for _, tok := range splitAny(r, seps) {
			v := Value{Text: tok}
			if opt.ColonsOptional {
				switch b, ok := DecodeHex(tok); {
				case len(tok) > maxValueLen:
					v.Malformed = true
					warns = append(warns, Warning{Text: "malformed fingerprint value: " + truncBytes(tok, 100) + "..."})
				case !ok:
					v.Malformed = true
					warns = append(warns, Warning{Text: "malformed fingerprint value: " + truncBytes(tok, 384)})
				default:
					v.Bytes = b
				}
			}
			if !v.Malformed {
				usable++
			}
			l.Values = append(l.Values, v)
		}
	}
	if usable == 0 {
		return l, warns, ErrNoFingerprints
	}
	return l, warns, nil
}

// DecodeHex is Postfix's hex_decode_opt(HEX_DECODE_FLAG_ALLOW_COLON): pairs of hex digits
// (either case), optionally separated by single colons; no leading or trailing colon, no
// odd digit count. The empty string decodes to nothing.
func DecodeHex(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)/2)
	i := 0
	for count := len(s); count > 0; {
		if count < 2 {
			return nil, false
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		out = append(out, hi<<4|lo)
		if count > 4 && s[i+2] == ':' {
			i++
			count--
		}
		i += 2
		count -= 2
	}
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func truncBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
