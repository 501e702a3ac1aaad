package maincf

import "github.com/postfixtls/postfixtls/internal/pfutil"

// isSpace is Postfix's ISSPACE: the C isspace() set restricted to ASCII.
func isSpace(c byte) bool { return pfutil.IsSpace(c) }

// isBlank reports membership of CHARS_SPACE (" \t\r\n"), the separator set that
// mac_expand, mystrtok and master.cf field splitting use.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// segment maps a byte offset in a logical line to the physical line it came from.
type segment = pfutil.Segment

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
		if s.Off > off {
			break
		}
		line = s.Line
	}
	return line
}

// cstr returns the text up to the first NUL byte: what Postfix's C string code sees.
func cstr(s string) string { return pfutil.CStr(s) }

// lineReader is Postfix's readllines() (util/readlline.c, ported in pfutil) over a byte
// slice, its warnings kept as Diagnostics.
type lineReader struct {
	data  []byte
	file  string
	diags []Diagnostic
	rd    *pfutil.Reader
}

// next returns the next non-empty logical line, or ok=false at end of input.
func (r *lineReader) next() (logicalLine, bool) {
	if r.rd == nil {
		r.rd = pfutil.NewReader(string(r.data), pfutil.Options{File: r.file, Segments: true, CutQuoteAtNull: true})
	}
	pl, ok := r.rd.Next(func(w pfutil.Warning) {
		d := Diagnostic{Code: CodeLeadingWhitespace, File: r.file, Line: w.Line, Message: w.Message}
		if w.Kind == pfutil.NullByte {
			// Postfix 3.9 and later warn; older releases silently use the text up to
			// the NUL byte. Either way the text after the NUL byte is ignored.
			d.Code, d.Located = CodeNullByte, true
		}
		r.diags = append(r.diags, d)
	})
	if !ok {
		return logicalLine{}, false
	}
	return logicalLine{text: pl.Text, first: pl.First, last: pl.Last, segs: pl.Segs}, true
}
