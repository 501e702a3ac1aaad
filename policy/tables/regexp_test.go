package tables

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// regexpRules exercises the dict_regexp.c grammar; the same file is given to postmap.
const regexpRules = `# policy by pattern
/^\[(.*)\]:587$/	encrypt servername=$1
/^mx\.(example)\.(com)$/	secure match=${2}.$1
!/\.example\./	may
/^a\.example\.net$/!/^a/	never
/^b\.example\.net$/i	casesensitive
/^C\.EXAMPLE\.ORG$/	caseless
if /\.example\.org$/
/^x\./	x-under-org
if !/^y/
/^z\./	z-not-y
endif
/./	org-fallback
endif
/^dollar\.example\.net$/	cost $$5
/^bre\.\(x\)*\.example\.net$/x	bre
/^[[:digit:]]+\.example\.net$/	digits
/^[\.]dot\.example\.net$/	bracket-backslash
/^q{2,3}\.example\.net$/	interval
/^e{,2}f\.example\.net$/	glibc-interval
/^(a|b)+c\.example\.net$/	alternation
/(unclosed/	bad1
/*star/	bad2
/ok/q	bad3
/^nothing\.example\.net$/
/^(x)\.empty\.net$/	$2
endif
/x/ $0
/y/ ${1?x}
	/continued\.example\.net$/ cont
/^multi\.example\.net$/	first
	second-line
`

const notFound = "\x00not found"

var regexpKeys = []string{"[mail.example.net]:587", "mx.example.com", "other.test", "a.example.net",
	"b.example.net", "B.example.net", "c.example.org", "x.example.org", "z.example.org", "y.example.org",
	"w.example.org", "dollar.example.net", "bre.xxx.example.net", "bre.(x)*.example.net", "123.example.net",
	"\\dot.example.net", ".dot.example.net", "qq.example.net", "qqqq.example.net", "f.example.net",
	"eef.example.net", "abac.example.net", "multi.example.net", "nothing.example.net", "MX.EXAMPLE.COM"}

func TestRegexpTable(t *testing.T) {
	ctx := context.Background()
	rt, err := ParseRegexp("regexp", "re", regexpRules, Options{})
	require.NoError(t, err)
	cases := []struct {
		name, key, want string
	}{
		{"regexp: $1 substitution", "[mail.example.net]:587", "encrypt servername=mail.example.net"},
		{"regexp: ${n} substitution", "mx.example.com", "secure match=com.example"},
		{"regexp: substitution keeps the key's case", "MX.EXAMPLE.COM", "secure match=COM.EXAMPLE"},
		{"regexp: negated pattern", "other.test", "may"},
		{"regexp: /p1/!/p2/ second pattern must not match", "a.example.net", notFound},
		{"regexp: i flag makes the pattern case-sensitive", "B.example.net", notFound},
		{"regexp: i flag, same case matches", "b.example.net", "casesensitive"},
		{"regexp: patterns are case-insensitive by default", "c.example.org", "caseless"},
		{"regexp: if/endif", "x.example.org", "x-under-org"},
		{"regexp: nested if !", "z.example.org", "z-not-y"},
		{"regexp: rule after nested endif", "y.example.org", "org-fallback"},
		{"regexp: $$ is a dollar", "dollar.example.net", "cost $5"},
		{"regexp: x flag selects basic regular expressions", "bre.xxx.example.net", "bre"},
		{"regexp: POSIX class", "123.example.net", "digits"},
		{"regexp: backslash is literal inside brackets", "\\dot.example.net", "bracket-backslash"},
		{"regexp: interval", "qq.example.net", "interval"},
		{"regexp: glibc {,n}", "eef.example.net", "glibc-interval"},
		{"regexp: alternation", "abac.example.net", "alternation"},
		{"regexp: continuation line joins the result", "multi.example.net", "first\tsecond-line"},
		{"regexp: missing replacement is the empty string", "nothing.example.net", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := rt.Lookup(ctx, tc.key)
			require.NoError(t, err)
			if tc.want == notFound {
				assert.False(t, r.Found)
				return
			}
			assert.True(t, r.Found)
			assert.Equal(t, tc.want, r.Value)
		})
	}
	r, _ := rt.Lookup(ctx, "mx.example.com")
	assert.Equal(t, `regexp:re:3: /^mx\.(example)\.(com)$/	secure match=${2}.$1`, r.Source.String())
	assert.Equal(t, []string{
		"regexp map re, line 22: Unmatched ( or \\(",
		"regexp map re, line 23: Invalid preceding regular expression",
		`regexp map re, line 24: unknown regexp option "q": skipping this rule`,
		"regexp map re, line 25: no replacement text: using empty string",
		`regexp map re, line 26: out of range replacement index "2": skipping this rule`,
		"regexp map re, line 27: ignoring ENDIF without matching IF",
		`regexp map re, line 28: out-of-range replacement index "0"`,
		"regexp map re, line 28: bad replacement syntax: skipping this rule",
		`regexp map re, line 29: non-numeric replacement index "1?x"`,
		`empty macro name: "${1?x}?/continued\.example\.net$/ cont"`,
		"regexp map re, line 29: bad replacement syntax: skipping this rule",
	}, messagesOf(rt.Diagnostics()))
}

func TestRegexpAgreesWithPostmap(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, conf := postmapTool(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "re")
	writeCool(t, file, regexpRules)
	out, warns := runPostmapD(t, true, bin, conf, strings.Join(regexpKeys, "\n")+"\n", "-q", "-", "regexp:"+file)
	tb, err := Open(ctx, "regexp:"+file, Options{FoldFixed: true})
	require.NoError(t, err)
	var mine []string
	for _, k := range regexpKeys {
		r, err := tb.Lookup(ctx, k)
		require.NoError(t, err)
		if r.Found {
			mine = append(mine, k+"\t"+r.Value)
		}
	}
	assert.Equal(t, sortedPairs(out), sortedLines(mine))
	want := strings.ReplaceAll(strings.Join(messagesOf(tb.Diagnostics()), "\n"), file, "F")
	assert.Equal(t, strings.ReplaceAll(strings.Join(withoutPostmapOwn(warns), "\n"), file, "F"), want)
}

const pcreRules = `/^\[(.*)\]:587$/	encrypt servername=$1
/^mx\.(?:example)\.(com)$/	secure match=$1
/^a\.example\.net$/i	casesensitive
/^(\d+)\.example\.net$/	digits $1
/^b.c\.example\.net$/s	nodotall
/^lazy(.+?)x/	lazy=$1
/^q\Q.+\E\.example\.net$/	quoted
/^\x41\.example\.net$/	hex
/^n (a) \.example\.net$/x	extended=$1
!/\.example\./	may
/^(a)|(b)\.example\.net$/	group2=$2
/(unclosed/	bad1
/x)/	bad2
/ok/Q	bad3
/*x/	bad4
`

var pcreKeys = []string{"[mail.example.net]:587", "mx.example.com", "A.example.net", "42.example.net",
	"b\nc.example.net", "lazyaaxbx", "q.+.example.net", "qaa.example.net", "A.example.net", "na.example.net",
	"other.test", "b.example.net"}

func TestPCREAgreesWithPostmap(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, conf := postmapTool(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "pcre")
	writeCool(t, file, pcreRules)
	var stdinKeys []string
	for _, k := range pcreKeys {
		if !strings.Contains(k, "\n") {
			stdinKeys = append(stdinKeys, k)
		}
	}
	out, warns := runPostmapD(t, true, bin, conf, strings.Join(stdinKeys, "\n")+"\n", "-q", "-", "pcre:"+file)
	if strings.Contains(strings.Join(warns, " "), "unsupported dictionary type: pcre") {
		need.Missing(t, "install postfix-pcre")
	}
	tb, err := Open(ctx, "pcre:"+file, Options{FoldFixed: true})
	require.NoError(t, err)
	var mine []string
	for _, k := range pcreKeys {
		if strings.Contains(k, "\n") {
			continue // postmap -q - reads keys line by line
		}
		r, err := tb.Lookup(ctx, k)
		require.NoError(t, err)
		if r.Found {
			mine = append(mine, k+"\t"+r.Value)
		}
	}
	assert.Equal(t, sortedPairs(out), sortedLines(mine))
	assert.Equal(t, strings.ReplaceAll(strings.Join(warns, "\n"), file, "F"),
		strings.ReplaceAll(strings.Join(messagesOf(tb.Diagnostics()), "\n"), file, "F"))
	r, err := tb.Lookup(ctx, "b\nc.example.net")
	require.NoError(t, err)
	assert.False(t, r.Found, "pcre s flag turns PCRE_DOTALL off")
	r, err = tb.Lookup(ctx, "lazyaaxbx")
	require.NoError(t, err)
	assert.Equal(t, "lazy=aa", r.Value, "pcre: leftmost-first, lazy quantifier")
}

// withoutPostmapOwn drops postmap's own check of empty results, which smtp(8) does not
// make (maps_find reports its own error instead).
func withoutPostmapOwn(w []string) []string {
	var out []string
	for _, m := range w {
		if strings.Contains(m, "empty string result is not allowed") || strings.Contains(m, "should return NO RESULT") {
			continue
		}
		out = append(out, m)
	}
	return out
}

func sortedLines(s []string) []string {
	out := append([]string(nil), s...)
	sortStrings(out)
	return out
}

func TestRegexpNotEmulated(t *testing.T) {
	cases := []struct{ name, typ, rule, construct string }{
		{"regexp: backreference", "regexp", `/(a)\1/ x`, `backreference \1`},
		{"regexp: GNU word start", "regexp", `/\<a/ x`, `GNU word-boundary operator \<`},
		{"regexp: equivalence class", "regexp", `/[[=ab=]]/ x`, `POSIX equivalence class [=ab=]`},
		{"regexp: huge repetition", "regexp", `/a{2000}/ x`, "repetition count above 1000"},
		{"pcre: backreference", "pcre", `/(a)\1/ x`, `backreference \1`},
		{"pcre: lookahead", "pcre", `/a(?=b)/ x`, "lookahead assertion (?="},
		{"pcre: negative lookbehind", "pcre", `/(?<!a)b/ x`, "lookbehind assertion (?<!"},
		{"pcre: atomic group", "pcre", `/(?>a+)b/ x`, "atomic group (?>"},
		{"pcre: possessive quantifier", "pcre", `/a++b/ x`, "possessive quantifier ++"},
		{"pcre: conditional", "pcre", `/(a)?(?(1)b|c)/ x`, "conditional group (?("},
		{"pcre: recursion", "pcre", `/a(?R)?b/ x`, "recursion or subroutine call (?R"},
		{"pcre: \\G", "pcre", `/\Ga/ x`, `PCRE escape \G`},
		{"pcre: \\K", "pcre", `/a\Kb/ x`, `PCRE escape \K`},
		{"pcre: named backreference", "pcre", `/(?P<n>a)(?P=n)/ x`, "named backreference (?P="},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRegexp(tc.typ, "/etc/postfix/re", "# c\n"+tc.rule+"\n", Options{})
			require.ErrorIs(t, err, ErrNotEmulated)
			assert.Contains(t, err.Error(), tc.construct)
			assert.Contains(t, err.Error(), "/etc/postfix/re, line 2")
		})
	}
}

func TestRegexpInline(t *testing.T) {
	ctx := context.Background()
	tb, err := Open(ctx, "regexp:{ {/^(.*)\\.example\\.com$/ secure match=$1}, {/./ may} }", Options{})
	require.NoError(t, err)
	r, err := tb.Lookup(ctx, "mx.example.com")
	require.NoError(t, err)
	assert.Equal(t, "secure match=mx", r.Value)
	assert.Equal(t, 1, r.Source.Line)
	r, _ = tb.Lookup(ctx, "x.test")
	assert.Equal(t, "may", r.Value)
	assert.Equal(t, 2, r.Source.Line)
	assert.False(t, IsFixed(tb), "regexp tables are pattern tables")
}

func TestRegexpNoRegsub(t *testing.T) {
	// transport_maps: trivial-rewrite opens tables with DICT_FLAG_NO_REGSUB.
	tb, err := Open(context.Background(), "regexp:{ {/^(.*)$/ smtp:[$1]}, {/./ smtp:[relay]} }", Options{NoRegsub: true})
	require.NoError(t, err)
	r, err := tb.Lookup(context.Background(), "example.com")
	require.NoError(t, err)
	assert.Equal(t, "smtp:[relay]", r.Value)
	assert.Equal(t, []string{"regexp map { {/^(.*)$/ smtp:[$1]}, {/./ smtp:[relay]} }, line 1: regular expression substitution is not allowed: skipping this rule"},
		messagesOf(tb.Diagnostics()))
}

func TestOpenRegexpNotEmulatedReturnsNilTable(t *testing.T) {
	tb, err := Open(context.Background(), `pcre:{ {/(a)\1/ x} }`, Options{})
	require.ErrorIs(t, err, ErrNotEmulated)
	assert.Nil(t, tb)
}

// §1.1 regexp:/pcre: tables match bytes in the C locale (dict_regexp.c regcomp, dict_pcre.c
// without PCRE2_UTF; casefold.c and midna_domain.c set LC_ALL=C): "." is one byte and
// case-insensitivity covers ASCII letters only. Expected values are postmap -q's answers
// (Postfix 3.7.11, compatibility_level = 3.6).
func TestRegexpMatchesBytesNotRunes(t *testing.T) {
	rules := "/^smtp\\.example\\.com$/ secure\n/^k$/ kelvin\n/^.$/ one\n/^..$/ two\n" +
		"/^bücher\\.example$/ literal\n/^([é-ü]+)\\.test$/ class-$1\n/^(.*)\\.example$/ sub-$1\n"
	cases := []struct{ name, key, want string }{
		{"§1.1 regexp ASCII-only case folding: U+017F is not s", "ſmtp.example.com", ""},
		{"§1.1 regexp ASCII-only case folding: U+212A is not k", "\u212a", ""},
		{"§1.1 regexp dot is one byte", "é", "two"},
		{"§1.1 regexp UTF-8 literal matches its bytes", "bücher.example", "literal"},
		{"§1.1 regexp no case folding of non-ASCII letters", "BÜCHER.example", "sub-BÜCHER"},
		{"§1.1 regexp bracket range over bytes", "ü.test", "class-ü"},
		{"§1.1 regexp bracket range over bytes excludes other bytes", "Ü.test", ""},
		{"§1.1 regexp substitution keeps non-ASCII bytes", "straße.example", "sub-straße"},
	}
	for _, typ := range []string{"regexp", "pcre"} {
		tb, err := ParseRegexp(typ, "f", rules, Options{UTF8: true})
		require.NoError(t, err)
		for _, c := range cases {
			t.Run(typ+" "+c.name, func(t *testing.T) {
				r, err := tb.Lookup(context.Background(), c.key)
				require.NoError(t, err)
				assert.Equal(t, c.want != "", r.Found)
				assert.Equal(t, c.want, r.Value)
			})
		}
	}
}

// §1.1 pcre: \xhh and \x{hh} name bytes when PCRE runs without UTF (dict_pcre.c); postmap -q
// answers hex2, hexbrace, ascii, ascii (caseless) for these keys.
func TestPCRESlashXIsAByte(t *testing.T) {
	tb, err := ParseRegexp("pcre", "f", "/^\\xc3\\xa9$/ hex2\n/^\\x{c3}\\x{a9}x$/ hexbrace\n/^a\\x41$/ ascii\n", Options{UTF8: true})
	require.NoError(t, err)
	for key, want := range map[string]string{"é": "hex2", "éx": "hexbrace", "aA": "ascii", "aa": "ascii"} {
		r, err := tb.Lookup(context.Background(), key)
		require.NoError(t, err)
		assert.Equal(t, want, r.Value, "key %q", key)
	}
}

// TestParseLiteralPattern: only an anchored pattern without operators matches one string;
// flag i (an odd number of times) makes it case-sensitive, as in dict_regexp.c/dict_pcre.c.
func TestParseLiteralPattern(t *testing.T) {
	for _, tc := range []struct {
		typ, rule string
		want      LiteralPattern
		ok        bool
	}{
		{"regexp", `/^example\.test$/ secure`, LiteralPattern{Pattern: `/^example\.test$/`, Literal: "example.test"}, true},
		{"regexp", `  /^example\.test$/i	secure`, LiteralPattern{Pattern: `/^example\.test$/i`, Literal: "example.test", CaseSensitive: true}, true},
		{"pcre", `/^\[mx-1\.example\.test\]$/ii verify`, LiteralPattern{Pattern: `/^\[mx-1\.example\.test\]$/ii`, Literal: "[mx-1.example.test]"}, true},
		{"regexp", `|^example\.test$| secure`, LiteralPattern{Pattern: `|^example\.test$|`, Literal: "example.test"}, true},
		{"regexp", `#^example\.test$# secure`, LiteralPattern{}, false},  // a comment
		{"regexp", `/^example.test$/ secure`, LiteralPattern{}, false},   // "." is any character
		{"regexp", `/example\.test$/ secure`, LiteralPattern{}, false},   // not anchored at the start
		{"regexp", `/^example\.test/ secure`, LiteralPattern{}, false},   // not anchored at the end
		{"regexp", `!/^example\.test$/ secure`, LiteralPattern{}, false}, // negated
		{"regexp", `/^example\.test$/!/^x/ secure`, LiteralPattern{}, false},
		{"regexp", `/^(example)\.test$/ secure`, LiteralPattern{}, false},
		{"regexp", `/^example\.test$/q secure`, LiteralPattern{}, false}, // unknown flag: Postfix skips the rule
		{"regexp", `/^example\.test$`, LiteralPattern{}, false},
	} {
		got, ok := ParseLiteralPattern(tc.typ, tc.rule)
		assert.Equal(t, tc.ok, ok, tc.rule)
		assert.Equal(t, tc.want, got, tc.rule)
	}
}
