package tables

import (
	"fmt"
	"strconv"
	"strings"
)

// translation is a pattern rewritten in Go's regexp syntax, or the reason it cannot be.
type translation struct {
	goExpr      string
	postfixErr  string // the text Postfix would log (the rule is skipped)
	notEmulated string // the construct Go cannot express
}

// glibc regerror() texts.
const (
	regEBrack  = "Unmatched [, [^, [:, [., or [="
	regEParen  = "Unmatched ( or \\("
	regERParen = "Unmatched ) or \\)"
	regBadRpt  = "Invalid preceding regular expression"
	regEBrace  = "Unmatched \\{"
	regBadBr   = "Invalid content of \\{\\}"
	regECType  = "Invalid character class name"
	regEEscape = "Trailing backslash"
	regERange  = "Invalid range end"
	regESize   = "Regular expression too big"
)

var posixClasses = map[string]bool{
	"alpha": true, "upper": true, "lower": true, "digit": true, "xdigit": true, "space": true,
	"print": true, "punct": true, "graph": true, "cntrl": true, "blank": true, "alnum": true,
}

// byteRuneBase maps a byte >= 0x80 to a private-use rune (byteRuneBase+b), so that Go's
// rune-based regexp matches bytes as Postfix's C-locale regcomp and non-UTF PCRE do: "." is
// one byte, and (?i) cannot fold an ASCII letter to a non-ASCII rune (U+017F, U+212A) or one
// non-ASCII letter to another. Keys are mapped the same way before matching (mapBytes).
const byteRuneBase = 0xF700

// writeHighByte writes a byte >= 0x80 as the regexp escape of its private-use rune.
func writeHighByte(b *strings.Builder, c byte) {
	fmt.Fprintf(b, `\x{%X}`, byteRuneBase+rune(c))
}

// writeMappedText writes pattern text verbatim except for bytes >= 0x80 (see byteRuneBase).
func writeMappedText(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			writeHighByte(b, s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexValue(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// mapBytes rewrites a key for matching: bytes >= 0x80 become their private-use runes.
func mapBytes(key string) string {
	var b strings.Builder
	b.Grow(len(key) * 3)
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= 0x80 {
			b.WriteRune(byteRuneBase + rune(c))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unmapBytes undoes mapBytes on a piece of a mapped key.
func unmapBytes(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= byteRuneBase+0x80 && r <= byteRuneBase+0xFF {
			b.WriteByte(byte(r - byteRuneBase))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// goLiteral writes c as a Go regexp literal.
func goLiteral(b *strings.Builder, c byte) {
	writeLiteral(b, c, c < 0x80 && strings.IndexByte(`\.+*?()|[]{}^$-&~#`, c) >= 0)
}

// classLiteral writes c for use inside a Go character class.
func classLiteral(b *strings.Builder, c byte) {
	writeLiteral(b, c, c < 0x80 && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c >= 0x20 && c != 0x7f)
}

// writeLiteral writes c backslash-escaped when escape is set, else as itself, as a \xHH
// escape (control characters) or as writeHighByte writes bytes >= 0x80.
func writeLiteral(b *strings.Builder, c byte, escape bool) {
	if escape {
		b.WriteByte('\\')
		b.WriteByte(c)
		return
	}
	if c < 0x20 || c == 0x7f {
		fmt.Fprintf(b, `\x%02x`, c)
		return
	}
	if c >= 0x80 {
		writeHighByte(b, c)
		return
	}
	b.WriteByte(c)
}

// posixBracket translates a POSIX bracket expression starting at p[i] == '['. It returns
// the index after the closing ']'.
func posixBracket(p string, i int, newline bool, b *strings.Builder) (int, translation) {
	i++
	b.WriteByte('[')
	if i < len(p) && p[i] == '^' {
		b.WriteByte('^')
		i++
		if newline {
			b.WriteString(`\n`)
		}
	}
	first := true
	prevChar := -1 // last single character, for ranges
	for {
		if i >= len(p) {
			return i, translation{postfixErr: regEBrack}
		}
		c := p[i]
		if c == ']' && !first {
			b.WriteByte(']')
			return i + 1, translation{}
		}
		first = false
		if c == '[' && i+1 < len(p) && (p[i+1] == ':' || p[i+1] == '=' || p[i+1] == '.') {
			kind := p[i+1]
			end := strings.Index(p[i+2:], string([]byte{kind, ']'}))
			if end < 0 {
				return i, translation{postfixErr: regEBrack}
			}
			name := p[i+2 : i+2+end]
			i += 2 + end + 2
			switch kind {
			case ':':
				if !posixClasses[name] {
					return i, translation{postfixErr: regECType}
				}
				b.WriteString("[:" + name + ":]")
				prevChar = -1
			default:
				if len(name) != 1 {
					what := "equivalence class"
					if kind == '.' {
						what = "collating symbol"
					}
					return i, translation{notEmulated: fmt.Sprintf("POSIX %s [%c%s%c]", what, kind, name, kind)}
				}
				classLiteral(b, name[0])
				prevChar = int(name[0])
			}
			continue
		}
		if c == '-' && prevChar >= 0 && i+1 < len(p) && p[i+1] != ']' {
			hi := p[i+1]
			if hi == '[' && i+2 < len(p) && (p[i+2] == '.' || p[i+2] == '=') {
				return i, translation{notEmulated: "POSIX range ending in a collating element"}
			}
			if int(hi) < prevChar {
				return i, translation{postfixErr: regERange}
			}
			b.WriteByte('-')
			classLiteral(b, hi)
			i += 2
			prevChar = -1
			continue
		}
		classLiteral(b, c)
		prevChar = int(c)
		i++
	}
}

// parseInterval reads "{m}", "{m,}", "{m,n}" or glibc's "{,n}" at p[i] == '{'. It returns
// the Go form and the index after '}', or a glibc error.
func parseInterval(p string, i int) (string, int, string) {
	j := i + 1
	readNum := func() (int, bool) {
		k := j
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		if k == j {
			return -1, true
		}
		n, err := strconv.Atoi(p[k:j])
		if err != nil || n > 0x7fff {
			return 0x8000, true
		}
		return n, true
	}
	lo, _ := readNum()
	hi := lo
	if j < len(p) && p[j] == ',' {
		j++
		hi, _ = readNum()
		if hi < 0 {
			hi = -2 // unbounded
		}
	}
	if j >= len(p) {
		return "", j, regEBrace
	}
	if p[j] != '}' {
		return "", j, regBadBr
	}
	if lo < 0 {
		lo = 0
	}
	if lo > 0x7fff || hi > 0x7fff {
		return "", j, regESize
	}
	if hi >= 0 && hi < lo {
		return "", j, regBadBr
	}
	var s string
	switch {
	case hi == -2:
		s = fmt.Sprintf("{%d,}", lo)
	case hi == lo && !strings.Contains(p[i:j], ","):
		s = fmt.Sprintf("{%d}", lo)
	default:
		s = fmt.Sprintf("{%d,%d}", lo, hi)
	}
	if lo > 1000 || hi > 1000 {
		return s, j + 1, "too-big"
	}
	return s, j + 1, ""
}

// translatePOSIX rewrites a dict_regexp.c pattern (POSIX ERE, or BRE when the "x" flag
// turned REG_EXTENDED off, as glibc's regcomp reads it) in Go syntax. Submatches follow
// POSIX leftmost-longest rules once the caller sets Longest().
func translatePOSIX(p, flags string) translation {
	icase, newline, extended := true, false, true
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case 'i':
			icase = !icase
		case 'm':
			newline = !newline
		case 'x':
			extended = !extended
		}
	}
	var b strings.Builder
	b.WriteString("(?")
	if icase {
		b.WriteByte('i')
	}
	if newline {
		b.WriteByte('m')
	} else {
		b.WriteByte('s')
	}
	b.WriteByte(')')
	prefixLen := b.Len()
	// atom tracking for repetition operators
	type frame struct{ start int }
	var stack []frame
	atomStart := -1 // output index where the last atom starts; -1: no atom (start, after ( or |)
	lastRep := false
	rep := func(op string) translation {
		if atomStart < 0 {
			if extended {
				return translation{postfixErr: regBadRpt}
			}
			return translation{}
		}
		if lastRep {
			s := b.String()
			b.Reset()
			b.WriteString(s[:atomStart])
			b.WriteString("(?:")
			b.WriteString(s[atomStart:])
			b.WriteString(")")
		}
		b.WriteString(op)
		lastRep = true
		return translation{}
	}
	atom := func() { atomStart = b.Len(); lastRep = false }
	i := 0
	for i < len(p) {
		c := p[i]
		if extended {
			switch c {
			case '\\':
				if i+1 >= len(p) {
					return translation{postfixErr: regEEscape}
				}
				d := p[i+1]
				i += 2
				if tr, ok := posixEscape(d, &b, atom); !ok {
					return tr
				}
				continue
			case '[':
				atom()
				var tr translation
				i, tr = posixBracket(p, i, newline, &b)
				if tr.postfixErr != "" || tr.notEmulated != "" {
					return tr
				}
				continue
			case '(':
				stack = append(stack, frame{start: b.Len()})
				b.WriteByte('(')
				atomStart, lastRep = -1, false
				i++
				continue
			case ')':
				if len(stack) == 0 {
					atom()
					b.WriteString(`\)`)
					i++
					continue
				}
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				b.WriteByte(')')
				atomStart, lastRep = f.start, false
				i++
				continue
			case '|':
				b.WriteByte('|')
				atomStart, lastRep = -1, false
				i++
				continue
			case '*', '+', '?':
				if tr := rep(string(c)); tr.postfixErr != "" {
					return tr
				}
				i++
				continue
			case '{':
				if atomStart < 0 {
					return translation{postfixErr: regBadRpt}
				}
				s, next, err := parseInterval(p, i)
				if err == "too-big" {
					return translation{notEmulated: "repetition count above 1000 in " + p[i:next]}
				}
				if err != "" {
					return translation{postfixErr: err}
				}
				rep(s)
				i = next
				continue
			case '^', '$':
				b.WriteByte(c)
				atomStart, lastRep = -1, false
				i++
				continue
			case '.':
				atom()
				b.WriteByte('.')
				i++
				continue
			}
			atom()
			goLiteral(&b, c)
			i++
			continue
		}
		// Basic regular expressions (REG_EXTENDED off).
		atBREStart := b.Len() == prefixLen || strings.HasSuffix(b.String(), "(") || strings.HasSuffix(b.String(), "|")
		switch c {
		case '\\':
			if i+1 >= len(p) {
				return translation{postfixErr: regEEscape}
			}
			d := p[i+1]
			i += 2
			switch d {
			case '(':
				stack = append(stack, frame{start: b.Len()})
				b.WriteByte('(')
				atomStart, lastRep = -1, false
			case ')':
				if len(stack) == 0 {
					return translation{postfixErr: regERParen}
				}
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				b.WriteByte(')')
				atomStart, lastRep = f.start, false
			case '|':
				b.WriteByte('|')
				atomStart, lastRep = -1, false
			case '+', '?':
				if atomStart < 0 {
					atom()
					goLiteral(&b, d)
				} else {
					rep(string(d))
				}
			case '{':
				if atomStart < 0 {
					return translation{postfixErr: regBadRpt}
				}
				end := strings.Index(p[i:], `\}`)
				if end < 0 {
					return translation{postfixErr: regEBrace}
				}
				s, _, err := parseInterval("{"+p[i:i+end]+"}", 0)
				if err == "too-big" {
					return translation{notEmulated: "repetition count above 1000"}
				}
				if err != "" {
					return translation{postfixErr: err}
				}
				rep(s)
				i += end + 2
			default:
				if tr, ok := posixEscape(d, &b, atom); !ok {
					return tr
				}
			}
			continue
		case '[':
			atom()
			var tr translation
			i, tr = posixBracket(p, i, newline, &b)
			if tr.postfixErr != "" || tr.notEmulated != "" {
				return tr
			}
			continue
		case '*':
			if atBREStart || atomStart < 0 {
				atom()
				b.WriteString(`\*`)
			} else {
				rep("*")
			}
			i++
			continue
		case '^':
			if atBREStart {
				b.WriteByte('^')
				atomStart, lastRep = -1, false
			} else {
				atom()
				b.WriteString(`\^`)
			}
			i++
			continue
		case '$':
			if i == len(p)-1 || strings.HasPrefix(p[i+1:], `\)`) || strings.HasPrefix(p[i+1:], `\|`) {
				b.WriteByte('$')
				atomStart, lastRep = -1, false
			} else {
				atom()
				b.WriteString(`\$`)
			}
			i++
			continue
		case '.':
			atom()
			b.WriteByte('.')
			i++
			continue
		}
		atom()
		goLiteral(&b, c)
		i++
	}
	if len(stack) > 0 {
		return translation{postfixErr: regEParen}
	}
	return translation{goExpr: b.String()}
}

// posixEscape handles "\d" outside brackets as glibc does.
func posixEscape(d byte, b *strings.Builder, atom func()) (translation, bool) {
	switch {
	case d >= '1' && d <= '9':
		return translation{notEmulated: fmt.Sprintf("backreference \\%c", d)}, false
	case strings.IndexByte("wWsS", d) >= 0:
		atom()
		b.WriteByte('\\')
		b.WriteByte(d)
	case d == 'b' || d == 'B':
		b.WriteByte('\\')
		b.WriteByte(d)
	case d == '`':
		b.WriteString(`\A`)
	case d == '\'':
		b.WriteString(`\z`)
	case d == '<' || d == '>':
		return translation{notEmulated: fmt.Sprintf("GNU word-boundary operator \\%c", d)}, false
	case isAlnum(d) || d >= 0x80:
		return translation{notEmulated: fmt.Sprintf("GNU regex escape \\%c", d)}, false
	default:
		atom()
		goLiteral(b, d)
	}
	return translation{}, true
}

// translatePCRE rewrites a dict_pcre.c pattern in Go syntax. Go's RE2 syntax is close to
// PCRE's; what it lacks (backreferences, lookaround, atomic groups, possessive
// quantifiers, conditionals, recursion, \G, \K, ...) is reported as not emulated.
func translatePCRE(p, flags string) translation {
	caseless, dotall, multiline, extended, anchored, ungreedy := true, true, false, false, false, false
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case 'i':
			caseless = !caseless
		case 's':
			dotall = !dotall
		case 'm':
			multiline = !multiline
		case 'x':
			extended = !extended
		case 'A':
			anchored = !anchored
		case 'U':
			ungreedy = !ungreedy
		}
	}
	var b strings.Builder
	b.WriteString("(?")
	if caseless {
		b.WriteByte('i')
	}
	if dotall {
		b.WriteByte('s')
	}
	if multiline {
		b.WriteByte('m')
	}
	if ungreedy {
		b.WriteByte('U')
	}
	b.WriteString(")")
	if anchored {
		b.WriteString(`\A(?:`)
	}
	pcreErr := func(off int, msg string) translation {
		return translation{postfixErr: fmt.Sprintf("error in regex at offset %d: %s", off, msg)}
	}
	depth := 0
	canRepeat := false
	i := 0
	for i < len(p) {
		c := p[i]
		if extended && (isSpace(c) || c == '#') {
			if c == '#' {
				for i < len(p) && p[i] != '\n' {
					i++
				}
			}
			i++
			continue
		}
		switch c {
		case '\\':
			if i+1 >= len(p) {
				return pcreErr(i+1, `\ at end of pattern`)
			}
			d := p[i+1]
			switch {
			case d >= '1' && d <= '9':
				return translation{notEmulated: fmt.Sprintf("backreference \\%c", d)}
			case d == 'g' || d == 'k':
				return translation{notEmulated: fmt.Sprintf("backreference \\%c", d)}
			case strings.IndexByte("GKRXCNhHvVZ", d) >= 0:
				return translation{notEmulated: fmt.Sprintf("PCRE escape \\%c", d)}
			case d == 'e':
				b.WriteString(`\x1b`)
				i += 2
			case d == 'c':
				if i+2 >= len(p) {
					return pcreErr(i+2, `\c at end of pattern`)
				}
				x := p[i+2]
				if x >= 'a' && x <= 'z' {
					x -= 'a' - 'A'
				}
				fmt.Fprintf(&b, `\x%02x`, x^0x40)
				i += 3
			case d == 'o':
				return translation{notEmulated: `PCRE octal escape \o{...}`}
			case d == 'Q':
				end := strings.Index(p[i+2:], `\E`)
				lit := p[i+2:]
				next := len(p)
				if end >= 0 {
					lit = p[i+2 : i+2+end]
					next = i + 2 + end + 2
				}
				for k := 0; k < len(lit); k++ {
					goLiteral(&b, lit[k])
				}
				i = next
			case d == 'E':
				i += 2 // stray \E is ignored
				continue
			case d == 's':
				b.WriteString(`[\t\n\v\f\r ]`)
				i += 2
			case d == 'S':
				b.WriteString(`[^\t\n\v\f\r ]`)
				i += 2
			case (d == 'p' || d == 'P' || d == 'x') && i+2 < len(p) && p[i+2] == '{':
				end := strings.IndexByte(p[i+2:], '}')
				if end < 0 {
					return pcreErr(len(p), "missing terminating } in escape")
				}
				if v, err := strconv.ParseUint(p[i+3:i+2+end], 16, 32); d == 'x' && err == nil && v >= 0x80 && v <= 0xff {
					writeHighByte(&b, byte(v)) // a byte in non-UTF mode
				} else {
					b.WriteString(p[i : i+2+end+1])
				}
				i += 2 + end + 1
			case d == 'x':
				// \x with up to two hex digits is one byte (none: NUL).
				k, v := i+2, 0
				for ; k < len(p) && k < i+4 && isHexDigit(p[k]); k++ {
					v = v*16 + hexValue(p[k])
				}
				if v >= 0x80 {
					writeHighByte(&b, byte(v))
				} else {
					fmt.Fprintf(&b, `\x%02x`, v)
				}
				i = k
			case strings.IndexByte("dDwWbBAzpP0tnrfa", d) >= 0:
				b.WriteByte('\\')
				b.WriteByte(d)
				i += 2
			case isAlnum(d):
				return pcreErr(i+1, "unrecognized character follows \\")
			default:
				b.WriteByte('\\')
				b.WriteByte(d)
				i += 2
			}
			canRepeat = true
			continue
		case '[':
			end, tr := pcreClass(p, i)
			if tr.notEmulated != "" || tr.postfixErr != "" {
				return tr
			}
			writeMappedText(&b, p[i:end])
			i = end
			canRepeat = true
			continue
		case '(':
			rest := p[i+1:]
			switch {
			case strings.HasPrefix(rest, "?#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return pcreErr(len(p), "missing ) at end of (?# comment")
				}
				i += 1 + end + 1
				continue
			case strings.HasPrefix(rest, "?="), strings.HasPrefix(rest, "?!"):
				return translation{notEmulated: "lookahead assertion (" + rest[:2]}
			case strings.HasPrefix(rest, "?<="), strings.HasPrefix(rest, "?<!"):
				return translation{notEmulated: "lookbehind assertion (" + rest[:3]}
			case strings.HasPrefix(rest, "?>"):
				return translation{notEmulated: "atomic group (?>"}
			case strings.HasPrefix(rest, "?|"):
				return translation{notEmulated: "branch reset group (?|"}
			case strings.HasPrefix(rest, "?("):
				return translation{notEmulated: "conditional group (?("}
			case strings.HasPrefix(rest, "?R"), strings.HasPrefix(rest, "?&"), strings.HasPrefix(rest, "?P>"),
				len(rest) > 1 && rest[0] == '?' && (rest[1] >= '0' && rest[1] <= '9' || rest[1] == '+' || rest[1] == '-' && len(rest) > 2 && rest[2] >= '0' && rest[2] <= '9'):
				return translation{notEmulated: "recursion or subroutine call (" + rest[:2]}
			case strings.HasPrefix(rest, "?P="):
				return translation{notEmulated: "named backreference (?P="}
			case strings.HasPrefix(rest, "?C"):
				return translation{notEmulated: "callout (?C"}
			case strings.HasPrefix(rest, "*"):
				return translation{notEmulated: "backtracking control verb (*"}
			case strings.HasPrefix(rest, "?'"), strings.HasPrefix(rest, "?P<"),
				strings.HasPrefix(rest, "?<") && len(rest) > 2 && rest[2] != '=' && rest[2] != '!':
				// named group: (?'name' (?P<name> (?<name>
				skip := 2
				term := byte('>')
				if rest[1] == '\'' {
					term = '\''
				} else if rest[1] == 'P' {
					skip = 3
				}
				end := strings.IndexByte(rest[skip:], term)
				if end < 0 {
					return pcreErr(i+1+skip, "syntax error in subpattern name (missing terminator?)")
				}
				b.WriteString("(?P<" + rest[skip:skip+end] + ">")
				i += 1 + skip + end + 1
				depth++
				canRepeat = false
				continue
			case strings.HasPrefix(rest, "?"):
				// (?:...), (?flags), (?flags:...)
				j := 1
				for j < len(rest) && strings.IndexByte("imsxUJn-^", rest[j]) >= 0 {
					j++
				}
				if j >= len(rest) || (rest[j] != ')' && rest[j] != ':') {
					return translation{notEmulated: "group syntax (" + rest[:min(len(rest), j+1)]}
				}
				opts := rest[1:j]
				if strings.ContainsAny(opts, "xJn^") {
					return translation{notEmulated: "inline option (?" + opts + ")"}
				}
				b.WriteString("(" + rest[:j+1])
				i += 1 + j + 1
				if rest[j] == ':' {
					depth++
				}
				canRepeat = false
				continue
			}
			depth++
			b.WriteByte('(')
			i++
			canRepeat = false
			continue
		case ')':
			if depth == 0 {
				return pcreErr(i, "unmatched closing parenthesis")
			}
			depth--
			b.WriteByte(')')
			i++
			canRepeat = true
			continue
		case '*', '+', '?', '{':
			if c == '{' {
				if _, next, err := parseInterval(p, i); err == "" || err == "too-big" {
					if !canRepeat {
						return pcreErr(i, "quantifier does not follow a repeatable item")
					}
					if err == "too-big" {
						return translation{notEmulated: "repetition count above 1000 in " + p[i:next]}
					}
					b.WriteString(p[i:next])
					i = next
				} else {
					b.WriteString(`\{`)
					i++
					canRepeat = true
					continue
				}
			} else {
				if !canRepeat {
					return pcreErr(i, "quantifier does not follow a repeatable item")
				}
				b.WriteByte(c)
				i++
			}
			if i < len(p) && p[i] == '+' {
				return translation{notEmulated: "possessive quantifier " + string(p[i-1]) + "+"}
			}
			if i < len(p) && p[i] == '?' {
				b.WriteByte('?')
				i++
			}
			canRepeat = false
			continue
		case '|':
			b.WriteByte('|')
			i++
			canRepeat = false
			continue
		case '^', '$':
			b.WriteByte(c)
			i++
			canRepeat = false
			continue
		}
		if c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, c)
		} else if c >= 0x80 {
			writeHighByte(&b, c)
		} else {
			b.WriteByte(c)
		}
		i++
		canRepeat = true
	}
	if depth > 0 {
		return pcreErr(len(p), "missing closing parenthesis")
	}
	if anchored {
		b.WriteString(")")
	}
	return translation{goExpr: b.String()}
}

// pcreClass finds the end of a PCRE character class starting at p[i] == '[' and checks
// for escapes Go cannot express.
func pcreClass(p string, i int) (int, translation) {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	first := true
	for j < len(p) {
		c := p[j]
		switch {
		case c == ']' && !first:
			return j + 1, translation{}
		case c == '\\':
			if j+1 >= len(p) {
				return j, translation{postfixErr: fmt.Sprintf("error in regex at offset %d: \\ at end of pattern", j+1)}
			}
			d := p[j+1]
			if strings.IndexByte("hHvVRXNQEcego", d) >= 0 || d >= '1' && d <= '9' {
				return j, translation{notEmulated: fmt.Sprintf("PCRE escape \\%c in a character class", d)}
			}
			j += 2
		case c == '[' && j+1 < len(p) && (p[j+1] == ':' || p[j+1] == '.' || p[j+1] == '='):
			end := strings.Index(p[j+2:], string([]byte{p[j+1], ']'}))
			if end < 0 {
				j++
			} else {
				if p[j+1] != ':' {
					return j, translation{notEmulated: "POSIX collating element in a character class"}
				}
				j += 2 + end + 2
			}
		default:
			j++
		}
		first = false
	}
	return j, translation{postfixErr: fmt.Sprintf("error in regex at offset %d: missing terminating ] for character class", len(p))}
}
