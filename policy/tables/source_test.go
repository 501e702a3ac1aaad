package tables

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type kv struct {
	Key, Value string
	Line       int
}

func entriesOf(t *SourceTable) []kv {
	var out []kv
	for _, e := range t.Entries() {
		out = append(out, kv{e.Key, e.Value, e.Line})
	}
	return out
}

func messagesOf(d []Diagnostic) []string {
	var out []string
	for _, x := range d {
		out = append(out, x.Message)
	}
	return out
}

func TestSourceFormat(t *testing.T) {
	fold := Options{FoldFixed: true, DuplicateWarn: true}
	cases := []struct {
		name  string
		opt   Options
		in    string
		want  []kv
		diags []string
	}{
		{"§1.1 key ends at first whitespace, value trimmed", fold,
			"example.com   secure match=nexthop  \n", []kv{{"example.com", "secure match=nexthop", 1}}, nil},
		{"§1.1 continuation line keeps its leading whitespace", fold,
			"example.com fingerprint\n\tmatch=AB:CD\n", []kv{{"example.com", "fingerprint\tmatch=AB:CD", 1}}, nil},
		{"§9 vector 16: comment line inside a multi-line entry", fold,
			"example.com fingerprint\n# old key\n    match=AB:CD...|EF:01...\n",
			[]kv{{"example.com", "fingerprint    match=AB:CD...|EF:01...", 1}}, nil},
		{"§1.1 empty and blank lines inside a multi-line entry are dropped", fold,
			"a b\n\n   \n  c\nd e\n", []kv{{"a", "b  c", 1}, {"d", "e", 5}}, nil},
		{"§1.1 indented comment is a comment", fold,
			"a b\n   # not a continuation\nc d\n", []kv{{"a", "b", 1}, {"c", "d", 3}}, nil},
		{"§1.1 trailing # is part of the value", fold,
			"example.com secure # note\n", []kv{{"example.com", "secure # note", 1}}, nil},
		{"§1.1 CRLF line ends are trimmed whitespace", fold,
			"a b\r\nc d\r\n", []kv{{"a", "b", 1}, {"c", "d", 2}}, nil},
		{"§1.1 missing value: expected format warning, line skipped", fold,
			"onlykey\na b\n", []kv{{"a", "b", 2}},
			[]string{"t, line 1: expected format: key whitespace value -- ignoring this line"}},
		{"§1.1 missing value after trailing whitespace", fold,
			"onlykey   \t\n", nil,
			[]string{"t, line 1: expected format: key whitespace value -- ignoring this line"}},
		{"§1.1 quoted key keeps quotes and spaces", fold,
			"\"a b\" v\n", []kv{{"\"a b\"", "v", 1}}, nil},
		{"§1.1 backslash protects whitespace in key", fold,
			"a\\ b v\n", []kv{{"a\\ b", "v", 1}}, nil},
		{"§1.1 unbalanced quote skips the line", fold,
			"a\"b v\n", nil, []string{"t, line 1: unbalanced '\"' in 'a\"b v' -- ignoring this line"}},
		{"§1.1 keys folded, values not (FOLD_FIX)", fold,
			"Example.COM SECURE Match=X\n", []kv{{"example.com", "SECURE Match=X", 1}}, nil},
		{"§1.1 keys not folded without FOLD_FIX", Options{DuplicateWarn: true},
			"Example.COM v\n", []kv{{"Example.COM", "v", 1}}, nil},
		{"§1.1 duplicate key: first wins with postmap's warning", fold,
			"a first\nA second\n", []kv{{"a", "first", 1}},
			[]string{`t, line 2: duplicate entry: "A"`}},
		{"§1.1 logical line must not start with whitespace", fold,
			"  lead x\n  more\na b\n", []kv{{"a", "b", 3}},
			[]string{`t: logical line must not start with whitespace: "  lead x  more"`}},
		{"§1.1 leading-whitespace warning truncates at 30 characters", fold,
			" 0123456789012345678901234567890123 x\n", nil,
			[]string{`t: logical line must not start with whitespace: " 01234567890123456789012345678..."`}},
		{"§1.1 key: value alias format warning", fold,
			"key: value\n", []kv{{"key:", "value", 1}},
			[]string{`t, line 1: record is in "key: value" format; is this an alias file?`}},
		{"§1.1 no final newline", fold, "a b", []kv{{"a", "b", 1}}, nil},
		{"§1.1 line numbers count comments and blanks", fold,
			"# c\n\n\na b\n", []kv{{"a", "b", 4}}, nil},
		{"§1.1 text after a null byte is ignored", fold,
			"a b\x00c\n", []kv{{"a", "b", 1}}, []string{"t, line 1: text after null byte may be ignored"}},
		{"§1.1 (readlline.c >= 3.9) a null byte in a comment line inside an entry is reported", fold,
			"a b\n# x\x00y\n  c\n", []kv{{"a", "b  c", 1}}, []string{"t, line 1-3: text after null byte may be ignored"}},
		{"§1.1 (readlline.c >= 3.9) a null byte in a trailing comment is reported", fold,
			"a b\n# x\x00y\n", []kv{{"a", "b", 1}}, []string{"t, line 1-2: text after null byte may be ignored"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ParseSource(strings.NewReader(tc.in), "t", "", tc.opt)
			require.NoError(t, err)
			assert.Equal(t, tc.want, entriesOf(st))
			assert.Equal(t, tc.diags, messagesOf(st.Diagnostics()))
		})
	}
}

func TestSourceDuplicateMakesDaemonTableUnavailable(t *testing.T) {
	// §1.1/§1.4: smtp(8) opens texthash without DICT_FLAG_DUP_WARN: dict_thash.c turns the
	// whole table into a surrogate.
	st, err := ParseSource(strings.NewReader("a 1\nb 2\na 3\n"), "/etc/postfix/tls_policy", "", Options{FoldFixed: true})
	require.NoError(t, err)
	require.Len(t, st.Diagnostics(), 1)
	assert.Equal(t, Error, st.Diagnostics()[0].Severity)
	_, err = st.Lookup(context.Background(), "b")
	require.ErrorIs(t, err, ErrLookup)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, `texthash:/etc/postfix/tls_policy is unavailable. /etc/postfix/tls_policy, line 3: duplicate entry: "a"`, err.Error())
	assert.False(t, IsFixed(st), "a surrogate is a pattern table")
}

func TestSourceLookup(t *testing.T) {
	ctx := context.Background()
	src := "example.com secure\n[mx.example.net]:587 encrypt\n"
	st, err := ParseSource(strings.NewReader(src), "/etc/postfix/tls_policy", "", Options{FoldFixed: true})
	require.NoError(t, err)
	cases := []struct {
		name, key, want string
		found           bool
	}{
		{"§2.1 exact key", "example.com", "secure", true},
		{"§1.1 FOLD_FIX folds the query", "EXAMPLE.Com", "secure", true},
		{"§2.1 port is part of the key", "[mx.example.net]:587", "encrypt", true},
		{"§2.1 no implicit parent match", "sub.example.com", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := st.Lookup(ctx, tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.found, r.Found)
			assert.Equal(t, tc.want, r.Value)
		})
	}
	r, _ := st.Lookup(ctx, "example.com")
	assert.Equal(t, "texthash:/etc/postfix/tls_policy:1: example.com secure", r.Source.String())

	nofold, _ := ParseSource(strings.NewReader(src), "f", "", Options{})
	r, _ = nofold.Lookup(ctx, "EXAMPLE.COM")
	assert.False(t, r.Found, "§1.1 without FOLD_FIX the lookup is case-sensitive")
}

func TestSourceUTF8(t *testing.T) {
	ctx := context.Background()
	st, err := ParseSource(strings.NewReader("bücher.example secure\nbad \xff\n"), "f", "", Options{FoldFixed: true, UTF8: true})
	require.NoError(t, err)
	r, err := st.Lookup(ctx, "BÜCHER.example")
	require.NoError(t, err)
	assert.True(t, r.Found, "dict_utf8 casefolds non-ASCII keys")
	r, err = st.Lookup(ctx, "\xffx")
	require.NoError(t, err)
	assert.False(t, r.Found)
	assert.Equal(t, []string{`texthash:f: non-UTF-8 key "?x": malformed UTF-8 or invalid codepoint`}, r.Warnings)
	// dict_thash.c drops a non-UTF-8 line when reading (postmap -q bad: not found, with
	// this warning), so the non-UTF-8 value never reaches a lookup.
	r, err = st.Lookup(ctx, "bad")
	require.NoError(t, err)
	assert.False(t, r.Found, "§1.1 a non-UTF-8 line is ignored under UTF-8")
	assert.Contains(t, messagesOf(st.Diagnostics()), "f, line 2: non-UTF-8 input \"bad ?\" -- ignoring this line")
}

// §1.1 folding with UTF-8 active: dict_thash stores through the dict_utf8 wrapper, which
// casefolds the key (dict_utf8_update), so an upper-case non-ASCII source key is found by
// both spellings (postmap -q Ǫ and ǫ both answer for a file line "Ǫ 0").
func TestSourceUTF8FoldsStoredKeys(t *testing.T) {
	ctx := context.Background()
	st, err := ParseSource(strings.NewReader("Ǫ 0\nBÜCHER.Example secure\nbücher.example dup\n"), "f", "", Options{FoldFixed: true, DuplicateWarn: true, UTF8: true})
	require.NoError(t, err)
	for _, key := range []string{"Ǫ", "ǫ", "bücher.example", "BÜCHER.EXAMPLE"} {
		r, err := st.Lookup(ctx, key)
		require.NoError(t, err)
		assert.True(t, r.Found, "§1.1 casefolded non-ASCII key %q", key)
	}
	assert.Equal(t, []string{`f, line 3: duplicate entry: "bücher.example"`}, messagesOf(st.Diagnostics()),
		"§1.1 duplicates are detected after casefolding")
}

func TestSourceLookupDoesNotAllocate(t *testing.T) {
	st, _ := ParseSource(strings.NewReader("example.com secure\n"), "f", "", Options{FoldFixed: true})
	ctx := context.Background()
	for _, key := range []string{"example.com", "EXAMPLE.COM", "missing.example"} {
		n := testing.AllocsPerRun(100, func() { _, _ = st.Lookup(ctx, key) })
		assert.Zero(t, n, key)
	}
}

// §1.1 FOLD_FIX under UTF-8 is ICU full case folding (util/casefold.c), not lower-casing.
func TestFoldUTF8(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"§1.1 casefold: sharp s expands", "Straße.example", "strasse.example"},
		{"§1.1 casefold: capital sharp s", "STRAẞE.example", "strasse.example"},
		{"§1.1 casefold: long s folds to s", "ſmtp.example", "smtp.example"},
		{"§1.1 casefold: final sigma folds to sigma", "ς", "σ"},
		{"§1.1 casefold: Cherokee small letter folds to the capital", "\uab70", "\u13a0"},
		{"§1.1 casefold: plain lower-casing elsewhere", "BÜCHER.Example", "bücher.example"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := foldUTF8(c.in)
			assert.Equal(t, c.want, got)
			assert.Equal(t, got, foldUTF8(got), "folding is idempotent")
		})
	}
}

// TestDuplicateWarning checks the exported duplicate-key wording against the reader's own.
func TestDuplicateWarning(t *testing.T) {
	for typ, want := range map[string]string{
		"hash":     `/p/t.db: duplicate entry: "a.example"`,
		"cdb":      `/p/t: duplicate entry: "a.example"`,
		"lmdb":     `lmdb:/p/t: duplicate entry: "a.example"`,
		"texthash": `/p/t, line 2: duplicate entry: "a.example"`,
	} {
		assert.Equal(t, want, DuplicateWarning(typ, "/p/t", 2, "a.example"), typ)
	}
	fsys := fstest.MapFS{"p/t": {Data: []byte("a.example x\nA.example y\n")}, "p/t.db": {}}
	tb, err := Open(context.Background(), "hash:/p/t", Options{FS: fsys, FoldFixed: true, ReadSource: true})
	require.NoError(t, err)
	require.Len(t, tb.Diagnostics(), 1)
	assert.Equal(t, DuplicateWarning("hash", "/p/t", 2, "a.example"), tb.Diagnostics()[0].Message)
	s, ok := CompiledSuffix("lmdb")
	assert.True(t, ok)
	assert.Equal(t, ".lmdb", s)
	_, ok = CompiledSuffix("texthash")
	assert.False(t, ok)
}
