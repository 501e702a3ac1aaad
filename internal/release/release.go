// Package release chooses the Postfix release the commands emulate when no -version is
// given: the installed Postfix's, else the newest release the library knows. It is the one
// implementation the postfixtls check, explain and version subcommands share.
package release

import (
	"context"
	"os"
	"path/filepath"

	"github.com/postfixtls/postfixtls/policy"
)

// Where the release came from, in the commands' words.
const (
	// LatestFrom says that no installed Postfix answered.
	LatestFrom = "newest release known (no installed Postfix answered; use -version)"
)

// Installed returns the release of the Postfix installed for the configuration directory
// dir (postconf -c dir -h mail_version; cached by Detector, so that a normal run starts
// no process) and says where it came from. ok is false when dir
// is "", has no main.cf (postconf fails there, after a one-second pause: it is not asked)
// or postconf does not answer with a release the library knows.
func Installed(ctx context.Context, dir string) (v policy.Version, from string, ok bool) {
	if dir == "" {
		return policy.Version{}, "", false
	}
	if _, err := os.Stat(filepath.Join(dir, "main.cf")); err != nil {
		return policy.Version{}, "", false
	}
	v, _, err := Detector{}.Version(ctx, dir)
	if err != nil {
		return policy.Version{}, "", false
	}
	return v, "installed Postfix (postconf -c " + dir + " -h mail_version)", true
}

// Default returns Installed's release, else the newest release known, and where it came
// from.
func Default(ctx context.Context, dir string) (policy.Version, string) {
	if v, from, ok := Installed(ctx, dir); ok {
		return v, from
	}
	return policy.Latest(), LatestFrom
}
