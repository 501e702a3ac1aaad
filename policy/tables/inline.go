package tables

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// tokenizeQ splits s like mystrtokq(s, sep, "{}"): separators inside braces do not split.
func tokenizeQ(s, sep string) []string {
	var out []string
	for {
		i := 0
		for i < len(s) && strings.IndexByte(sep, s[i]) >= 0 {
			i++
		}
		s = s[i:]
		if s == "" {
			return out
		}
		level := 0
		j := 0
		for ; j < len(s); j++ {
			c := s[j]
			if c == '{' {
				level++
			} else if level > 0 && c == '}' {
				level--
			} else if level == 0 && strings.IndexByte(sep, c) >= 0 {
				break
			}
		}
		out = append(out, s[:j])
		if j < len(s) {
			j++
		}
		s = s[j:]
	}
}

// extpar reproduces extpar(&s, "{}", flags): it returns the text inside the braces and
// Postfix's error text, if any.
func extpar(s string, strip bool) (string, string) {
	var err string
	var inner string
	if s == "" || s[0] != '{' {
		return s, fmt.Sprintf("no '{' at start of text in \"%s\"", s)
	}
	n := pfutil.Balpar(s)
	if n == 0 {
		err = "missing '}' in \"" + s + "\""
		inner = s[1:]
	} else {
		if n != len(s) {
			err = "syntax error after '}' in \"" + s + "\""
		}
		inner = s[1 : n-1]
	}
	if strip {
		inner = trimLeft(trimRight(inner))
	}
	return inner, err
}

// splitQNameval reproduces split_qnameval(): "key = value" with an optionally quoted key.
func splitQNameval(s string) (key, value, err string) {
	s = trimLeft(s)
	if s == "" {
		return "", "", "no key found; expected format: key = value"
	}
	i, ok := keyEnd(s, true)
	if !ok {
		return "", "", "unbalanced '\"'"
	}
	key = s[:i]
	rest := trimLeft(s[i:])
	if rest == "" || rest[0] != '=' {
		return "", "", "missing '=' after attribute name"
	}
	value = trimRight(trimLeft(rest[1:]))
	return key, value, ""
}

// inlineTable is inline:{...} (util/dict_inline.c): an in-memory table whose later
// entries replace earlier ones with the same key.
type inlineTable struct {
	name    string
	fold    bool
	utf8    bool
	entries map[string]Entry
	diags   []Diagnostic
}

// ParseInline parses the name part of an inline: table ("{ key=value, {key = value} }")
// and returns the table, or a surrogate with Postfix's error text.
func ParseInline(name string, opt Options) Table { return openInline("inline:"+name, name, opt) }

func openInline(full, name string, opt Options) Table {
	need := func(what string) string {
		return fmt.Sprintf("%s: \"inline:%s\"; need \"inline:{name=value...}\"", what, name)
	}
	if opt.UTF8 && !isASCII(name) && !utf8.ValidString(name) {
		return newSurrogate(full, "", fmt.Sprintf("bad UTF-8 syntax: \"inline:%s\"; need \"inline:{name=value...}\"", name), nil)
	}
	cname := cstr(name)
	n := pfutil.Balpar(cname)
	if n == 0 || n != len(cname) || n == 2 {
		return newSurrogate(full, "", fmt.Sprintf("bad syntax: \"inline:%s\"; need \"inline:{name=value...}\"", name), nil)
	}
	t := &inlineTable{name: full, fold: opt.FoldFixed, utf8: opt.UTF8, entries: map[string]Entry{}}
	for _, tok := range tokenizeQ(cname[1:n-1], charsCommaSP) {
		nameval := tok
		if nameval[0] == '{' {
			inner, err := extpar(nameval, true)
			if err != "" {
				return newSurrogate(full, "", need(err), nil)
			}
			nameval = inner
		}
		k, v, err := splitQNameval(nameval)
		if err != "" {
			return newSurrogate(full, "", need(err), nil)
		}
		if t.fold {
			k = foldKey(k, t.utf8) // through dict_utf8_update, as dict_ht stores it
		}
		t.entries[k] = Entry{Key: k, Value: v, Raw: tok}
	}
	if len(t.entries) == 0 {
		return newSurrogate(full, "", need("empty table"), nil)
	}
	return t
}

func (t *inlineTable) Name() string              { return t.name }
func (t *inlineTable) Diagnostics() []Diagnostic { return t.diags }
func (t *inlineTable) Lookup(ctx context.Context, key string) (Result, error) {
	if t.utf8 && !isASCII(key) && !utf8.ValidString(key) {
		return Result{Warnings: []string{printableText(fmt.Sprintf("%s: non-UTF-8 key \"%s\": malformed UTF-8 or invalid codepoint", t.name, key), true)}}, nil
	}
	if t.fold {
		key = foldKey(key, t.utf8)
	}
	e, ok := t.entries[key]
	if !ok {
		return Result{}, nil
	}
	return Result{Found: true, Value: e.Value, Source: Source{Table: t.name, Key: e.Key, Raw: e.Raw}}, nil
}

// staticTable is static:value or static:{ value } (util/dict_static.c): every key finds
// the same value.
type staticTable struct {
	name  string
	value string
}

func openStatic(full, name string) Table {
	value := name
	if strings.HasPrefix(name, "{") {
		inner, err := extpar(cstr(name), true)
		if err != "" {
			return newSurrogate(full, "", "bad static:name syntax: "+err, nil)
		}
		value = inner
	}
	return &staticTable{name: full, value: cstr(value)}
}

func (t *staticTable) Name() string              { return t.name }
func (t *staticTable) Diagnostics() []Diagnostic { return nil }
func (t *staticTable) Lookup(ctx context.Context, key string) (Result, error) {
	return Result{Found: true, Value: t.value, Source: Source{Table: t.name, Raw: t.value}}, nil
}
