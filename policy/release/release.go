// Package release names Postfix releases: the one Version type every package of this
// module uses to say which Postfix behaviour it emulates.
//
// Postfix's TLS behaviour changes between releases: defaults (the fingerprint digest is
// md5 before 3.6 and sha256 from 3.6), accepted policy attributes (servername= since 3.4,
// brace groups since 3.10), wording ("Server certificate not trusted" up to 3.5), matching
// rules (OpenSSL's X509_check_host from 3.6) and more. A Version is either a release
// (3.7.11) or a compatibility_level value (3.6, 2): both compare the same way.
package release

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Postfix release number such as 3.7.11, or a compatibility_level value
// such as 3.6 or 2. Missing parts are zero. Snapshot names ("3.12-20260821") keep only the
// release part. The zero Version is "0".
type Version struct {
	Major, Minor, Patch int
}

// Latest returns the newest Postfix release whose TLS policy behaviour this module knows
// (3.11.6). It is the version emulated when the caller does not choose one.
func Latest() Version { return Version{3, 11, 6} }

// IsZero reports whether v is the zero Version, which several option fields read as "the
// newest behaviour known" (Latest).
func (v Version) IsZero() bool { return v == Version{} }

// OrLatest returns v, or Latest() when v is zero.
func (v Version) OrLatest() Version {
	if v.IsZero() {
		return Latest()
	}
	return v
}

// V is shorthand for Version{major, minor, patch}.
func V(major, minor, patch int) Version { return Version{major, minor, patch} }

// Parse reads "3", "3.6", "3.7.11", "3.12-20260821" or "3.10.0-RC1". Anything else is an
// error that names the bad text.
func Parse(s string) (Version, error) {
	t := strings.TrimSpace(s)
	if i := strings.IndexAny(t, "-_ "); i >= 0 {
		t = t[:i]
	}
	parts := strings.Split(t, ".")
	if t == "" || len(parts) > 3 {
		return Version{}, fmt.Errorf("invalid Postfix version %q: want MAJOR[.MINOR[.PATCH]]", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p == "" || p[0] == '+' {
			return Version{}, fmt.Errorf("invalid Postfix version %q: %q is not a number", s, p)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

// Oldest returns the oldest release whose behaviour this module emulates (2.11.0).
func Oldest() Version { return Version{2, 11, 0} }

// lastPatch returns, for a release series this module knows to its end (or to the newest
// release it was checked against), the highest patch level: a higher one does not exist as
// far as the module knows.
func lastPatch(major, minor int) (int, bool) {
	switch [2]int{major, minor} {
	case [2]int{2, 11}:
		return 11, true
	case [2]int{3, 4}:
		return 29, true
	case [2]int{3, 5}:
		return 27, true
	case [2]int{3, 6}:
		return 20, true
	case [2]int{3, 7}:
		return 22, true
	case [2]int{3, 8}:
		return 20, true
	case [2]int{3, 9}:
		return 14, true
	case [2]int{3, 10}:
		return 13, true
	case [2]int{3, 11}:
		return 6, true
	}
	return 0, false
}

// ParseKnown is Parse for a release to emulate (a -version flag): besides the syntax, the
// release must lie between Oldest and Latest, and its patch level must exist as far as the
// module knows; the error says the range it knows.
func ParseKnown(s string) (Version, error) {
	v, err := Parse(s)
	if err != nil {
		return v, err
	}
	switch {
	case v.Compare(Oldest()) < 0:
		return Version{}, fmt.Errorf("release %s is older than the oldest release emulated (%s; known: %s to %s)", strings.TrimSpace(s), Oldest(), Oldest(), Latest())
	case v.Compare(Latest()) > 0:
		return Version{}, fmt.Errorf("release %s is newer than the newest release known (%s; known: %s to %s)", strings.TrimSpace(s), Latest(), Oldest(), Latest())
	}
	if last, ok := lastPatch(v.Major, v.Minor); ok && v.Patch > last {
		return Version{}, fmt.Errorf("release %s does not exist as far as this module knows: the %d.%d series ends at %d.%d.%d here (known: %s to %s)",
			strings.TrimSpace(s), v.Major, v.Minor, v.Major, v.Minor, last, Oldest(), Latest())
	}
	return v, nil
}

// MustParse is Parse for constants known to be valid; it panics on bad input.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare returns -1, 0 or +1 as v is older than, equal to, or newer than w.
func (v Version) Compare(w Version) int {
	switch {
	case v.Major != w.Major:
		return cmpInt(v.Major, w.Major)
	case v.Minor != w.Minor:
		return cmpInt(v.Minor, w.Minor)
	default:
		return cmpInt(v.Patch, w.Patch)
	}
}

// AtLeast reports whether v is the release major.minor.patch or newer.
func (v Version) AtLeast(major, minor, patch int) bool {
	return v.Compare(Version{major, minor, patch}) >= 0
}

// Before reports whether v is older than major.minor.patch.
func (v Version) Before(major, minor, patch int) bool { return !v.AtLeast(major, minor, patch) }

// FixedIn reports whether v has a change that Postfix made in several stable series at
// once, given as the first patch release of each series that has it (3.4.29, 3.5.19,
// 3.6.9, …): v has it when it is at least the listed release of its own series, or when its
// series is newer than every listed one. A v older than every listed series lacks it.
func (v Version) FixedIn(first ...Version) bool {
	var newest Version
	for _, f := range first {
		if v.InSeries(f.Major, f.Minor) {
			return v.Patch >= f.Patch
		}
		if f.Compare(newest) > 0 {
			newest = f
		}
	}
	return len(first) > 0 && v.Compare(newest) > 0
}

// InSeries reports whether v belongs to the stable series major.minor (any patch level).
func (v Version) InSeries(major, minor int) bool { return v.Major == major && v.Minor == minor }

// String prints the version as Postfix does: "3.7.11", "3.6" for a compatibility level with
// no patch part, "2" for a bare major level.
func (v Version) String() string {
	switch {
	case v.Patch != 0:
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	case v.Minor != 0:
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	default:
		return strconv.Itoa(v.Major)
	}
}

// MarshalText implements encoding.TextMarshaler.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Version) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
