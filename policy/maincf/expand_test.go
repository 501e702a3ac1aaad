package maincf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expandCase is one expansion vector: main.cf lines, then `relayhost = <expr>` is
// expanded. want is the exact result; wantErr the exact Postfix warning text.
type expandCase struct {
	name     string
	main     string
	expr     string
	want     string
	wantErr  string
	kind     error
	feat     *Features // nil: Postfix 3.7 (the oracle's release)
	noOracle bool      // Postfix crashes or the case needs other features
}

var f37 = FeaturesOf(3, 7)

func featPtr(f Features) *Features { return &f }

// expandCases are checked against the built-in expectations and, where noOracle is
// false, against the real postconf -x.
var expandCases = []expandCase{
	{name: "mac_parse: $name", main: "x = X", expr: "$x", want: "X"},
	{name: "mac_parse: ${name}", main: "x = X", expr: "${x}", want: "X"},
	{name: "mac_parse: legacy $(name)", main: "x = X", expr: "$(x)", want: "X"},
	{name: "mac_parse: $$ is a literal dollar", main: "x = X", expr: "$$x", want: "$x"},
	{name: "mac_parse: $name ends at the first non-[A-Za-z0-9_] character", main: "x = X", expr: "$x.y-$x", want: "X.y-X"},
	{name: "mac_expand: undefined parameter expands to empty", expr: "[$nosuch]", want: "[]"},
	{name: "mail_conf_eval: lookup results are expanded recursively", main: "a = <$b>\nb = B", expr: "$a", want: "<B>"},
	{name: "mail_conf_eval: $$ inside a value becomes $ when the value is expanded", main: "x = a$$b", expr: "$x$x", want: "a$ba$b"},
	{name: "mac_expand: ${name?text} with non-empty name", main: "x = X", expr: "${x?yes}", want: "yes"},
	{name: "mac_expand: ${name?text} with empty name", main: "x =", expr: "${x?yes}", want: ""},
	{name: "mac_expand: ${name?text} with undefined name", expr: "${nosuch?yes}", want: ""},
	{name: "mac_expand: ${name:text} with empty name", main: "x =", expr: "${x:no}", want: "no"},
	{name: "mac_expand: ${name:text} with non-empty name", main: "x = X", expr: "${x:no}", want: ""},
	{name: "mac_expand: ${name?{text}} braces removed", main: "x = X", expr: "${x?{yes}}", want: "yes"},
	{name: "mac_expand: ${name:{text}} braces removed", main: "x =", expr: "${x:{no}}", want: "no"},
	{name: "mac_expand: ${name?{a}:{b}} true branch", main: "x = X", expr: "${x?{a}:{b}}", want: "a"},
	{name: "mac_expand: ${name?{a}:{b}} false branch", main: "x =", expr: "${x?{a}:{b}}", want: "b"},
	{name: "mac_expand: ${name?{a}:b} unbraced else text", main: "x =", expr: "${x?{a}:b c}", want: "b c"},
	{name: "mac_expand: whitespace around {text} operands is ignored", main: "x = X", expr: "${x ? {a} : {b} }", want: "a"},
	{name: "mac_expand: whitespace inside {text} is kept", main: "x = X", expr: "[${x?{ a }}]", want: "[ a ]"},
	{name: "mac_expand: unbraced ?text keeps ':' (Postfix 2.11 compatibility)", main: "x = X", expr: "${x?a:b}", want: "a:b"},
	{name: "mac_expand: unbraced :text keeps '?'", main: "x =", expr: "${x:a?b}", want: "a?b"},
	{name: "mac_expand: conditional text is expanded", main: "x = X\ny = Y", expr: "${x?{$y}:{none}}", want: "Y"},
	{name: "mac_expand: nested conditionals", main: "x = X\ny =", expr: "${x?{${y?{both}:{xonly}}}}", want: "xonly"},
	{name: "mac_expand 3.3+: whitespace around the name", main: "x = X", expr: "${ x }", want: "X"},
	{name: "mac_expand 3.3+: whitespace before ?", main: "x = X", expr: "${ x ?{y}}", want: "y"},
	{name: "relational: == true yields \"true\"", main: "x = X", expr: "${{$x} == {X}}", want: "true"},
	{name: "relational: != false yields empty", expr: "${{a} != {a}}", want: ""},
	{name: "relational: numeric when both operands are digits", expr: "${{10} < {9} ? {lt} : {ge}}", want: "ge"},
	{name: "relational: lexical otherwise", expr: "${{a10} < {a9} ? {lt} : {ge}}", want: "lt"},
	{name: "relational: 3.10 > 3.9 is false lexically", expr: "${{3.10} > {3.9} ? {y} : {n}}", want: "n"},
	{name: "relational: <= and >=", expr: "${{5} <= {5}?{a}}${{4} >= {5}?{b}:{c}}", want: "ac"},
	{name: "relational: operands are expanded", main: "x = 7\ny = 7", expr: "${{$x} == {$y}?{same}}", want: "same"},
	{name: "relational: empty operand", expr: "${{$nosuch} == {} ? {empty} : {set}}", want: "empty"},
	{name: "relational 3.6+: <level orders compatibility levels", expr: "${{3.10} >level {3.9} ? {y} : {n}}", want: "y"},
	{name: "relational 3.6+: smtp_tls_fingerprint_digest default at compatibility_level 2", main: "compatibility_level = 2",
		expr: "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}", want: "md5"},
	{name: "relational 3.6+: smtp_tls_fingerprint_digest default at compatibility_level 3.6", main: "compatibility_level = 3.6",
		expr: "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}", want: "sha256"},
	{name: "relational 3.6+: ==level ignores missing minor", expr: "${{3} ==level {3.0}}", want: "true"},
	{name: "relational 3.6+: !=level, <=level, >=level", expr: "${{2} !=level {3}?{a}}${{3.6} <=level {3.6.0}?{b}}${{3.6.1} >=level {3.6}?{c}}", want: "abc"},

	{name: "mac_parse error: truncated ${", main: "x = X", expr: "${x", wantErr: `truncated macro reference: "${x"`, kind: ErrMacro},
	{name: "mac_parse error: truncated ${ with nested braces", main: "x = X", expr: "${x?{a}", wantErr: `truncated macro reference: "${x?{a}"`, kind: ErrMacro},
	{name: "mac_parse error: $ at end", expr: "a$", wantErr: `empty macro name: "a$"`, kind: ErrMacro},
	{name: "mac_parse error: $ before punctuation", expr: "a$-b", wantErr: `empty macro name: "a$-b"`, kind: ErrMacro},
	{name: "mac_expand error: attribute name syntax", main: "x = X", expr: "${x-y}", wantErr: `attribute name syntax error at: "...x>>>-y"`, kind: ErrMacro},
	{name: "mac_expand error: garbage after ?{text}", main: "x = X", expr: "${x?{a}x}", wantErr: `":" expected at: "...a}>>>x"`, kind: ErrMacro},
	{name: "mac_expand error: garbage after :{text}", main: "x = X", expr: "${x?{a}:{b}x}", wantErr: `unexpected input at: "...b}>>>x"`, kind: ErrMacro},
	{name: "mac_expand error: unbalanced {} inside $(...)", main: "x = X", expr: "$(x?{a)", wantErr: `unbalanced {} in attribute expression: "{a"`, kind: ErrMacro},
	{name: "relational error: unknown operator", expr: "${{a} =~ {b}}", wantErr: `"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>=~ {b}"`, kind: ErrMacro},
	{name: "relational error: garbage after the expression", expr: "${{a} == {a} x}", wantErr: `"?" or ":" expected at: "...}>>>x"`, kind: ErrMacro},
	{name: "relational error: right operand without braces", expr: "${{a} == b}", wantErr: `"{expression}" expected at: "...{a} ==>>> b"`, kind: ErrMacro},
	{name: "relational error: long context is cut at 20 bytes", expr: "${{a} =~ {bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb}}", wantErr: `"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>=~ {bbbbbbbbbbbbbbbb"`, kind: ErrMacro},
	{name: "relational 3.6+ error: bad operator suffix", expr: "${{3.6} <levelx {3.10}}", wantErr: `bad operator suffix at: "...<>>>levelx"`, kind: ErrMacro},
	{name: "relational 3.6+ error: malformed compatibility level", expr: "${{3.x} <level {3}}", wantErr: `malformed compatibility level syntax: "3.x"`, kind: ErrMacro},
	{name: "relational error: number out of range is fatal", expr: "${{99999999999999999999} < {9}}", wantErr: `mac_exp_eval: bad conversion: 99999999999999999999`, kind: ErrMacro},
	{name: "nesting: $name loop", main: "a = $b\nb = $a", expr: "$a", wantErr: `unreasonable macro call nesting: "b"`, kind: ErrNesting},
	{name: "nesting: 100 nested references are fine", main: chain(100), expr: "$p1", want: "x"},
	{name: "nesting: 101 nested references are unreasonable", main: chain(101), expr: "$p1", wantErr: `unreasonable macro call nesting: "x"`, kind: ErrNesting},
	{name: "nesting: 102 nested references fail at the name", main: chain(102), expr: "$p1", wantErr: `unreasonable macro call nesting: "p102"`, kind: ErrNesting},

	{name: "limit: relational self-reference (Postfix crashes with a stack overflow)", expr: "${{$relayhost} == {x}}",
		wantErr: "expansion nesting deeper than 1000", kind: ErrLimit, noOracle: true},
	{name: "limit: exponential growth", main: doubling(40), expr: "$d40", wantErr: "expansion result longer than 1048576 bytes", kind: ErrLimit, noOracle: true},

	{name: "mac_expand 2.x: no {text} operands", main: "x = X", expr: "${x?{a}}", want: "{a}", feat: featPtr(FeaturesOf(2, 11)), noOracle: true},
	{name: "mac_expand 2.x: no relational expressions", expr: "${{a}=={a}}", wantErr: `macro name syntax error: "{a}=={a}"`, kind: ErrMacro, feat: featPtr(FeaturesOf(2, 11)), noOracle: true},
	{name: "mac_expand 3.0-3.2: no whitespace around names", main: "x = X", expr: "${ x }", wantErr: `attribute name syntax error at: "...>>> x "`, kind: ErrMacro, feat: featPtr(FeaturesOf(3, 2)), noOracle: true},
	{name: "relational 3.0-3.5: no level operators", expr: "${{3.6} <level {3.10}}", wantErr: `"{expression}" expected at: "...{3.6} <>>>level {3.10}"`, kind: ErrMacro, feat: featPtr(FeaturesOf(3, 5)), noOracle: true},
	{name: "function 3.11+: domain_to_ascii", expr: "${domain_to_ascii{bücher.example}}", want: "xn--bcher-kva.example", feat: featPtr(FeaturesOf(3, 11)), noOracle: true},
	{name: "function 3.11+: domain_to_utf8", expr: "${domain_to_utf8{ xn--bcher-kva.example }}", want: "bücher.example", feat: featPtr(FeaturesOf(3, 11)), noOracle: true},
	{name: "function 3.11+: argument is expanded", main: "d = bücher.example", expr: "${domain_to_ascii{$d}}", want: "xn--bcher-kva.example", feat: featPtr(FeaturesOf(3, 11)), noOracle: true},
	{name: "function 3.11+: unknown function", expr: "${foo{x}}", wantErr: `unknown function "foo" at"...>>>foo{x}"`, kind: ErrMacro, feat: featPtr(FeaturesOf(3, 11)), noOracle: true},
	{name: "function 3.11+: garbage after the argument", expr: "${domain_to_ascii{x}y}", wantErr: `unexpected input at: "...x}>>>y"`, kind: ErrMacro, feat: featPtr(FeaturesOf(3, 11)), noOracle: true},
	{name: "function before 3.11: a name followed by { is a syntax error", expr: "${foo{x}}", wantErr: `attribute name syntax error at: "...foo>>>{x}"`, kind: ErrMacro},
}

// chain returns p1 = $p2 ... p<n> = x.
func chain(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "p%d = $p%d\n", i, i+1)
	}
	fmt.Fprintf(&b, "p%d = x\n", n)
	return b.String()
}

// doubling returns d0 = xxxxxxxxxx, d<i> = $d<i-1>$d<i-1>.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString("d0 = xxxxxxxxxxxxxxxx\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "d%d = $d%d$d%d\n", i, i-1, i-1)
	}
	return b.String()
}

func caseConfig(t testing.TB, tc expandCase, d Defaults) *Config {
	t.Helper()
	f, err := Parse(strings.NewReader(tc.main+"\nrelayhost = "+tc.expr+"\n"), "main.cf")
	require.NoError(t, err, "parse")
	feat := f37
	if tc.feat != nil {
		feat = *tc.feat
	}
	return NewConfigWithOptions(Options{Features: &feat}, d, MainLayer(f))
}

func TestExpand(t *testing.T) {
	d := DefaultsMap{"compatibility_level": "0"}
	for _, tc := range expandCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := caseConfig(t, tc, d).Expand("relayhost")
			if tc.wantErr != "" {
				var ee *ExpandError
				require.ErrorAs(t, err, &ee, "got %q; want error %q", got, tc.wantErr)
				assert.Equal(t, tc.wantErr, ee.Message)
				assert.ErrorIs(t, err, tc.kind)
				assert.Equal(t, "relayhost", ee.Param)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestExpandOracle runs the same vectors through the real postconf -x.
func TestExpandOracle(t *testing.T) {
	postconfPath(t)
	defs := loadOracleDefaults(t)
	var cases []expandCase
	var jobs []postconfJob
	for _, tc := range expandCases {
		if !tc.noOracle {
			cases = append(cases, tc)
			jobs = append(jobs, postconfJob{main: tc.main + "\nrelayhost = " + tc.expr + "\n", args: []string{"-x", "-h", "relayhost"}})
		}
	}
	results := runPostconfAll(t, jobs)
	for i, tc := range cases {
		res := results[i]
		t.Run(tc.name, func(t *testing.T) {
			got, err := caseConfig(t, tc, defs).Expand("relayhost")
			if res.fatal != "" {
				want := res.fatal
				if want == "macro processing error" && len(res.warnings) > 0 {
					want = res.warnings[len(res.warnings)-1]
				}
				var ee *ExpandError
				require.ErrorAs(t, err, &ee, "postconf: %q; we: %q", want, got)
				require.Equal(t, want, ee.Message, "postconf's warning")
				return
			}
			require.NoError(t, err)
			require.Equal(t, normWS(res.stdout), normWS(got), "postconf's expansion")
		})
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"scan: every branch of a conditional", "${a?{$b}:{$c}} $d", []string{"a", "b", "c", "d"}},
		{"scan: relational operands", "${{$x} == {$y} ? {$z}}", []string{"x", "y", "z"}},
		{"scan: $$ is not a reference", "$$a $(b)", []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := References(tc.in, LatestFeatures())
			require.NoError(t, err)
			require.Equal(t, strings.Join(tc.want, ","), strings.Join(got, ","))
		})
	}
}

func TestCompatLevel(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2", 2 << 20, true}, {"3.6", 3<<20 | 6<<10, true}, {"3.6.1", 3<<20 | 6<<10 | 1, true},
		{" 3.6", 3<<20 | 6<<10, true}, {"3.x", 0, false}, {"3.", 0, false}, {"-1", 0, false},
		{"3.1024", 0, false}, {"", 0, false}, {"3.6.1.2", 0, false},
	}
	for _, tc := range tests {
		t.Run("compat_level_from_string "+tc.in, func(t *testing.T) {
			got, ok := CompatLevel(tc.in)
			assert.Equal(t, tc.want, got, "CompatLevel(%q)", tc.in)
			assert.Equal(t, tc.ok, ok, "CompatLevel(%q) ok", tc.in)
		})
	}
}
