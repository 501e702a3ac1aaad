package openssl

import (
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// HostMatch is X509_check_host() (crypto/x509/v3_utl.c) for one certificate name (pattern) and one
// reference (subject) with X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, as Postfix sets it.
func HostMatch(pattern, ref string) bool {
	if len(pattern) == 0 {
		return false // do_check_string skips empty values
	}
	if len(ref) > 1 && ref[0] == '.' {
		// Implicit sub-domain reference: skip_prefix() then equal_nocase(); no wildcards.
		// The skipped prefix must not contain a NUL.
		if len(pattern) <= len(ref) {
			return EqualNoCase(pattern, ref)
		}
		return EqualNoCase(pattern[len(pattern)-len(ref):], ref) &&
			strings.IndexByte(pattern[:len(pattern)-len(ref)], 0) < 0
	}
	// With NO_PARTIAL_WILDCARDS a valid '*' is always the first byte.
	if pattern[0] == '*' {
		if star := ValidStar(pattern); star == 0 {
			return WildcardMatch("", pattern[1:], ref)
		}
	}
	return EqualNoCase(pattern, ref)
}

// EqualNoCase is OpenSSL's equal_nocase(): ASCII case-insensitive, and the
// certificate name must not contain NUL.
func EqualNoCase(pattern, ref string) bool {
	if len(pattern) != len(ref) {
		return false
	}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == 0 || pfutil.LowerByte(pattern[i]) != pfutil.LowerByte(ref[i]) {
			return false
		}
	}
	return true
}

// ValidStar is OpenSSL's valid_star() with NO_PARTIAL_WILDCARDS: the index of a '*' that
// is the whole first label of a name with at least two dots after it and only letters,
// digits, '-' and '.' elsewhere; -1 when the name is not a wildcard (compared literally).
func ValidStar(p string) int {
	const (
		labelStart  = 1
		labelIDNA   = 2
		labelHyphen = 4
	)
	star := -1
	state := labelStart
	dots := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*':
			atStart := state&labelStart != 0
			atEnd := i == len(p)-1 || p[i+1] == '.'
			if star >= 0 || state&labelIDNA != 0 || dots > 0 {
				return -1
			}
			if !atStart || !atEnd {
				return -1
			}
			star = i
			state &^= labelStart
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			if state&labelStart != 0 && len(p)-i >= 4 && pfutil.StrcaseEq(p[i:i+4], "xn--") {
				state |= labelIDNA
			}
			state &^= labelHyphen | labelStart
		case c == '.':
			if state&(labelHyphen|labelStart) != 0 {
				return -1
			}
			state = labelStart
			dots++
		case c == '-':
			if state&labelStart != 0 {
				return -1
			}
			state |= labelHyphen
		default:
			return -1
		}
	}
	if state&(labelStart|labelHyphen) != 0 || dots < 2 {
		return -1
	}
	return star
}

// WildcardMatch is OpenSSL's wildcard_match() for a full-label wildcard (prefix empty):
// the wildcard covers exactly one non-empty label of letters, digits and hyphens, or a
// literal "*".
func WildcardMatch(prefix, suffix, ref string) bool {
	if len(ref) < len(prefix)+len(suffix) {
		return false
	}
	if !EqualNoCase(prefix, ref[:len(prefix)]) {
		return false
	}
	ws, we := len(prefix), len(ref)-len(suffix)
	if !EqualNoCase(ref[we:], suffix) {
		return false
	}
	allowIDNA := false
	if len(prefix) == 0 && len(suffix) > 0 && suffix[0] == '.' {
		if ws == we {
			return false
		}
		allowIDNA = true
	}
	if !allowIDNA && len(ref) >= 4 && pfutil.StrcaseEq(ref[:4], "xn--") {
		return false
	}
	if we == ws+1 && ref[ws] == '*' {
		return true
	}
	for i := ws; i < we; i++ {
		c := ref[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
