package policy

import (
	"fmt"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// Level is a Postfix TLS security level. The constants are ordered as in Postfix's tls.h
// (3.1 and later), and the order matters: "TLS required" means a level above May, "the
// certificate must match" a level above Encrypt.
type Level int

// The security levels, weakest first. HalfDane is internal to Postfix: it is what a dane policy
// becomes when the MX RRset is insecure but the host's TLSA records are usable and
// smtp_tls_dane_insecure_mx_policy is dane. It cannot be configured.
const (
	LevelNotSet Level = iota - 1 // no level decided (the zero policy has none)
	None
	May
	Encrypt
	Fingerprint
	HalfDane
	Dane
	DaneOnly
	Verify
	Secure
)

var levelNames = [...]string{"none", "may", "encrypt", "fingerprint", "halfdane", "dane", "dane-only", "verify", "secure"}

// String returns the level's name as Postfix writes it ("dane-only", "halfdane"), or "" for
// LevelNotSet.
func (l Level) String() string {
	if l >= None && int(l) < len(levelNames) {
		return levelNames[l]
	}
	if l == LevelNotSet {
		return ""
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel reads a configurable level name, case-insensitively, as Postfix's tls_level_lookup
// does. "halfdane" is internal and, like any other unknown word, is rejected.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if Level(i) == HalfDane {
			continue
		}
		if pfutil.StrcaseEq(s, n) {
			return Level(i), true
		}
	}
	return LevelNotSet, false
}

// TLSRequired reports whether the level refuses plaintext delivery (a level above may).
func (l Level) TLSRequired() bool { return l > May }

// MustMatch reports whether the level requires the peer to be authenticated (a level above
// encrypt: fingerprint, halfdane, dane, dane-only, verify, secure).
func (l Level) MustMatch() bool { return l > Encrypt }

// IsDANE reports whether the level is one of the DANE levels (halfdane, dane, dane-only).
func (l Level) IsDANE() bool { return l == HalfDane || l == Dane || l == DaneOnly }

// IsPKIX reports whether the level checks the chain against CA trust anchors and names
// (verify, secure).
func (l Level) IsPKIX() bool { return l == Verify || l == Secure }

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it also accepts "halfdane" and "", so a
// marshalled Decision reads back unchanged.
func (l *Level) UnmarshalText(b []byte) error {
	s := string(b)
	switch {
	case s == "":
		*l = LevelNotSet
		return nil
	case pfutil.StrcaseEq(s, "halfdane"):
		*l = HalfDane
		return nil
	}
	v, ok := ParseLevel(s)
	if !ok {
		return fmt.Errorf("invalid security level %q", s)
	}
	*l = v
	return nil
}
