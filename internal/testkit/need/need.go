// Package need gives tests the real programs they compare with (postconf, postmap,
// openssl, posttls-finger, ...). A missing program skips the test on a developer's machine
// and fails it loudly in CI (CI=true), where make test has installed every one.
package need

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Command returns the path of the program name: found on PATH, else in /usr/sbin,
// /usr/bin or /usr/local/sbin. Without it the test fails when CI=true and is skipped
// otherwise.
func Command(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (make test installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// Missing ends a test that lacks something make test installs (a program, a package, the
// oracle's files): it fails when CI=true and is skipped otherwise, with the reason.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
