package tables

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// compiledTypes are the compiled formats this package reads, each tested only against files
// that the real postmap made (postfix, postfix-cdb, postfix-lmdb).
var compiledTypes = []string{"hash", "btree", "cdb", "lmdb"}

// needMapType skips (fails under CI) when postmap lacks the map type's plugin.
func needMapType(t *testing.T, bin, conf, typ string) {
	t.Helper()
	if typ == "hash" || typ == "btree" {
		return
	}
	if _, err := os.Stat("/usr/lib/postfix/postfix-" + typ + ".so"); err != nil {
		need.Missing(t, "postmap has no %s: tables: install postfix-%s", typ, typ)
	}
}

// bigSource is a source file with many entries, long keys and values (overflow pages,
// several hash buckets and btree levels), mixed case and duplicate keys.
func bigSource(r *rand.Rand, n int, typ string) string {
	maxKey := 3000
	if typ == "lmdb" {
		maxKey = 400 // LMDB keys are at most 511 bytes
	}
	var b strings.Builder
	b.WriteString(genSource(r, 60))
	// Long keys with a long common prefix: btree separators on overflow pages.
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, "%s%03d.example may\n", strings.Repeat("p", maxKey-20), i)
	}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("host%d.Example%d.COM", i, r.Intn(50))
		if r.Intn(40) == 0 {
			key += strings.Repeat("k", r.Intn(maxKey))
		}
		val := "secure match=nexthop"
		switch r.Intn(30) {
		case 0:
			val = "verify match=" + strings.Repeat("mx.example.net:", 1+r.Intn(400))
		case 1:
			val = "may"
		}
		fmt.Fprintf(&b, "%s %s\n", key, val)
		if r.Intn(100) == 0 {
			fmt.Fprintf(&b, "%s encrypt\n", strings.ToUpper(key)) // duplicate: the first one wins
		}
	}
	return b.String()
}

// queryKeys lists keys to ask: each source key as written, folded, upper-cased, and misses.
func queryKeys(src string) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(k string) {
		if k != "" && !seen[k] && !strings.ContainsAny(k, "\n\x00") {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, l := range strings.Split(src, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		add(f[0])
		add(strings.ToLower(f[0]))
		add(strings.ToUpper(f[0]))
		add(f[0] + "x")
	}
	add("nothere.example")
	return keys
}

// compareWithPostmap asks postmap -q and the table for every key.
func compareWithPostmap(t *testing.T, bin, conf, spec string, tb Table, keys []string) {
	t.Helper()
	out, _ := runPostmap(t, bin, conf, strings.Join(keys, "\n")+"\n", "-q", "-", spec)
	var mine []string
	ctx := context.Background()
	for _, k := range keys {
		r, err := tb.Lookup(ctx, k)
		require.NoError(t, err, k)
		if r.Found {
			mine = append(mine, k+"\t"+r.Value)
		}
	}
	sort.Strings(mine)
	want := sortedPairs(out)
	require.NotEmpty(t, want)
	assert.Equal(t, len(want), len(mine), "found keys")
	assert.Equal(t, want, mine)
}

func openCompiledT(t *testing.T, spec string) *CompiledTable {
	t.Helper()
	tb, err := Open(context.Background(), spec, Options{FoldFixed: true})
	require.NoError(t, err)
	ct, ok := tb.(*CompiledTable)
	require.True(t, ok, "%s: %T %v", spec, tb, tb.Diagnostics())
	return ct
}

func setMtime(t *testing.T, file string, when time.Time) {
	t.Helper()
	require.NoError(t, os.Chtimes(file, when, when))
}

// TestCompiledAgreesWithPostmap: on files the real postmap built, fresh, stale (source
// edited afterwards), built from another file, and with the source deleted, every lookup
// answers what postmap -q answers, with postmap's open-time warning.
func TestCompiledAgreesWithPostmap(t *testing.T) {
	bin, conf := postmapTool(t)
	n := 3000
	if testing.Short() {
		n = 800
	}
	for _, typ := range compiledTypes {
		t.Run(typ, func(t *testing.T) {
			needMapType(t, bin, conf, typ)
			suffix, _ := CompiledSuffix(typ)
			dir := t.TempDir()
			r := rand.New(rand.NewSource(int64(len(typ))))
			file := filepath.Join(dir, "tls_policy")
			spec := typ + ":" + file
			src := bigSource(r, n, typ)
			writeCool(t, file, src)
			runPostmap(t, bin, conf, "", spec)
			keys := queryKeys(src)

			t.Run("fresh", func(t *testing.T) {
				tb := openCompiledT(t, spec)
				defer tb.Close()
				assert.Empty(t, tb.Diagnostics())
				compareWithPostmap(t, bin, conf, spec, tb, keys)
				// Scan reads what postmap -s shows (cdb: has no sequence operation: what
				// postmap stored, the source's first entry of each key).
				var out string
				if typ == "cdb" {
					st, err := Open(context.Background(), spec, Options{FoldFixed: true, ReadSource: true})
					require.NoError(t, err)
					for _, e := range st.(*SourceTable).Entries() {
						out += e.Key + "\t" + e.Value + "\n"
					}
				} else {
					out, _ = runPostmap(t, bin, conf, "", "-s", spec)
				}
				var all []string
				require.NoError(t, tb.Scan(func(k, v string) error { all = append(all, k+"\t"+v); return nil }))
				sort.Strings(all)
				assert.Equal(t, sortedPairs(out), all, "Scan")
				res, err := tb.Lookup(context.Background(), "HOST0.example0.com")
				require.NoError(t, err)
				if res.Found {
					assert.Equal(t, file+suffix, res.Source.File)
					assert.Contains(t, res.Source.Note, "read from the compiled file")
				}
			})

			t.Run("stale: source edited after postmap", func(t *testing.T) {
				edited := strings.ReplaceAll(src, "secure match=nexthop", "none") + "added.example.com encrypt\n"
				writeCool(t, file, edited)
				setMtime(t, file+suffix, time.Now().Add(-2*time.Hour))
				_, warns := runPostmap(t, bin, conf, "host0.example0.com\n", "-q", "-", spec)
				tb := openCompiledT(t, spec)
				defer tb.Close()
				want := fmt.Sprintf("database %s%s is older than source file %s", file, suffix, file)
				assert.Contains(t, warns, want)
				assert.Equal(t, []string{want}, messagesOf(tb.Diagnostics()))
				compareWithPostmap(t, bin, conf, spec, tb, append(queryKeys(edited), "added.example.com"))
				res, _ := tb.Lookup(context.Background(), "added.example.com")
				assert.False(t, res.Found, "the row added to the source is not in the stale compiled file")
			})

			t.Run("built from another file", func(t *testing.T) {
				other := filepath.Join(dir, "other")
				osrc := bigSource(rand.New(rand.NewSource(99)), 200, typ)
				writeCool(t, other, osrc)
				runPostmap(t, bin, conf, "", typ+":"+other)
				require.NoError(t, os.Rename(other+suffix, file+suffix))
				setMtime(t, file+suffix, time.Now())
				tb := openCompiledT(t, spec)
				defer tb.Close()
				compareWithPostmap(t, bin, conf, spec, tb, append(queryKeys(osrc), keys[:200]...))
			})

			t.Run("source deleted", func(t *testing.T) {
				writeCool(t, file, src)
				runPostmap(t, bin, conf, "", spec)
				require.NoError(t, os.Remove(file))
				tb := openCompiledT(t, spec)
				defer tb.Close()
				assert.Empty(t, tb.Diagnostics())
				compareWithPostmap(t, bin, conf, spec, tb, keys)
			})
		})
	}
}

// TestCompiledNotNull: postmap -N stores keys without the trailing null byte, which the
// lookup then tries second (DICT_FLAG_TRY0NULL); -n stores them with it.
func TestCompiledNullFlags(t *testing.T) {
	bin, conf := postmapTool(t)
	for _, typ := range compiledTypes {
		for _, flag := range []string{"-N", "-n"} {
			t.Run(typ+flag, func(t *testing.T) {
				needMapType(t, bin, conf, typ)
				dir := t.TempDir()
				file := filepath.Join(dir, "m")
				src := "Example.COM secure\nfoo.org may\n"
				writeCool(t, file, src)
				runPostmap(t, bin, conf, "", flag, typ+":"+file)
				tb := openCompiledT(t, typ+":"+file)
				compareWithPostmap(t, bin, conf, typ+":"+file, tb, queryKeys(src))
			})
		}
	}
}

// TestCompiledNotAFile: a compiled file that is not in the type's format makes Postfix
// give up on the table with the words postmap exits with (a daemon: the surrogate's reason).
func TestCompiledNotAFile(t *testing.T) {
	bin, conf := postmapTool(t)
	dir := t.TempDir()
	for _, typ := range compiledTypes {
		needMapType(t, bin, conf, typ)
		suffix, _ := CompiledSuffix(typ)
		for name, data := range map[string]string{"empty": "", "x": "x\n", "text": strings.Repeat("example.com secure\n", 300)} {
			t.Run(typ+" "+name, func(t *testing.T) {
				t.Parallel() // msg_fatal() sleeps one second before exiting
				file := filepath.Join(dir, typ+name)
				writeCool(t, file, "example.com secure\n")
				require.NoError(t, os.WriteFile(file+suffix, []byte(data), 0o644))
				want, _ := runPostmapFail(t, bin, conf, "-q", "example.com", typ+":"+file)
				if typ == "cdb" && name == "text" {
					// tinycdb accepts any file of 2048 bytes or more; the lookup finds nothing.
					tb, err := Open(context.Background(), typ+":"+file, Options{})
					require.NoError(t, err)
					r, err := tb.Lookup(context.Background(), "example.com")
					if err == nil {
						assert.False(t, r.Found)
					}
					return
				}
				assert.Equal(t, want, openReason(t, typ+":"+file, Options{}))
			})
		}
	}
	// hash: asked of a btree file and the reverse.
	t.Run("crossed", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(dir, "crossed")
		writeCool(t, file, "example.com secure\n")
		runPostmap(t, bin, conf, "", "btree:"+file)
		want, _ := runPostmapFail(t, bin, conf, "-q", "example.com", "hash:"+file)
		assert.Equal(t, want, openReason(t, "hash:"+file, Options{}))
		runPostmap(t, bin, conf, "", "hash:"+file)
		want, _ = runPostmapFail(t, bin, conf, "-q", "example.com", "btree:"+file)
		assert.Equal(t, want, openReason(t, "btree:"+file, Options{}))
	})
}

// TestCompiledCorrupt: files postmap built, with bytes overwritten at random, give errors or
// answers, never a panic or an endless loop.
func TestCompiledCorrupt(t *testing.T) {
	bin, conf := postmapTool(t)
	for _, typ := range compiledTypes {
		t.Run(typ, func(t *testing.T) {
			needMapType(t, bin, conf, typ)
			suffix, _ := CompiledSuffix(typ)
			dir := t.TempDir()
			file := filepath.Join(dir, "m")
			r := rand.New(rand.NewSource(7))
			src := bigSource(r, 100, typ)
			writeCool(t, file, src)
			runPostmap(t, bin, conf, "", typ+":"+file)
			orig, err := os.ReadFile(file + suffix)
			require.NoError(t, err)
			keys := queryKeys(src)[:100]
			ctx := context.Background()
			runs := 120
			if testing.Short() {
				runs = 40
			}
			for i := 0; i < runs; i++ {
				data := append([]byte(nil), orig...)
				for j := 0; j < 1+r.Intn(20); j++ {
					data[r.Intn(len(data))] = byte(r.Intn(256))
				}
				fsys := fstest.MapFS{"m" + suffix: {Data: data}, "m": {Data: []byte(src)}}
				tb, err := Open(ctx, typ+":/m", Options{FS: fsys, FoldFixed: true})
				if err != nil {
					continue
				}
				for _, k := range keys {
					_, _ = tb.Lookup(ctx, k)
				}
			}
		})
	}
}
