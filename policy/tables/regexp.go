package tables

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

const (
	opMatch = iota
	opIf
	opEndif
)

// replPart is one piece of a replacement text: literal text or a $number.
type replPart struct {
	lit string
	sub int // > 0: substitute this group
}

type reRule struct {
	op          int
	line        int
	raw         string
	first       *regexp.Regexp
	firstMatch  bool
	second      *regexp.Regexp
	secondMatch bool
	repl        []replPart
	literal     string // the whole replacement when it has no $number
	maxSub      int
	endif       int // index of the matching ENDIF rule, -1 when there is none
}

// RegexpTable is a regexp: or pcre: table (util/dict_regexp.c, util/dict_pcre.c) with
// its patterns translated to Go regular expressions.
type RegexpTable struct {
	name     string
	typ      string
	file     string
	rules    []reRule
	diags    []Diagnostic
	utf8     bool // util_utf8_enable, for message sanitizing
	noRegsub bool
}

// ParseRegexp reads a regexp: (typ "regexp") or pcre: (typ "pcre") table from data. file
// names the table in messages (for inline tables it is the "{...}" text); opt.NoRegsub
// and opt.UTF8 apply. It returns an *OpenError wrapping ErrNotEmulated when a rule uses a
// construct Go's regexp cannot express.
func ParseRegexp(typ, file, data string, opt Options) (*RegexpTable, error) {
	if typ != "regexp" && typ != "pcre" {
		return nil, &OpenError{Spec: typ + ":" + file, Message: "not a regexp or pcre table", Err: ErrSpec}
	}
	t := &RegexpTable{name: typ + ":" + file, typ: typ, file: file, utf8: opt.UTF8, noRegsub: opt.NoRegsub}
	lr := lineReader{data: data, file: file, diags: &t.diags, utf8: opt.UTF8}
	var stack []int
	for {
		ll, ok := lr.next()
		if !ok {
			break
		}
		p := trimRight(cstr(ll.text))
		if p == "" {
			continue
		}
		rule, err := t.parseLine(ll.first, p, len(stack))
		if err != nil {
			return nil, err
		}
		if rule == nil {
			continue
		}
		rule.raw = p
		idx := len(t.rules)
		switch rule.op {
		case opIf:
			stack = append(stack, idx)
		case opEndif:
			t.rules[stack[len(stack)-1]].endif = idx
			stack = stack[:len(stack)-1]
		}
		t.rules = append(t.rules, *rule)
	}
	for n := len(stack) - 1; n >= 0; n-- {
		t.warn(t.rules[stack[n]].line, "IF has no matching ENDIF")
	}
	return t, nil
}

func openRegexp(ctx context.Context, typ, name string, opt Options) (Table, error) {
	full := typ + ":" + name
	var data string
	if strings.HasPrefix(name, "{") {
		var err string
		data, err = inlineToMultiline(name)
		if err != "" {
			return newSurrogate(full, "", fmt.Sprintf("%s map: %s", typ, err), nil), nil
		}
	} else {
		file := resolve(opt, name)
		var rerr error
		data, _, rerr = readFile(opt, file)
		if rerr != nil {
			return newSurrogate(full, name, fmt.Sprintf("open %s: %s", name, pfutil.Strerror(rerr)), nil), nil
		}
	}
	t, err := ParseRegexp(typ, name, data, opt)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return t, nil
}

// inlineToMultiline reproduces dict_inline_to_multiline(): "{ {rule}, {rule} }" becomes
// one rule per line.
func inlineToMultiline(name string) (string, string) {
	inner, err := extpar(cstr(name), false)
	if err != "" {
		return "", err
	}
	var b strings.Builder
	for _, tok := range tokenizeQ(inner, charsCommaSP) {
		rule, err := extpar(tok, true)
		if err != "" {
			return "", err
		}
		b.WriteString(rule)
		b.WriteByte('\n')
	}
	return b.String(), ""
}

func (t *RegexpTable) warn(line int, msg string) {
	t.diags = append(t.diags, Diagnostic{File: t.file, Line: line, Severity: Warning,
		Message: printableText(fmt.Sprintf("%s map %s, line %d: %s", t.typ, t.file, line, msg), t.utf8)})
}

func (t *RegexpTable) notEmulated(line int, construct string) error {
	return &OpenError{Spec: t.name, File: t.file, Line: line, Err: ErrNotEmulated,
		Message: construct + " cannot be expressed with Go's regexp package; postfixtls cannot emulate this table"}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pattern is one /regexp/flags with its negation.
type pattern struct {
	text  string
	flags string
	match bool
}

// getPattern reproduces dict_regexp_get_pat / dict_pcre_get_pattern. ok is false when the
// rule is skipped (a warning was recorded).
func (t *RegexpTable) getPattern(line int, p string) (pattern, string, bool) {
	pat := pattern{match: true}
	i := 0
	for ; i < len(p); i++ {
		if p[i] == '!' {
			pat.match = !pat.match
		} else if !isSpace(p[i]) {
			break
		}
	}
	if i >= len(p) {
		t.warn(line, "no regexp: skipping this rule")
		return pat, "", false
	}
	delim := p[i]
	i++
	start := i
	for i < len(p) {
		if p[i] == '\\' {
			if i+1 < len(p) {
				i++
			} else if t.typ == "pcre" {
				i++
				break
			} else {
				break // dict_regexp.c treats a trailing backslash as the delimiter
			}
		} else if p[i] == delim {
			break
		}
		i++
	}
	if i >= len(p) {
		word := "skipping"
		if t.typ == "pcre" {
			word = "ignoring"
		}
		t.warn(line, fmt.Sprintf("no closing regexp delimiter \"%c\": %s this rule", delim, word))
		return pat, "", false
	}
	pat.text = p[start:i]
	i++
	fstart := i
	for i < len(p) && !isSpace(p[i]) && (t.typ == "pcre" || p[i] != '!') {
		c := p[i]
		known := strings.IndexByte("imx", c) >= 0
		if t.typ == "pcre" {
			known = strings.IndexByte("imsxAEUX", c) >= 0
		}
		if !known {
			t.warn(line, fmt.Sprintf("unknown regexp option \"%c\": skipping this rule", c))
			return pat, "", false
		}
		if t.typ == "pcre" && c == 'X' {
			t.warn(line, "ignoring obsolete regexp option \"X\"")
		}
		i++
	}
	pat.flags = p[fstart:i]
	return pat, p[i:], true
}

// parseLine reproduces dict_regexp_parseline / dict_pcre_parse_rule.
func (t *RegexpTable) parseLine(line int, p string, nesting int) (*reRule, error) {
	switch {
	case !isAlnum(p[0]):
		first, rest, ok := t.getPattern(line, p)
		if !ok {
			return nil, nil
		}
		var second pattern
		hasSecond := false
		if t.typ == "regexp" && rest != "" && rest[0] == '!' {
			second, rest, ok = t.getPattern(line, rest)
			if !ok {
				return nil, nil
			}
			hasSecond = true
		}
		rest = trimLeft(rest)
		if rest == "" {
			t.warn(line, "no replacement text: using empty string")
		}
		repl, maxSub, ok := t.prescan(line, rest)
		if !ok {
			t.warn(line, "bad replacement syntax: skipping this rule")
			return nil, nil
		}
		if maxSub > 0 && !first.match {
			t.warn(line, "$number found in negative match replacement text: skipping this rule")
			return nil, nil
		}
		if maxSub > 0 && t.noRegsub {
			t.warn(line, "regular expression substitution is not allowed: skipping this rule")
			return nil, nil
		}
		re, ok, err := t.compile(line, first)
		if err != nil || !ok {
			return nil, err
		}
		if maxSub > re.NumSubexp() {
			t.warn(line, fmt.Sprintf("out of range replacement index \"%d\": skipping this rule", maxSub))
			return nil, nil
		}
		rule := &reRule{op: opMatch, line: line, first: re, firstMatch: first.match, repl: repl, maxSub: maxSub, endif: -1}
		if maxSub == 0 {
			var b strings.Builder
			for _, part := range repl {
				b.WriteString(part.lit)
			}
			rule.literal = b.String()
		}
		if hasSecond {
			re2, ok, err := t.compile(line, second)
			if err != nil || !ok {
				return nil, err
			}
			rule.second, rule.secondMatch = re2, second.match
		}
		return rule, nil
	case len(p) >= 2 && strings.EqualFold(p[:2], "IF") && (len(p) == 2 || !isAlnum(p[2])):
		pat, rest, ok := t.getPattern(line, trimLeft(p[2:]))
		if !ok {
			return nil, nil
		}
		if rest = trimLeft(rest); rest != "" {
			t.warn(line, fmt.Sprintf("ignoring extra text after IF statement: \"%s\"", rest))
			t.warn(line, "do not prepend whitespace to statements between IF and ENDIF")
		}
		re, ok, err := t.compile(line, pat)
		if err != nil || !ok {
			return nil, err
		}
		return &reRule{op: opIf, line: line, first: re, firstMatch: pat.match, endif: -1}, nil
	case len(p) >= 5 && strings.EqualFold(p[:5], "ENDIF") && (len(p) == 5 || !isAlnum(p[5])):
		if nesting == 0 {
			t.warn(line, "ignoring ENDIF without matching IF")
			return nil, nil
		}
		if trimLeft(p[5:]) != "" {
			t.warn(line, "ignoring extra text after ENDIF")
		}
		return &reRule{op: opEndif, line: line, endif: -1}, nil
	}
	t.warn(line, "ignoring unrecognized request")
	return nil, nil
}

// macParse reproduces mac_parse() for replacement text: action is called for each
// literal piece and each $name, in order, as they are found; it reports whether the
// syntax was valid (mac_parse's own warnings go to warn).
func macParse(value string, action func(isName bool, text string) bool, warn func(string)) bool {
	ok := true
	var buf strings.Builder
	i := 0
	for i < len(value) {
		c := value[i]
		switch {
		case c != '$':
			buf.WriteByte(c)
			i++
		case i+1 < len(value) && value[i+1] == '$':
			buf.WriteByte('$')
			i += 2
		default:
			if buf.Len() > 0 {
				if !action(false, buf.String()) {
					ok = false
				}
				buf.Reset()
			}
			i++
			var name string
			if i < len(value) && (value[i] == '{' || value[i] == '(') {
				open := value[i]
				closeCh := byte('}')
				if open == '(' {
					closeCh = ')'
				}
				level := 1
				i++
				j := i
				for level > 0 {
					if j >= len(value) {
						warn(fmt.Sprintf("truncated macro reference: \"%s\"", value))
						return false
					}
					if value[j] == open {
						level++
					}
					if value[j] == closeCh {
						level--
					}
					j++
				}
				name = value[i : j-1]
				i = j
			} else {
				j := i
				for j < len(value) && (isAlnum(value[j]) || value[j] == '_') {
					j++
				}
				name = value[i:j]
				i = j
			}
			if name == "" {
				warn(fmt.Sprintf("empty macro name: \"%s\"", value))
				return false
			}
			if !action(true, name) {
				ok = false
			}
		}
	}
	if buf.Len() > 0 && ok {
		if !action(false, buf.String()) {
			ok = false
		}
	}
	return ok
}

// prescan checks the $number references like dict_regexp_prescan / dict_pcre_prescan.
func (t *RegexpTable) prescan(line int, text string) ([]replPart, int, bool) {
	var parts []replPart
	maxSub := 0
	ok := macParse(text, func(isName bool, name string) bool {
		if !isName {
			parts = append(parts, replPart{lit: name})
			return true
		}
		digits := true
		for j := 0; j < len(name); j++ {
			if name[j] < '0' || name[j] > '9' {
				digits = false
			}
		}
		if !digits {
			t.warn(line, fmt.Sprintf("non-numeric replacement index \"%s\"", name))
			return false
		}
		n, err := strconv.Atoi(name)
		if err != nil || n > 1<<20 {
			n = 1 << 20 // atoi overflow: certainly out of range
		}
		if n < 1 {
			if t.typ == "pcre" {
				t.warn(line, fmt.Sprintf("out of range replacement index \"%s\"", name))
			} else {
				t.warn(line, fmt.Sprintf("out-of-range replacement index \"%s\"", name))
			}
			return false
		}
		parts = append(parts, replPart{sub: n})
		if n > maxSub {
			maxSub = n
		}
		return true
	}, func(m string) {
		t.diags = append(t.diags, Diagnostic{File: t.file, Line: line, Severity: Warning, Message: printableText(m, t.utf8)})
	})
	return parts, maxSub, ok
}

// compile translates and compiles one pattern. ok false means Postfix would reject the
// pattern (a warning was recorded); err means we cannot emulate it.
func (t *RegexpTable) compile(line int, pat pattern) (*regexp.Regexp, bool, error) {
	var tr translation
	if t.typ == "pcre" {
		tr = translatePCRE(pat.text, pat.flags)
	} else {
		tr = translatePOSIX(pat.text, pat.flags)
	}
	if tr.postfixErr != "" {
		t.warn(line, tr.postfixErr)
		return nil, false, nil
	}
	if tr.notEmulated != "" {
		return nil, false, t.notEmulated(line, tr.notEmulated)
	}
	re, err := regexp.Compile(tr.goExpr)
	if err != nil {
		return nil, false, t.notEmulated(line, fmt.Sprintf("pattern /%s/ (Go: %v)", pat.text, err))
	}
	if t.typ == "regexp" {
		re.Longest()
	}
	return re, true, nil
}

// Name returns "regexp:<file>" or "pcre:<file>".
func (t *RegexpTable) Name() string { return t.name }

// Diagnostics returns the warnings Postfix would log while reading the table.
func (t *RegexpTable) Diagnostics() []Diagnostic { return t.diags }

// Lookup runs the rules in order as dict_regexp_lookup / dict_pcre_lookup do. The key is
// never folded (smtp(8) asks only fixed tables to fold); the patterns are
// case-insensitive unless their "i" flag turned that off.
func (t *RegexpTable) Lookup(ctx context.Context, key string) (Result, error) {
	key = cstr(key)
	if !isASCII(key) {
		key = mapBytes(key) // match bytes, as the C-locale matchers do
	}
	for i := 0; i < len(t.rules); i++ {
		r := &t.rules[i]
		switch r.op {
		case opMatch:
			var m []int
			var hit bool
			if r.maxSub > 0 {
				m = r.first.FindStringSubmatchIndex(key)
				hit = m != nil
			} else {
				hit = r.first.MatchString(key)
			}
			if hit != r.firstMatch {
				continue
			}
			if r.second != nil && r.second.MatchString(key) != r.secondMatch {
				continue
			}
			var value string
			if r.maxSub == 0 {
				value = r.literal
			} else {
				var b strings.Builder
				for _, p := range r.repl {
					if p.sub > 0 {
						if 2*p.sub+1 < len(m) && m[2*p.sub] >= 0 {
							b.WriteString(unmapBytes(key[m[2*p.sub]:m[2*p.sub+1]]))
						}
						continue
					}
					b.WriteString(p.lit)
				}
				value = b.String()
			}
			return Result{Found: true, Value: value, Source: Source{Table: t.name, File: t.file, Line: r.line, Key: r.raw, Raw: r.raw}}, nil
		case opIf:
			if r.first.MatchString(key) == r.firstMatch {
				continue
			}
			if r.endif < 0 {
				return Result{}, nil
			}
			i = r.endif
		}
	}
	return Result{}, nil
}

// LiteralPattern is a regexp: or pcre: rule whose pattern matches exactly one string: an
// anchored pattern of letters, digits, '-', '_' and escaped dots or brackets, such as
// /^example\.test$/ (a row for one next hop, written in a pattern table).
type LiteralPattern struct {
	// Pattern is the pattern as written, delimiters and flags included.
	Pattern string
	// Literal is the one string it matches ("example.test").
	Literal string
	// CaseSensitive is set when the flags turn off the tables' default of ignoring case
	// (flag i, for regexp: and pcre: alike).
	CaseSensitive bool
}

// ParseLiteralPattern reports whether rule (a line of a table of type typ, "regexp" or
// "pcre": the pattern, then the value) starts with a LiteralPattern, and returns it. A
// negated pattern, a second pattern and anything with regular-expression operators are not
// literal.
func ParseLiteralPattern(typ, rule string) (LiteralPattern, bool) {
	start := 0
	for start < len(rule) && isSpace(rule[start]) {
		start++
	}
	if start == len(rule) || rule[start] == '#' || rule[start] == '\\' || isAlnum(rule[start]) {
		return LiteralPattern{}, false // a comment, or a word (IF, ENDIF), not a pattern
	}
	t := &RegexpTable{typ: typ}
	pat, rest, ok := t.getPattern(0, rule)
	if !ok || !pat.match || strings.HasPrefix(rest, "!") || (rest != "" && !isSpace(rest[0])) {
		return LiteralPattern{}, false
	}
	body := pat.text
	if len(body) < 3 || body[0] != '^' || body[len(body)-1] != '$' {
		return LiteralPattern{}, false
	}
	body = body[1 : len(body)-1]
	var lit strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body) && strings.IndexByte(".[]-", body[i+1]) >= 0:
			i++
			lit.WriteByte(body[i])
		case isAlnum(c) || c == '-' || c == '_':
			lit.WriteByte(c)
		default:
			return LiteralPattern{}, false
		}
	}
	end := len(rule) - len(rest)
	if c := end - len(pat.flags) - 1; c <= start || rule[c] != rule[start] {
		return LiteralPattern{}, false // closed by a trailing backslash, not the delimiter
	}
	return LiteralPattern{Pattern: rule[start:end], Literal: lit.String(),
		CaseSensitive: strings.Count(pat.flags, "i")%2 == 1}, true
}
