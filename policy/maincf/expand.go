package maincf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Features selects the $name expansion grammar of one Postfix release
// (util/mac_expand.c changed in 3.0, 3.3, 3.6 and 3.11).
type Features struct {
	// Braces: {text} operands, ${name?{a}:{b}} and relational expressions (3.0+).
	Braces bool
	// SpaceInNames: whitespace around the name, as in "${ name ? {x} }" (3.3+).
	SpaceInNames bool
	// LevelOperators: ==level, !=level, <level, <=level, >level, >=level comparing
	// compatibility levels (3.6+).
	LevelOperators bool
	// NamedFunctions: ${domain_to_ascii{text}} and ${domain_to_utf8{text}} (3.11+).
	NamedFunctions bool
}

// FeaturesOf returns the expansion grammar of Postfix release major.minor.
func FeaturesOf(major, minor int) Features {
	at := func(ma, mi int) bool { return major > ma || (major == ma && minor >= mi) }
	return Features{
		Braces:         at(3, 0),
		SpaceInNames:   at(3, 3),
		LevelOperators: at(3, 6),
		NamedFunctions: at(3, 11),
	}
}

// LatestFeatures is the grammar of the newest Postfix release (every feature on).
func LatestFeatures() Features { return FeaturesOf(3, 12) }

// Limits bound the work of one expansion so hostile input cannot exhaust memory, CPU or
// stack. Postfix itself has only the nesting limit; the others are this package's.
type Limits struct {
	// MaxOutput bounds the bytes written during one expansion, including the
	// intermediate results of relational operands and functions (default 1 MiB).
	MaxOutput int
	// MaxSteps bounds the work of one expansion: each literal or $name piece counts
	// one plus its length in bytes (default 16,000,000).
	MaxSteps int
	// MaxDepth bounds nested evaluations across relational operands and functions,
	// which Postfix does not count (default 1,000).
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxOutput <= 0 {
		l.MaxOutput = 1 << 20
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = 16_000_000
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 1000
	}
	return l
}

// Sentinel errors for errors.Is on *ExpandError.
var (
	// ErrMacro: a syntax error in a $name expression; Postfix logs the warning and then
	// fails with "macro processing error".
	ErrMacro = errors.New("macro processing error")
	// ErrNesting: Postfix's "unreasonable macro call nesting" (usually a $name loop).
	ErrNesting = errors.New("unreasonable macro call nesting")
	// ErrLimit: one of this package's Limits was exceeded (Postfix would run out of
	// memory or stack instead).
	ErrLimit = errors.New("expansion limit exceeded")
)

// ExpandError reports why an expansion failed.
type ExpandError struct {
	Param   string // parameter being expanded ("" for ExpandString)
	Message string // Postfix's warning text, e.g. `unreasonable macro call nesting: "a"`
	Kind    error  // ErrMacro, ErrNesting or ErrLimit
}

// Error returns the Postfix warning text, prefixed with the parameter name when known.
func (e *ExpandError) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s: %s", e.Param, e.Message)
	}
	return e.Message
}

// Unwrap returns the Kind sentinel.
func (e *ExpandError) Unwrap() error { return e.Kind }

// lookupFunc returns a parameter's raw value and whether it is defined.
type lookupFunc func(name string) (string, bool)

type engine struct {
	lookup  lookupFunc
	recurse bool
	scan    bool
	feat    Features
	lim     Limits
	steps   int
	depth   int
	out     int // bytes written so far, all buffers
	undef   []string
	err     *ExpandError
}

type macCtx struct {
	out   *strings.Builder // nil in scan mode
	level int
}

func (e *engine) fail(kind error, format string, args ...any) {
	if e.err == nil {
		e.err = &ExpandError{Message: fmt.Sprintf(format, args...), Kind: kind}
	}
}

// expand is mac_expand(): a fresh context (nesting level 0) over pattern.
func (e *engine) expand(out *strings.Builder, pattern string) {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > e.lim.MaxDepth {
		e.fail(ErrLimit, "expansion nesting deeper than %d", e.lim.MaxDepth)
		return
	}
	ctx := &macCtx{out: out}
	e.parse(ctx, cstr(pattern))
}

func (e *engine) write(ctx *macCtx, s string) {
	if ctx.out == nil {
		return
	}
	e.out += len(s)
	if e.out > e.lim.MaxOutput {
		e.fail(ErrLimit, "expansion result longer than %d bytes", e.lim.MaxOutput)
		return
	}
	ctx.out.WriteString(s)
}

// parse is mac_parse(): split value into literal text and $name references.
func (e *engine) parse(ctx *macCtx, value string) {
	var lit strings.Builder
	i := 0
	for i < len(value) && e.err == nil {
		c := value[i]
		switch {
		case c != '$':
			lit.WriteByte(c)
			i++
		case i+1 < len(value) && value[i+1] == '$':
			lit.WriteByte('$')
			i += 2
		default:
			if lit.Len() > 0 {
				e.callback(ctx, false, lit.String())
				lit.Reset()
				if e.err != nil {
					return
				}
			}
			i++
			var name string
			if i < len(value) && (value[i] == '(' || value[i] == '{') {
				open, closer := value[i], byte(')')
				if open == '{' {
					closer = '}'
				}
				i++
				level := 1
				ep := i
				for level > 0 {
					if ep >= len(value) {
						e.fail(ErrMacro, "truncated macro reference: \"%s\"", value)
						return
					}
					if value[ep] == open {
						level++
					}
					if value[ep] == closer {
						level--
					}
					ep++
				}
				name = value[i : ep-1]
				i = ep
			} else {
				ep := i
				for ep < len(value) && (isAlnum(value[ep]) || value[ep] == '_') {
					ep++
				}
				name = value[i:ep]
				i = ep
			}
			if name == "" {
				e.fail(ErrMacro, "empty macro name: \"%s\"", value)
				return
			}
			e.callback(ctx, true, name)
		}
	}
	if lit.Len() > 0 && e.err == nil {
		e.callback(ctx, false, lit.String())
	}
}

const opAny = `"==" or "!="" or "<"" or "<="" or ">="" or ">"`

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func spanBlank(s string, i int) int {
	j := i
	for j < len(s) && isBlank(s[j]) {
		j++
	}
	return j - i
}

// findLeftCurly is MAC_EXP_FIND_LEFT_CURLY: skip blanks if a '{' follows them.
func findLeftCurly(s string, i *int) bool {
	n := spanBlank(s, *i)
	if *i+n < len(s) && s[*i+n] == '{' {
		*i += n
		return true
	}
	return false
}

// curly is mac_exp_extract_curly_payload: s[*i] is '{'; return the balanced payload and
// leave *i after the '}' and any blanks.
func (e *engine) curly(s string, i *int, strip bool) (string, bool) {
	p := *i + 1
	if strip {
		p += spanBlank(s, p)
	}
	level := 1
	cp := p
	for ; ; cp++ {
		if cp >= len(s) {
			e.fail(ErrMacro, "unbalanced {} in attribute expression: \"%s\"", s[*i:])
			return "", false
		}
		if s[cp] == '{' {
			level++
		} else if s[cp] == '}' {
			level--
			if level <= 0 {
				break
			}
		}
	}
	payload := s[p:cp]
	if strip {
		j := len(payload)
		for j > 0 && isSpace(payload[j-1]) {
			j--
		}
		payload = payload[:j]
	}
	cp++
	*i = cp + spanBlank(s, cp)
	return payload, true
}

// callback is mac_expand_callback for one piece of mac_parse output.
func (e *engine) callback(ctx *macCtx, expr bool, buf string) {
	if ctx.level > 100 {
		e.fail(ErrNesting, "unreasonable macro call nesting: \"%s\"", buf)
		return
	}
	ctx.level++
	e.steps += 1 + len(buf)
	if e.steps > e.lim.MaxSteps {
		e.fail(ErrLimit, "expansion needs more than %d steps", e.lim.MaxSteps)
		return
	}
	if !expr {
		if !e.scan {
			e.write(ctx, buf)
		}
		ctx.level--
		return
	}
	var (
		lookup  string
		defined bool
		ch      byte
		i       int
	)
	if e.feat.Braces && findLeftCurly(buf, &i) {
		if !e.relational(buf, &i, &lookup, &defined) {
			return
		}
		if i < len(buf) {
			ch = buf[i]
			if ch != '?' && ch != ':' {
				e.fail(ErrMacro, "\"?\" or \":\" expected at: \"...}>>>%s\"", trunc(buf[i:], 20))
				return
			}
			i++
		}
	} else {
		if e.feat.SpaceInNames {
			i += spanBlank(buf, i)
		}
		start := i
		var name string
		for ; ; i++ {
			t := 0
			if e.feat.SpaceInNames {
				t = spanBlank(buf, i)
			}
			if i+t >= len(buf) {
				name = buf[start:i]
				ch = 0
				break
			}
			if c := buf[i+t]; c == '?' || c == ':' {
				name = buf[start:i]
				ch = c
				i += t + 1
				break
			} else if c == '{' && e.feat.NamedFunctions {
				e.function(ctx, buf, start, i, i+t)
				return // like Postfix, without undoing the level increment
			}
			if c := buf[i]; !isAlnum(c) && c != '_' {
				if e.feat.Braces {
					e.fail(ErrMacro, "attribute name syntax error at: \"...%s>>>%s\"", buf[:i], trunc(buf[i:], 20))
				} else {
					e.fail(ErrMacro, "macro name syntax error: \"%s\"", buf)
				}
				return
			}
		}
		lookup, defined = e.lookup(name)
		lookup = cstr(lookup)
		if !defined && ch == 0 {
			e.undef = append(e.undef, name)
		}
	}
	nonEmpty := defined && lookup != ""
	switch ch {
	case '?', ':':
		if ch == '?' {
			var iftrue string
			if e.feat.Braces && findLeftCurly(buf, &i) {
				var ok bool
				if iftrue, ok = e.curly(buf, &i, false); !ok {
					return
				}
			} else {
				iftrue, i = buf[i:], len(buf)
			}
			if nonEmpty || e.scan {
				e.parse(ctx, iftrue)
				if e.err != nil {
					return
				}
			}
			if i >= len(buf) {
				break
			}
			if buf[i] != ':' {
				e.fail(ErrMacro, "\":\" expected at: \"...%s}>>>%s\"", iftrue, trunc(buf[i:], 20))
				return
			}
			i++
		}
		var iffalse string
		if e.feat.Braces && findLeftCurly(buf, &i) {
			var ok bool
			if iffalse, ok = e.curly(buf, &i, false); !ok {
				return
			}
		} else {
			iffalse, i = buf[i:], len(buf)
		}
		if !nonEmpty || e.scan {
			e.parse(ctx, iffalse)
			if e.err != nil {
				return
			}
		}
		if i < len(buf) {
			e.fail(ErrMacro, "unexpected input at: \"...%s}>>>%s\"", iffalse, trunc(buf[i:], 20))
			return
		}
	default:
		switch {
		case !defined, lookup == "", e.scan:
		case e.recurse:
			e.parse(ctx, lookup)
			if e.err != nil {
				return
			}
		default:
			e.write(ctx, lookup)
		}
	}
	ctx.level--
}

// relational is mac_exp_parse_relational: buf[*i] is the '{' of the left operand.
func (e *engine) relational(buf string, i *int, lookup *string, defined *bool) bool {
	left, ok := e.curly(buf, i, false)
	if !ok {
		return false
	}
	opPos := *i
	n := 0
	for opPos+n < len(buf) && strings.IndexByte("<>!=?+-*/~&|%", buf[opPos+n]) >= 0 {
		n++
	}
	op := buf[opPos : opPos+n]
	switch op {
	case "==", "!=", "<", "<=", ">=", ">":
	default:
		e.fail(ErrMacro, "%s expected at: \"...%s}>>>%s\"", opAny, left, trunc(buf[opPos:], 20))
		return false
	}
	*i += n
	level := false
	if e.feat.LevelOperators && *i < len(buf) && isAlnum(buf[*i]) {
		ts := *i
		for *i < len(buf) && isAlnum(buf[*i]) {
			*i++
		}
		if buf[ts:*i] != "level" {
			e.fail(ErrMacro, "bad operator suffix at: \"...%s>>>%s\"", op, buf[ts:*i])
			return false
		}
		level = true
	}
	if !findLeftCurly(buf, i) {
		e.fail(ErrMacro, "\"{expression}\" expected at: \"...{%s} %s>>>%s\"", left, op, trunc(buf[*i:], 20))
		return false
	}
	right, ok := e.curly(buf, i, false)
	if !ok {
		return false
	}
	var lb, rb *strings.Builder
	if !e.scan {
		lb, rb = &strings.Builder{}, &strings.Builder{}
	}
	e.expand(lb, left)
	if e.err != nil {
		return false
	}
	e.expand(rb, right)
	if e.err != nil {
		return false
	}
	if e.scan {
		*lookup, *defined = "", false
		return true
	}
	var res bool
	if level {
		res, ok = e.levelCompare(lb.String(), op, rb.String())
	} else {
		res, ok = e.compare(lb.String(), op, rb.String())
	}
	if !ok {
		return false
	}
	*defined = true
	if res {
		*lookup = "true"
	} else {
		*lookup = ""
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func opResult(delta int, op string) bool {
	switch op {
	case "==":
		return delta == 0
	case "!=":
		return delta != 0
	case "<":
		return delta < 0
	case "<=":
		return delta <= 0
	case ">=":
		return delta >= 0
	default: // ">"
		return delta > 0
	}
}

// compare is mac_exp_eval: numeric when both sides are all digits, else strcmp().
func (e *engine) compare(l, op, r string) (bool, bool) {
	if allDigits(l) && allDigits(r) {
		lv, err1 := strconv.ParseInt(l, 10, 64)
		if err1 != nil {
			e.fail(ErrMacro, "mac_exp_eval: bad conversion: %s", l)
			return false, false
		}
		rv, err2 := strconv.ParseInt(r, 10, 64)
		if err2 != nil {
			e.fail(ErrMacro, "mac_exp_eval: bad conversion: %s", r)
			return false, false
		}
		return opResult(sign(lv-rv), op), true
	}
	return opResult(strings.Compare(l, r), op), true
}

func sign(v int64) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func (e *engine) levelCompare(l, op, r string) (bool, bool) {
	lv, ok := CompatLevel(l)
	if !ok {
		e.fail(ErrMacro, "malformed compatibility level syntax: \"%s\"", l)
		return false, false
	}
	rv, ok := CompatLevel(r)
	if !ok {
		e.fail(ErrMacro, "malformed compatibility level syntax: \"%s\"", r)
		return false, false
	}
	return opResult(sign(lv-rv), op), true
}

// function is mac_exp_parse_function (3.11+): ${name{text}}.
func (e *engine) function(ctx *macCtx, buf string, nameStart, nameEnd, brace int) {
	i := brace
	arg, ok := e.curly(buf, &i, true)
	if !ok {
		return
	}
	if i < len(buf) {
		e.fail(ErrMacro, "unexpected input at: \"...%s}>>>%s\"", arg, trunc(buf[i:], 20))
		return
	}
	name := buf[nameStart:nameEnd]
	if name != "domain_to_ascii" && name != "domain_to_utf8" {
		e.fail(ErrMacro, "unknown function \"%s\" at\"...>>>%s{%s}\"", name, name, arg)
		return
	}
	var inner *strings.Builder
	if !e.scan {
		inner = &strings.Builder{}
	}
	e.expand(inner, arg)
	if e.err != nil || e.scan {
		return
	}
	in := inner.String()
	var out string
	var err error
	if name == "domain_to_ascii" {
		out = in
		if !isASCII(in) {
			out, err = idna.Lookup.ToASCII(in)
		}
	} else {
		out = in
		if isASCII(in) {
			out, err = idna.Lookup.ToUnicode(in)
		}
	}
	if err != nil || out == "" && in != "" {
		e.fail(ErrMacro, "bad domain argument in: '%s{%s}'", name, in)
		return
	}
	e.write(ctx, out)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// CompatLevel converts a compatibility level such as "2", "3.6" or "3.6.1" to a number
// that orders like Postfix's compat_level_from_string() (major<<20 | minor<<10 | patch).
// It accepts what C's strtol accepts for each part (leading blanks, a sign) and reports
// false for text Postfix calls a "malformed compatibility level syntax".
func CompatLevel(s string) (int64, bool) {
	const partMax = 0x3ff
	const majorMax = int64(^uint64(0)>>1) >> 20
	num := func(s string) (int64, string, bool) {
		i := 0
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return 0, s, false
		}
		v, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil {
			return 0, s, false // ERANGE
		}
		if neg {
			v = -v
		}
		return v, s[j:], true
	}
	major, rest, ok := num(s)
	if !ok || (rest != "" && rest[0] != '.') || major < 0 || major > majorMax {
		return 0, false
	}
	res := major << 20
	if rest == "" {
		return res, true
	}
	minor, rest, ok := num(rest[1:])
	if !ok || (rest != "" && rest[0] != '.') || minor < 0 || minor > partMax {
		return 0, false
	}
	res |= minor << 10
	if rest == "" {
		return res, true
	}
	patch, rest, ok := num(rest[1:])
	if !ok || rest != "" || patch < 0 || patch > partMax {
		return 0, false
	}
	return res | patch, true
}
