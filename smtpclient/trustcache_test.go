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

	// a CApath: the directory and each hash-named file (others are never opened)
	fsys["etc/ssl/certs/1a2b3c4d.0"] = &fstest.MapFile{Data: []byte("ca"), ModTime: t0}
	fsys["etc/ssl/certs/README"] = &fstest.MapFile{Data: []byte("x"), ModTime: t0}
	p.CAPath = "/etc/ssl/certs"
	step("CApath added", 6)
	step("CApath unchanged", 6)
	fsys["etc/ssl/certs/README"] = &fstest.MapFile{Data: []byte("xy"), ModTime: t0.Add(time.Hour)}
	step("a file OpenSSL never opens changed", 6)
	fsys["etc/ssl/certs/1a2b3c4d.0"] = &fstest.MapFile{Data: []byte("CA"), ModTime: t0.Add(time.Hour)}
	step("a hash-named file rewritten in place", 7)

	// a failed load is not kept: the next check tries again
	fail := true
	load = func() (*verdict.Trust, error) {
		loads++
		if fail {
			return nil, verdict.ErrCAFile
		}
		return &verdict.Trust{}, nil
	}
	if _, err := tc.load(context.Background(), fsys, "k2", p, load); err == nil {
		t.Fatal("the failing load did not fail")
	}
	fail = false
	step2 := loads
	if _, err := tc.load(context.Background(), fsys, "k2", p, load); err != nil || loads != step2+1 {
		t.Fatalf("after a failure the files were not read again (err %v, %d loads, want %d)", err, loads, step2+1)
	}
}
