package smtpclient

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// TestTrustCache: the files are read once while unchanged, again when one of them changes
// (size or time), appears or disappears.
func TestTrustCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fsys := fstest.MapFS{
		"etc/postfix/ca.pem": {Data: []byte("one"), ModTime: t0},
		"etc/postfix/ta.pem": {Data: []byte("anchor"), ModTime: t0},
	}
	p := policy.Policy{CAFile: "/etc/postfix/ca.pem", TrustAnchorFiles: []string{"/etc/postfix/ta.pem"}}
	var tc TrustCache
	loads := 0
	load := func() (*verdict.Trust, error) { loads++; return &verdict.Trust{}, nil }
	step := func(what string, want int) {
		t.Helper()
		if _, err := tc.load(context.Background(), fsys, "k", p, load); err != nil {
			t.Fatal(err)
		}
		if loads != want {
			t.Fatalf("%s: %d loads, want %d", what, loads, want)
		}
	}
	step("first", 1)
	step("unchanged", 1)
	step("unchanged again", 1)
	fsys["etc/postfix/ca.pem"] = &fstest.MapFile{Data: []byte("two"), ModTime: t0.Add(time.Second)}
	step("CAfile rewritten", 2)
	fsys["etc/postfix/ca.pem"] = &fstest.MapFile{Data: []byte("three!"), ModTime: t0.Add(time.Second)}
	step("CAfile of another size, same time", 3)
	delete(fsys, "etc/postfix/ta.pem")
	step("trust-anchor file removed", 4)
	step("still removed", 4)
	fsys["etc/postfix/ta.pem"] = &fstest.MapFile{Data: []byte("anchor"), ModTime: t0}
	step("trust-anchor file back", 5)
}
