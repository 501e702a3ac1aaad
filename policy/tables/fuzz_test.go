package tables

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{
		"example.com fingerprint\n# old key\n    match=AB:CD...|EF:01...\n", // §9 vector 16
		"\"a b\" v\nx\\ y v2\n  lead\nk1 v1\n# c\n\n   more\nk1 dup\nonlykey\nBAD\" v\nk2 x # note \r\n",
		"a\x00b c\n", " \n\t#x\n", "k\\", "\"", "key: value",
	} {
		f.Add(s, true, false)
	}
	f.Fuzz(func(t *testing.T, data string, fold, dupWarn bool) {
		st, err := ParseSource(strings.NewReader(data), "f", "", Options{FoldFixed: fold, DuplicateWarn: dupWarn, UTF8: dupWarn})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, e := range st.Entries() {
			if e.Key == "" || e.Value == "" {
				t.Fatalf("empty key or value stored: %+v", e)
			}
			if isSpace(e.Value[0]) || isSpace(e.Value[len(e.Value)-1]) {
				t.Fatalf("value not trimmed: %q", e.Value)
			}
			if fold && hasUpperASCII(e.Key) {
				t.Fatalf("key not folded: %q", e.Key)
			}
			if strings.IndexByte(e.Raw, 0) >= 0 {
				t.Fatalf("raw keeps text after a null byte: %q", e.Raw)
			}
			r, err := st.Lookup(ctx, e.Key)
			if err != nil {
				continue // non-UTF-8 value under UTF8
			}
			if !r.Found && (!dupWarn || utf8.ValidString(e.Key)) {
				// (with UTF8 on, a key that is not valid UTF-8 is never found, as in dict_utf8.c)
				t.Fatalf("stored key %q not found", e.Key)
			}
		}
		_, _ = st.Lookup(ctx, data)
	})
}

func FuzzParseRegexp(f *testing.F) {
	f.Add("regexp", regexpRules, "mx.example.com")
	f.Add("pcre", pcreRules, "lazyaaxbx")
	f.Add("regexp", "if /a/\nif !/b/\n/c/ $1\nendif\n", "a")
	f.Add("regexp", "/[[:alpha:]-z]{1,}\\(x\\)/x $1\n", "ax")
	f.Add("pcre", "/(?i:a)(?<n>b)(?#c)\\Q.*\\E/ ${1}\n", "ab.*")
	f.Fuzz(func(t *testing.T, typ, data, key string) {
		if typ != "pcre" {
			typ = "regexp"
		}
		rt, err := ParseRegexp(typ, "re", data, Options{})
		if err != nil {
			return
		}
		_, _ = rt.Lookup(context.Background(), key)
	})
}

func FuzzInline(f *testing.F) {
	for _, s := range []string{"{ {example.com = secure match=nexthop} }", "{a=b, c=d}", "{a}", "{}", "{ }",
		"{a=b}x", "{{a=b}", "{ {a=b}x }", "{\"a=b}", "{{\"a b\"=c}}", "{a=b=c}"} {
		f.Add(s, "a")
	}
	f.Fuzz(func(t *testing.T, name, key string) {
		ctx := context.Background()
		tb := ParseInline(name, Options{FoldFixed: true})
		_, _ = tb.Lookup(ctx, key)
		st, _ := Open(ctx, "static:"+name, Options{})
		if st != nil {
			_, _ = st.Lookup(ctx, key)
		}
		rt, _ := Open(ctx, "regexp:"+name, Options{})
		if rt != nil {
			_, _ = rt.Lookup(ctx, key)
		}
		_ = SplitMapNames(name)
	})
}

func FuzzNetstring(f *testing.F) {
	f.Add("5:OK ab,")
	f.Add("99999999999999999999:")
	f.Add("3:abc")
	f.Add(":,")
	f.Fuzz(func(t *testing.T, data string) {
		s, err := readNetstring(newBufReader(data), 1000)
		if err == nil && len(s) > 1000 {
			t.Fatalf("limit not enforced")
		}
	})
}

// FuzzParseLiteralPattern: a rule ParseLiteralPattern calls literal matches, as a one-rule
// table, its literal (in another case too unless case-sensitive) and nothing longer.
func FuzzParseLiteralPattern(f *testing.F) {
	for _, s := range []string{`/^example\.test$/ secure`, `/^example\.test$/i v`, `|^\[a\]$|ii v`, `#^a$# v`, `/^a$/!/b/ v`, `!/^a$/ v`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, rule string, pcre bool) {
		typ := "regexp"
		if pcre {
			typ = "pcre"
		}
		lp, ok := ParseLiteralPattern(typ, rule)
		if !ok {
			return
		}
		if strings.ContainsAny(rule, "\n\r\x00") {
			return
		}
		tbl, err := ParseRegexp(typ, "f", lp.Pattern+" value\n", Options{})
		if err != nil {
			return
		}
		ctx := context.Background()
		if r, err := tbl.Lookup(ctx, lp.Literal); err != nil || !r.Found {
			t.Fatalf("%q: %q does not match its literal %q (%v)", rule, lp.Pattern, lp.Literal, err)
		}
		if r, _ := tbl.Lookup(ctx, lp.Literal+"x"); r.Found {
			t.Fatalf("%q: %q matches more than %q", rule, lp.Pattern, lp.Literal)
		}
		if up := strings.ToUpper(lp.Literal); up != lp.Literal {
			if r, _ := tbl.Lookup(ctx, up); r.Found == lp.CaseSensitive {
				t.Fatalf("%q: %q in upper case: found %v, case-sensitive %v", rule, lp.Pattern, r.Found, lp.CaseSensitive)
			}
		}
	})
}
