package policy

import "github.com/postfixtls/postfixtls/policy/release"

// Version is a Postfix release number such as 3.7.11, or a compatibility_level value such
// as 3.6 (package [release] defines it; this name is kept so that policy's API reads alone).
type Version = release.Version

// Latest returns the newest Postfix release whose TLS policy behaviour this module knows. It
// is the version emulated when the caller does not choose one.
func Latest() Version { return release.Latest() }

// V is shorthand for Version{major, minor, patch}.
func V(major, minor, patch int) Version { return release.V(major, minor, patch) }

// ParseVersion is [release.Parse]: "3", "3.6", "3.7.11", "3.12-20260821" or "3.10.0-RC1".
func ParseVersion(s string) (Version, error) { return release.Parse(s) }

// ParseKnownVersion is [release.ParseKnown]: a release this module can emulate (the parser
// of every command's -version flag).
func ParseKnownVersion(s string) (Version, error) { return release.ParseKnown(s) }

// MustParseVersion is [release.MustParse], for constants known to be valid.
func MustParseVersion(s string) Version { return release.MustParse(s) }
