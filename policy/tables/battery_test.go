package tables

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// patternBattery is checked rule by rule against postmap -q: each pattern becomes a
// one-rule table and every key is looked up in it.
var patternBattery = []struct{ typ, rule string }{
	{"regexp", `/^(a|ab)(c|bcd)(d*)$/ $1-$2-$3`},
	{"regexp", `/(a*)(ab)*(b*)/ $1-$2-$3`},
	{"regexp", `/^(.*)\.(.*)$/ $1|$2`},
	{"regexp", `/x*/ empty-ok`},
	{"regexp", `/^[^.]+\.example\.com$/ one-label`},
	{"regexp", `/^[]a]+$/ bracket-close-first`},
	{"regexp", `/^[a-]+$/ dash-last`},
	{"regexp", `/^[[:upper:]]+$/ upper`},
	{"regexp", `/^[[:upper:]]+$/i upper-cs`},
	{"regexp", `/a.c/ dot`},
	{"regexp", `/^a{2}$/ a2`},
	{"regexp", `/^(ab){1,2}$/ $1`},
	{"regexp", `/a)b/ paren-literal`},
	{"regexp", `/^\.$/ escaped-dot`},
	{"regexp", `/^a|b$/ alt-anchors`},
	{"regexp", `#^a/b$# other-delim`},
	{"regexp", `/^a\/b$/ escaped-delim`},
	{"regexp", `/^(a)?(b)$/ [$1][$2]`},
	{"regexp", `/\bword\b/ wordb`},
	{"regexp", `/^\w+$/ w`},
	{"regexp", `/^a\+b$/ plus-literal`},
	{"regexp", `/^a+b$/x bre-plus-literal`},
	{"regexp", `/^a\{2\}$/x bre-interval`},
	{"regexp", `/^\(a\)\(b\)$/x $2$1`},
	{"regexp", `/^*a$/x bre-star-literal`},
	{"regexp", `/a$b/ dollar-mid`},
	{"regexp", `/^[.]$/ bracket-dot`},
	{"regexp", `/^(a|b|c)+$/ $1`},
	{"regexp", `/^([a-c]*)(c)$/ $1.$2`},
	{"pcre", `/^(a|ab)(c|bcd)(d*)$/ $1-$2-$3`},
	{"pcre", `/^(.*?)\.(.*)$/ $1|$2`},
	{"pcre", `/^\d{2,}$/ digits`},
	{"pcre", `/^[\w.]+$/ wdot`},
	{"pcre", `/^(?i)AB$/ inline-i`},
	{"pcre", `/^ab$/i case-sensitive`},
	{"pcre", `/^a.c$/ dotall`},
	{"pcre", `/^(a)?(b)$/ [$1][$2]`},
	{"pcre", `/b/A anchored`},
	{"pcre", `/^a(?:b|c)+$/ noncap`},
	{"pcre", `/^[^a]+$/ negclass`},
	{"pcre", `/^(?<x>a)(b)$/ $2$1`},
	{"pcre", `/^a\sb$/ space`},
	{"pcre", `/^(ab)+?/ $1`},
}

var batteryKeys = []string{"abcd", "ab", "aab", "abab", "a.b.c", "x.example.com", "a.b.example.com",
	"]a]", "a-a", "ABC", "abc", "aXc", "aa", "a)b", ".", "a", "b", "a/b", "the word here",
	"a+b", "aab", "a{2}", "*a", "a$b", "ccc", "12", "1", "a.b_c", "AB", "a b", "cab", "acbc", "bbb", ""}

func TestPatternBatteryAgreesWithPostmap(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, conf := postmapTool(t)
	ctx := context.Background()
	dir := t.TempDir()
	var keys []string
	for _, k := range batteryKeys {
		if k != "" {
			keys = append(keys, k)
		}
	}
	for i, p := range patternBattery {
		t.Run(fmt.Sprintf("%s %s", p.typ, p.rule), func(t *testing.T) {
			file := filepath.Join(dir, fmt.Sprintf("r%d", i))
			writeCool(t, file, p.rule+"\n")
			out, warns := runPostmapD(t, true, bin, conf, strings.Join(keys, "\n")+"\n", "-q", "-", p.typ+":"+file)
			if strings.Contains(strings.Join(warns, " "), "unsupported dictionary type") {
				need.Missing(t, "postmap lacks pcre: install postfix-pcre")
			}
			tb, err := Open(ctx, p.typ+":"+file, Options{})
			require.NoError(t, err)
			var mine []string
			for _, k := range keys {
				r, err := tb.Lookup(ctx, k)
				require.NoError(t, err)
				if r.Found {
					mine = append(mine, k+"\t"+r.Value)
				}
			}
			assert.Equal(t, sortedPairs(out), sortedLines(mine))
			assert.Equal(t, withoutPostmapOwn(warns), messagesOf(tb.Diagnostics()))
		})
	}
}

func TestPCREEscapes(t *testing.T) {
	ctx := context.Background()
	rt, err := ParseRegexp("pcre", "p", "/^\\p{Lu}\\x{41}\\x42\\e?\\cA?$/ ok\n", Options{})
	require.NoError(t, err)
	r, err := rt.Lookup(ctx, "QAB")
	require.NoError(t, err)
	assert.Equal(t, "ok", r.Value)
}
