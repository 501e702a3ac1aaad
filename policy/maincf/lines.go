package maincf

import (
	"bytes"
	"fmt"
	"strings"
)

// isSpace is Postfix's ISSPACE: the C isspace() set restricted to ASCII.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isBlank reports membership of CHARS_SPACE (" \t\r\n"), the separator set that
// mac_expand, mystrtok and master.cf field splitting use.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// segment maps a byte offset in a logical line to the physical line it came from.
type segment struct {
	off  int
	line int
}

// logicalLine is one result of readllines(): the joined text (newlines removed,
// leading whitespace of continuation lines kept), the first and last physical line,
// and where each physical line starts inside the text.
type logicalLine struct {
	text  string
	first int
	last  int
	segs  []segment
}

// lineAt returns the physical line that holds byte offset off of the logical line.
func (l *logicalLine) lineAt(off int) int {
	line := l.first
	for _, s := range l.segs {
		if s.off > off {
			break
		}
		line = s.line
	}
	return line
}

// cstr returns the text up to the first NUL byte: what Postfix's C string code sees.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// lineReader is a port of Postfix's readllines() (util/readlline.c) over a byte slice.
type lineReader struct {
	data   []byte
	pos    int
	lineno int
	file   string
	diags  []Diagnostic
}

// next returns the next non-empty logical line, or ok=false at end of input.
func (r *lineReader) next() (logicalLine, bool) {
	for {
		ll, gotNull := r.readOne()
		if gotNull {
			// Postfix 3.9 and later warn; older releases silently use the text up to
			// the NUL byte. Either way the text after the NUL byte is ignored.
			var msg string
			if ll.first == r.lineno {
				msg = fmt.Sprintf("%s, line %d: text after null byte may be ignored", r.file, r.lineno)
			} else {
				msg = fmt.Sprintf("%s, line %d-%d: text after null byte may be ignored", r.file, ll.first, r.lineno)
			}
			r.diags = append(r.diags, Diagnostic{Code: CodeNullByte, File: r.file, Line: ll.first, Message: msg, located: true})
		}
		if ll.text != "" && isSpace(ll.text[0]) {
			shown := cstr(ll.text)
			if len(shown) > 30 {
				shown = shown[:30]
			}
			more := ""
			if len(ll.text) > 30 {
				more = "..."
			}
			r.diags = append(r.diags, Diagnostic{
				Code: CodeLeadingWhitespace, File: r.file, Line: ll.first,
				Message: fmt.Sprintf("%s: logical line must not start with whitespace: \"%s%s\"", r.file, shown, more),
			})
			continue
		}
		if ll.text == "" {
			return logicalLine{}, false
		}
		ll.last = r.lineno
		return ll, true
	}
}

// readOne implements one call of readllines() up to (not including) the
// leading-whitespace check.
func (r *lineReader) readOne() (logicalLine, bool) {
	var buf []byte
	var segs []segment
	first := r.lineno
	gotNull := false
	for {
		start := len(buf)
		eof := false
		rest := r.data[r.pos:]
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i]
			r.pos += i + 1
		} else {
			line = rest
			r.pos = len(r.data)
			eof = true
		}
		if bytes.IndexByte(line, 0) >= 0 {
			gotNull = true
		}
		buf = append(buf, line...)
		if !eof || len(line) > 0 {
			r.lineno++
		}
		cp := start
		for cp < len(buf) && isSpace(buf[cp]) {
			cp++
		}
		if cp == len(buf) || buf[cp] == '#' {
			buf = buf[:start]
		} else {
			segs = append(segs, segment{off: start, line: r.lineno})
		}
		if start == 0 {
			first = r.lineno
		}
		if eof {
			break
		}
		if len(buf) > 0 {
			if r.pos >= len(r.data) {
				break // EOF is neither '#' nor whitespace
			}
			if nx := r.data[r.pos]; nx != '#' && !isSpace(nx) {
				break
			}
		}
	}
	return logicalLine{text: string(buf), first: first, segs: segs}, gotNull
}
