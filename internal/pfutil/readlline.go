package pfutil

import (
	"fmt"
	"strings"
)

// IsSpace is Postfix's ISSPACE(): C isspace() in the C locale.
func IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// CStr cuts s at the first NUL byte: the text Postfix's C string code sees.
func CStr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// Segment maps a byte offset in a logical line to the physical line it came from.
type Segment struct {
	Off  int // offset in Line.Text where the physical line's text starts
	Line int // physical line number, from 1
}

// Line is one logical line as readllines() returns it.
type Line struct {
	Text  string    // joined text, newlines removed, continuation whitespace kept
	First int       // line number of the first physical line
	Last  int       // line number of the last physical line read
	Segs  []Segment // where each physical line starts, with Options.Segments only
}

// Kind says which readllines() warning a Warning is.
type Kind int

// The warnings readllines() logs.
const (
	// NullByte is "text after null byte may be ignored" (Postfix 3.9 and later).
	NullByte Kind = iota + 1
	// LeadingWhitespace is "logical line must not start with whitespace".
	LeadingWhitespace
)

// Warning is one readllines() warning, in Postfix's words.
type Warning struct {
	Kind    Kind
	Line    int    // first physical line of the logical line
	Message string // the text Postfix logs, naming the file
}

// Options are the details in which the callers' readers differ.
type Options struct {
	// File names the input in warnings.
	File string
	// Segments records Line.Segs (it allocates).
	Segments bool
	// CutQuoteAtNull cuts the text quoted by the leading-whitespace warning at its
	// first NUL byte, as the C format "%.30s" does.
	CutQuoteAtNull bool
}

// Reader is a port of readllines() over an in-memory file. A logical line that is a
// single physical line is a substring of the data; only continued lines are copied.
type Reader struct {
	data   string
	opt    Options
	pos    int
	lineno int
	join   []byte
}

// NewReader returns a Reader over data.
func NewReader(data string, opt Options) *Reader {
	return &Reader{data: data, opt: opt}
}

// Next returns the next logical line, or ok=false at end of input. Each warning is
// passed to warn (when not nil) in the order Postfix logs them.
func (r *Reader) Next(warn func(Warning)) (Line, bool) {
	for {
		ll, null := r.readOne()
		if null && warn != nil {
			msg := fmt.Sprintf("%s, line %d: text after null byte may be ignored", r.opt.File, ll.Last)
			if ll.First != ll.Last {
				msg = fmt.Sprintf("%s, line %d-%d: text after null byte may be ignored", r.opt.File, ll.First, ll.Last)
			}
			warn(Warning{Kind: NullByte, Line: ll.First, Message: msg})
		}
		if ll.Text == "" {
			return Line{}, false
		}
		if !IsSpace(ll.Text[0]) {
			return ll, true
		}
		if warn != nil {
			shown := ll.Text
			if r.opt.CutQuoteAtNull {
				shown = CStr(shown)
			}
			if len(shown) > 30 {
				shown = shown[:30]
			}
			dots := ""
			if len(ll.Text) > 30 {
				dots = "..."
			}
			warn(Warning{Kind: LeadingWhitespace, Line: ll.First,
				Message: fmt.Sprintf("%s: logical line must not start with whitespace: \"%s%s\"", r.opt.File, shown, dots)})
		}
	}
}

// readOne is one call of readllines() up to (not including) the leading-whitespace
// check. null reports a NUL byte in any physical line read.
func (r *Reader) readOne() (ll Line, null bool) {
	var cur string // the logical line so far, while it is one physical line
	joined := false
	r.join = r.join[:0]
	length := 0
	for {
		start := length
		var seg string
		eof := false
		if i := strings.IndexByte(r.data[r.pos:], '\n'); i >= 0 {
			seg = r.data[r.pos : r.pos+i]
			r.pos += i + 1
		} else {
			seg = r.data[r.pos:]
			r.pos = len(r.data)
			eof = true
		}
		if !eof || len(seg) > 0 {
			r.lineno++
		}
		if strings.IndexByte(seg, 0) >= 0 {
			null = true
		}
		k := 0
		for k < len(seg) && IsSpace(seg[k]) {
			k++
		}
		if k < len(seg) && seg[k] != '#' {
			switch {
			case length == 0:
				cur = seg
			case !joined:
				r.join = append(r.join, cur...)
				r.join = append(r.join, seg...)
				joined = true
			default:
				r.join = append(r.join, seg...)
			}
			if r.opt.Segments {
				ll.Segs = append(ll.Segs, Segment{Off: start, Line: r.lineno})
			}
			length += len(seg)
		}
		if start == 0 {
			ll.First = r.lineno
		}
		if eof {
			break
		}
		if length > 0 {
			if r.pos >= len(r.data) {
				break // end of input is neither '#' nor whitespace
			}
			if nx := r.data[r.pos]; nx != '#' && !IsSpace(nx) {
				break
			}
		}
	}
	ll.Last = r.lineno
	if length == 0 {
		ll.Segs = nil
		return ll, null
	}
	if joined {
		ll.Text = string(r.join)
	} else {
		ll.Text = cur
	}
	return ll, null
}
