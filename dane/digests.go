package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"strconv"
	"strings"
)

// DefaultDigests is Postfix's default tls_dane_digests value.
const DefaultDigests = "sha512 sha256"

// Digests is a parsed tls_dane_digests setting: which TLSA matching types are enabled and how
// they rank for digest agility (RFC 7671 §9). The zero value enables nothing but Full(0); use
// ParseDigests.
type Digests struct {
	// ordinal[m] > 0 means matching type m is enabled; a higher ordinal is preferred. Full(0)
	// always has ordinal 0 and is always enabled.
	ordinal [256]uint8
	// Spec is the setting as given.
	Spec string
	// Warnings are Postfix's warnings for the setting, in Postfix's words.
	Warnings []string
}

// Enabled reports whether matching type m can be used.
func (d *Digests) Enabled(m uint8) bool { return m == MatchFull || d.ordinal[m] > 0 }

// Ordinal returns m's preference (higher is preferred; 0 for Full(0) and disabled types).
func (d *Digests) Ordinal(m uint8) uint8 { return d.ordinal[m] }

// digestLen returns the length of a matching type's digest, or 0 when it has no implementation.
func digestLen(m uint8) int {
	switch m {
	case MatchSHA256:
		return sha256.Size
	case MatchSHA512:
		return sha512.Size
	}
	return 0
}

func digest(m uint8, data []byte) []byte {
	switch m {
	case MatchSHA256:
		s := sha256.Sum256(data)
		return s[:]
	case MatchSHA512:
		s := sha512.Sum512(data)
		return s[:]
	}
	return nil
}

// ParseDigests reads a tls_dane_digests value as Postfix 3.6 and later do
// (tls_dane_digest_init): a list separated by commas or white space of "sha512", "sha256",
// "name=number" or "=number" (which disables that number). The list order is the preference
// order, most preferred first. Matching types 1 and 2 are disabled unless listed. Only sha256
// and sha512 have implementations here; other algorithm names are reported as unknown.
func ParseDigests(spec string) *Digests {
	d := &Digests{Spec: spec}
	const param = "tls_dane_digests"
	var ord uint8
	var ords [256]uint8
	var alg [256]bool
	maxtype := 2
	for _, tok := range strings.FieldsFunc(spec, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		name, code, hasCode := strings.Cut(tok, "=")
		codepoint := -1
		if hasCode && code != "" {
			n, err := strconv.ParseUint(code, 10, 64)
			if err != nil || n >= 255 {
				d.Warnings = append(d.Warnings, fmt.Sprintf("Invalid matching type number in %s: %s=%s", param, name, code))
				continue
			}
			if n == 0 {
				d.Warnings = append(d.Warnings, fmt.Sprintf("Reserved matching type number in %s: %s=%s", param, name, code))
				continue
			}
			codepoint = int(n)
		}
		if codepoint > maxtype {
			maxtype = codepoint
		}
		if name == "" {
			if codepoint >= 0 {
				alg[codepoint] = false
			}
			continue
		}
		switch codepoint {
		case -1:
			switch {
			case strings.EqualFold(name, "sha256"):
				codepoint = 1
			case strings.EqualFold(name, "sha512"):
				codepoint = 2
			default:
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: digest algorithm %s needs an explicit number", param, name))
				continue
			}
		case 1:
			if !strings.EqualFold(name, "sha256") {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: matching type 1 can only be %s", param, "sha256"))
				continue
			}
		case 2:
			if !strings.EqualFold(name, "sha512") {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: matching type 2 can only be %s", param, "sha512"))
				continue
			}
		}
		if ords[codepoint] != 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s: matching type %d specified more than once", param, codepoint))
			continue
		}
		ord++
		ords[codepoint] = ord
		if digestLen(uint8(codepoint)) == 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s: digest algorithm %q(%d) unknown", param, name, codepoint))
			continue
		}
		alg[codepoint] = true
	}
	for m := 1; m <= maxtype && m < 255; m++ {
		if alg[m] {
			d.ordinal[m] = ord - ords[m] + 1
		}
	}
	return d
}

// pref35 is the Postfix <= 3.5 sort preference of a matching type: Full first, then the
// tls_dane_digests list in order, then unknown types by number.
func (d *Digests) pref35(m uint8) int {
	if m == MatchFull {
		return 0
	}
	if d.ordinal[m] == 0 {
		return 256 + int(m)
	}
	return 255 - int(d.ordinal[m])
}
