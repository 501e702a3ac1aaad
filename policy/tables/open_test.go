package tables

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openReason returns the reason Postfix gives for a table it cannot open: the surrogate's
// Error diagnostic, or the OpenError message.
func openReason(t *testing.T, spec string, opt Options) string {
	t.Helper()
	tb, err := Open(context.Background(), spec, opt)
	if err != nil {
		var oe *OpenError
		require.True(t, errors.As(err, &oe), "%v", err)
		return oe.Message
	}
	for _, d := range tb.Diagnostics() {
		if d.Severity == Error {
			return d.Message
		}
	}
	return ""
}

func TestOpenFailures(t *testing.T) {
	cases := []struct {
		name, spec, want string
		opt              Options
	}{
		{"§9 vector 19: hash map without .db", "hash:/nonexist/tls_policy", "open database /nonexist/tls_policy.db: No such file or directory", Options{}},
		{"§1.4 btree map without .db", "btree:/nonexist", "open database /nonexist.db: No such file or directory", Options{}},
		{"§1.4 lmdb map without .lmdb", "lmdb:/nonexist", "open database /nonexist.lmdb: No such file or directory", Options{}},
		{"§1.4 cdb map without .cdb", "cdb:/nonexist", "open database /nonexist.cdb: No such file or directory", Options{}},
		{"§1.4 texthash file missing", "texthash:/nonexist", "open database /nonexist: No such file or directory", Options{}},
		{"§1.4 regexp file missing", "regexp:/nonexist", "open /nonexist: No such file or directory", Options{}},
		{"§1.4 unknown type", "foo:bar", "unsupported dictionary type: foo", Options{}},
		{"§1.4 daemon: name without type", "nocolon", `open dictionary: expecting "type:name" form instead of "nocolon"`, Options{}},
		{"§1.4 postmap: default_database_type", "nocolon", "open database nocolon.db: No such file or directory", Options{DefaultType: "hash"}},
		{"§1.1 inline without =", "inline:{a}", `missing '=' after attribute name: "inline:{a}"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 inline empty braces", "inline:{}", `bad syntax: "inline:{}"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 inline only blanks", "inline:{ }", `empty table: "inline:{ }"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 inline text after }", "inline:{a=b}x", `bad syntax: "inline:{a=b}x"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 inline unbalanced braces", "inline:{{a=b}", `bad syntax: "inline:{{a=b}"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 inline text after inner }", "inline:{ {a=b}x }", `syntax error after '}' in "{a=b}x": "inline:{ {a=b}x }"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 inline unbalanced quote", `inline:{"a=b}`, `unbalanced '"': "inline:{"a=b}"; need "inline:{name=value...}"`, Options{}},
		{"§1.1 static missing }", "static:{ x", `bad static:name syntax: missing '}' in "{ x"`, Options{}},
		{"§1.1 static text after }", "static:{x}y", `bad static:name syntax: syntax error after '}' in "{x}y"`, Options{}},
		{"§1.1 inline regexp without inner braces", "regexp:{/a/ b}", `regexp map: no '{' at start of text in "/a/"`, Options{}},
		{"§1.4 socketmap without transport", "socketmap:inet:x", `need service transport:endpoint instead of "inet"`, Options{}},
		{"§1.4 socketmap bad transport", "socketmap:foo:x:y", "invalid transport name: foo in service: foo:x", Options{}},
		{"§1.4 socketmap without map name", "socketmap:x", "socketmap requires server:socketmap argument", Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, openReason(t, tc.spec, tc.opt))
		})
	}
}

// TestOpenFailuresAgreeWithPostmap checks our open-failure words against postmap, which
// (not being a daemon) exits with them as "fatal:".
func TestOpenFailuresAgreeWithPostmap(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, conf := postmapTool(t)
	specs := []string{"inline:{a}", "inline:{}", "inline:{ }", "inline:{a=b}x", "inline:{ {a=b}x }",
		`inline:{"a=b}`, "static:{ x", "static:{x}y", "foo:bar", "texthash:/nonexist", "hash:/nonexist",
		"btree:/nonexist", "regexp:/nonexist", "regexp:{/a/ b}", "socketmap:inet:x", "socketmap:foo:x:y"}
	for _, spec := range specs {
		t.Run("§1.4 "+spec, func(t *testing.T) {
			t.Parallel() // msg_fatal() sleeps one second before exiting
			out, _ := runPostmapFail(t, bin, conf, "-q", "a", spec)
			assert.Equal(t, out, openReason(t, spec, Options{}))
		})
	}
}

func TestOpenIndexedReadsSource(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fsys := fstest.MapFS{
		"etc/postfix/tls_policy":    {Data: []byte("Example.com secure\n"), ModTime: now.Add(-time.Hour)},
		"etc/postfix/tls_policy.db": {Data: []byte("x"), ModTime: now.Add(-2 * time.Hour)},
		"etc/postfix/fresh":         {Data: []byte("a b\n"), ModTime: now.Add(-10 * time.Second)},
		"etc/postfix/fresh.db":      {Data: []byte("x"), ModTime: now.Add(-time.Hour)},
		"etc/postfix/orphan.db":     {Data: []byte("x"), ModTime: now},
		"etc/postfix/rebuilt":       {Data: []byte("Example.com secure\n"), ModTime: now.Add(-time.Hour)},
		"etc/postfix/rebuilt.db":    {ModTime: now.Add(-time.Hour), Sys: Rebuilt{}},
		"etc/postfix/old":           {Data: []byte("Example.com secure\n"), ModTime: now.Add(-time.Hour)},
		"etc/postfix/old.dir":       {Data: []byte("x"), ModTime: now.Add(-2 * time.Hour)},
	}
	opt := Options{FS: fsys, FoldFixed: true, Now: func() time.Time { return now }}

	// ReadSource: lint's view, the source as postmap reads it.
	src := opt
	src.ReadSource = true
	tb, err := Open(ctx, "hash:/etc/postfix/tls_policy", src)
	require.NoError(t, err)
	assert.Equal(t, []string{"database /etc/postfix/tls_policy.db is older than source file /etc/postfix/tls_policy"}, messagesOf(tb.Diagnostics()))
	r, err := tb.Lookup(ctx, "EXAMPLE.COM")
	require.NoError(t, err)
	assert.True(t, r.Found)
	assert.Equal(t, "hash:/etc/postfix/tls_policy:1: Example.com secure", r.Source.String())
	assert.Contains(t, r.Source.Note, "read from the source file beside hash:/etc/postfix/tls_policy.db")
	assert.Contains(t, r.Source.Note, "older than source file")

	// What Postfix does: the compiled file, which here is no database at all.
	tb, err = Open(ctx, "hash:/etc/postfix/tls_policy", opt)
	require.NoError(t, err)
	assert.Equal(t, []string{"database /etc/postfix/tls_policy.db is older than source file /etc/postfix/tls_policy",
		"open database /etc/postfix/tls_policy.db: Invalid argument"}, messagesOf(tb.Diagnostics()))
	_, err = tb.Lookup(ctx, "example.com")
	require.ErrorIs(t, err, ErrUnavailable)

	tb, err = Open(ctx, "hash:/etc/postfix/fresh", src)
	require.NoError(t, err)
	assert.Empty(t, tb.Diagnostics(), "§1.4 Postfix does not warn when the source changed less than 100 s ago")

	assert.Equal(t, "open database /etc/postfix/orphan.db: Invalid argument", openReason(t, "hash:/etc/postfix/orphan", opt))
	_, err = Open(ctx, "hash:/etc/postfix/orphan", src)
	require.ErrorIs(t, err, ErrNotEmulated, "ReadSource: compiled file without source")

	// A compiled file that stands for a fresh postmap build is read from the source.
	tb, err = Open(ctx, "hash:/etc/postfix/rebuilt", opt)
	require.NoError(t, err)
	assert.Empty(t, tb.Diagnostics())
	r, _ = tb.Lookup(ctx, "example.com")
	assert.True(t, r.Found)
	assert.Contains(t, r.Source.Note, "as postmap builds it")

	// dbm: files are not read here: the source, with that said.
	tb, err = Open(ctx, "dbm:/etc/postfix/old", opt)
	require.NoError(t, err)
	r, _ = tb.Lookup(ctx, "example.com")
	assert.True(t, r.Found)
	assert.Contains(t, r.Source.Note, "cannot be read here")
	assert.Contains(t, r.Source.Note, "Postfix answers from the stale /etc/postfix/old.dir")

	tb, err = Open(ctx, "hash:tls_policy", Options{FS: fsys, BaseDir: "/etc/postfix", Now: opt.Now, ReadSource: true})
	require.NoError(t, err)
	r, _ = tb.Lookup(ctx, "example.com")
	assert.True(t, r.Found, "relative names resolve against BaseDir")
}

func TestOpenOSFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "tls_policy")
	require.NoError(t, os.WriteFile(file, []byte("example.com secure\n"), 0o644))
	tb, err := Open(ctx, "texthash:"+file, Options{FoldFixed: true})
	require.NoError(t, err)
	r, err := tb.Lookup(ctx, "example.com")
	require.NoError(t, err)
	assert.Equal(t, "secure", r.Value)
	assert.Equal(t, file, r.Source.File)

	tb, err = Open(ctx, "texthash:"+dir, Options{})
	require.NoError(t, err)
	_, err = tb.Lookup(ctx, "x")
	assert.ErrorIs(t, err, ErrUnavailable, "a directory is not a table")
}

func TestOpenNotEmulated(t *testing.T) {
	for _, spec := range []string{"ldap:/etc/postfix/ldap.cf", "mysql:/etc/postfix/my.cf", "pgsql:x", "sqlite:x", "tcp:127.0.0.1:1", "cidr:/x", "unionmap:{a:b}"} {
		t.Run("§1.4 "+spec, func(t *testing.T) {
			_, err := Open(context.Background(), spec, Options{})
			require.ErrorIs(t, err, ErrNotEmulated)
			assert.Contains(t, err.Error(), "unsupported dictionary type: "+strings.SplitN(spec, ":", 2)[0])
		})
	}
}

func TestStaticFailProxy(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, spec, key, want string
	}{
		{"§1.1 static:value", "static:secure", "anything", "secure"},
		{"§1.1 static:{ value with spaces }", "static:{ secure match=nexthop }", "x", "secure match=nexthop"},
		{"§1.1 proxy: is the same table", "proxy:inline:{a=b}", "a", "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Open(ctx, tc.spec, Options{FoldFixed: true})
			require.NoError(t, err)
			r, err := tb.Lookup(ctx, tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Value)
			assert.Equal(t, tc.spec, r.Source.Table)
		})
	}
	tb, _ := Open(ctx, "proxy:inline:{a=b}", Options{})
	r, _ := tb.Lookup(ctx, "a")
	assert.Equal(t, "via proxymap (proxy_read_maps not checked)", r.Source.Note)

	tb, _ = Open(ctx, "proxy:inline:{a=b}", Options{ProxyReadMaps: []string{"proxy:inline:{a=b}"}})
	r, err := tb.Lookup(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "via proxymap", r.Source.Note)

	tb, _ = Open(ctx, "proxy:texthash:/x", Options{ProxyReadMaps: []string{"$transport_maps", "proxy:hash:/y"}})
	_, err = tb.Lookup(ctx, "a")
	require.ErrorIs(t, err, ErrUnavailable, "§1.4 proxymap refuses tables not in proxy_read_maps")
	assert.Equal(t, `proxy:texthash:/x is unavailable. proxymap service is not configured for table "texthash:/x"`, err.Error())

	tb, _ = Open(ctx, "proxy:hash:/nonexist", Options{})
	_, err = tb.Lookup(ctx, "a")
	var te *TableError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "proxy:hash:/nonexist", te.Table)

	tb, _ = Open(ctx, "fail:x", Options{})
	_, err = tb.Lookup(ctx, "a")
	require.ErrorIs(t, err, ErrLookup, "fail: tables always fail")
	assert.False(t, IsFixed(tb))
}

func TestInlineGrammar(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, spec, key, want string
		found                 bool
	}{
		{"§1.1 inline key=value", "inline:{a=b, c=d}", "c", "d", true},
		{"§1.1 inline braces keep spaces", "inline:{ {example.com = secure match=nexthop} }", "example.com", "secure match=nexthop", true},
		{"§1.1 inline spaces around =", "inline:{ a = b }", "a", "", false},
		{"§1.1 inline keys are folded under FOLD_FIX", "inline:{Example.COM=secure}", "EXAMPLE.com", "secure", true},
		{"§1.1 inline later duplicate replaces (dict_ht update)", "inline:{a=1, a=2}", "a", "2", true},
		{"§1.1 inline quoted key needs inner braces", `inline:{{"a b"=c}}`, `"a b"`, "c", true},
		{"§1.1 inline value may contain =", "inline:{a=b=c}", "a", "b=c", true},
		{"§1.1 inline non-ASCII key casefolded when stored (dict_utf8_update; postmap -q)", "inline:{BÜCHER.example=secure}", "bücher.EXAMPLE", "secure", true},
		{"§1.1 inline non-ASCII key found as written", "inline:{Ǫ=0}", "Ǫ", "0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Open(ctx, tc.spec, Options{FoldFixed: true, UTF8: true})
			require.NoError(t, err)
			r, err := tb.Lookup(ctx, tc.key)
			if tc.spec == "inline:{ a = b }" {
				// "a", "=", "b" are three tokens: "a" has no '='.
				require.ErrorIs(t, err, ErrUnavailable)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.found, r.Found)
			assert.Equal(t, tc.want, r.Value)
		})
	}
}
