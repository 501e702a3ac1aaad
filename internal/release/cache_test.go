package release

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/policy"
)

// TestDetectorCaches: the second run takes the release from the cache without starting
// postconf; replacing the postconf binary (a Postfix upgrade) asks it again.
func TestDetectorCaches(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	bin := filepath.Join(dir, "postconf")
	write := func(version string) {
		script := "#!/bin/sh\necho run >> " + runs + "\necho " + version + "\n"
		require.NoError(t, os.WriteFile(bin+".new", []byte(script), 0o755))
		require.NoError(t, os.Rename(bin+".new", bin)) // a new inode, as a package upgrade makes
	}
	count := func() int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), "run")
	}
	write("3.7.11")
	d := Detector{Postconf: bin, CacheDir: filepath.Join(dir, "cache")}
	ctx := context.Background()
	for i, want := range []bool{false, true, true} {
		v, cached, err := d.Version(ctx, "")
		require.NoError(t, err)
		require.Equal(t, policy.V(3, 7, 11), v)
		require.Equal(t, want, cached, "run %d", i)
	}
	require.Equal(t, 1, count())

	time.Sleep(10 * time.Millisecond)
	write("3.10.13")
	v, cached, err := d.Version(ctx, "")
	require.NoError(t, err)
	require.False(t, cached)
	require.Equal(t, policy.V(3, 10, 13), v)
	require.Equal(t, 2, count())

	nocache := Detector{Postconf: bin, CacheDir: "-"}
	_, cached, err = nocache.Version(ctx, "")
	require.NoError(t, err)
	require.False(t, cached)
	require.Equal(t, 3, count())
}

// TestDetectorRealPostconf: the installed postconf (an ELF binary with shared libraries)
// gives the same release from the cache as when run.
func TestDetectorRealPostconf(t *testing.T) {
	bin := need.Command(t, "postconf")
	conf := t.TempDir()
	for _, f := range []string{"main.cf", "master.cf"} {
		require.NoError(t, os.WriteFile(filepath.Join(conf, f), nil, 0o644))
	}
	d := Detector{Postconf: bin, CacheDir: t.TempDir()}
	ctx := context.Background()
	v1, cached1, err := d.Version(ctx, conf)
	require.NoError(t, err)
	v2, cached2, err := d.Version(ctx, conf)
	require.NoError(t, err)
	require.False(t, cached1)
	require.True(t, cached2)
	require.Equal(t, v1, v2)
	key, err := identity(bin)
	require.NoError(t, err)
	require.Len(t, key, 64)
}
