package maincf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/postfixtls/postfixtls/policy/finding"
)

// Diagnostic codes. They are stable identifiers for programs; Message carries the words.
const (
	// CodeLeadingWhitespace: a logical line starts with whitespace (readlline.c); it is skipped.
	CodeLeadingWhitespace finding.Code = "leading-whitespace"
	// CodeNullByte: a NUL byte in the input; Postfix ignores the rest of that logical line.
	CodeNullByte finding.Code = "null-byte"
	// CodeDuplicateParameter: a main.cf name is assigned again with a different value; the last wins.
	CodeDuplicateParameter finding.Code = "duplicate-parameter"
	// CodeDuplicateService: two master.cf entries for the same service; master(8) uses the last.
	CodeDuplicateService finding.Code = "duplicate-service"
	// CodeBadDaemonOption: a master.cf daemon option the daemon would reject at start-up.
	CodeBadDaemonOption finding.Code = "bad-daemon-option"
	// CodeUndefinedParameter: $name of a parameter that has neither a value nor a default (postconf).
	CodeUndefinedParameter finding.Code = "undefined-parameter"
	// CodeUnusedParameter: a user-defined name=value that nothing references (postconf).
	CodeUnusedParameter finding.Code = "unused-parameter"
)

// Diagnostic is a warning Postfix would log while reading or checking the configuration
// (finding.Diagnostic, the one shape every reader of this module reports; Code is one of the
// Code* constants). The configuration is still usable; compare errors, which Postfix treats
// as fatal.
type Diagnostic = finding.Diagnostic

// ErrSyntax is matched (errors.Is) by every *SyntaxError.
var ErrSyntax = errors.New("configuration syntax error")

// SyntaxError is a fatal error in main.cf or master.cf: Postfix refuses to start with it.
type SyntaxError struct {
	File   string // file name as given to the parser
	Line   int    // first physical line of the offending logical line
	Reason string // Postfix's words, e.g. "missing '=' after attribute name"
	Text   string // the logical line (main.cf) or the offending token (master.cf)
	master bool
}

// Error formats the error as Postfix logs it: dict_load_fp's
// `<file>, line <n>: <reason>: "<text>"` for main.cf, master(8)'s
// `<file>: line <n>: <reason>` for master.cf.
func (e *SyntaxError) Error() string {
	if e.master {
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s, line %d: %s: \"%s\"", e.File, e.Line, e.Reason, e.Text)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Param is one name = value entry of main.cf.
type Param struct {
	Name     string
	Value    string // raw value: leading and trailing whitespace removed, $name not expanded
	File     string
	Line     int // first physical line of the entry
	LastLine int // last physical line (continuation lines)
}

// File is a parsed main.cf.
type File struct {
	entries     []Param        // every entry in file order, including overridden ones
	last        map[string]int // name -> index in entries of the effective entry
	order       []string       // names in order of first appearance
	Diagnostics []Diagnostic   // warnings, in file order
}

// Lookup returns the effective (last) entry for name.
func (f *File) Lookup(name string) (Param, bool) {
	if f == nil {
		return Param{}, false
	}
	i, ok := f.last[name]
	if !ok {
		return Param{}, false
	}
	return f.entries[i], true
}

// Params returns the effective entries, one per name, in order of first appearance.
func (f *File) Params() []Param {
	out := make([]Param, 0, len(f.order))
	for _, n := range f.order {
		out = append(out, f.entries[f.last[n]])
	}
	return out
}

// Entries returns every entry in file order, including those a later entry overrides.
func (f *File) Entries() []Param { return append([]Param(nil), f.entries...) }

// ParseFile reads main.cf from path. The context bounds the read.
func ParseFile(ctx context.Context, path string) (*File, error) {
	data, err := readFileCtx(ctx, path)
	if err != nil {
		return nil, err
	}
	return parseBytes(data, path)
}

func readFileCtx(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err // an *fs.PathError: "open <path>: <reason>" already
	}
	defer fh.Close()
	data, err := io.ReadAll(ctxReader{ctx, fh})
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, err // "read <path>: <reason>" already
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Parse reads main.cf text the way Postfix's dict_load_fp() does. filename is used in
// messages. A line without '=' is a *SyntaxError (fatal in Postfix); warnings go to
// File.Diagnostics.
func Parse(r io.Reader, filename string) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	return parseBytes(data, filename)
}

func parseBytes(data []byte, filename string) (*File, error) {
	f := &File{last: make(map[string]int)}
	lr := &lineReader{data: data, file: filename}
	for {
		ll, ok := lr.next()
		if !ok {
			break
		}
		text := cstr(ll.text)
		name, value, reason := splitNameval(text)
		if reason != "" {
			f.Diagnostics = append(f.Diagnostics, lr.diags...)
			return nil, &SyntaxError{File: filename, Line: ll.first, Reason: reason, Text: text}
		}
		p := Param{Name: name, Value: value, File: filename, Line: ll.first, LastLine: ll.last}
		if i, dup := f.last[name]; dup {
			if old := f.entries[i].Value; old != value {
				lr.diags = append(lr.diags, Diagnostic{
					Code: CodeDuplicateParameter, File: filename, Line: ll.first, Located: true,
					Message: fmt.Sprintf("%s, line %d: overriding earlier entry: %s=%s", filename, ll.first, name, old),
				})
			}
		} else {
			f.order = append(f.order, name)
		}
		f.last[name] = len(f.entries)
		f.entries = append(f.entries, p)
	}
	f.Diagnostics = append(f.Diagnostics, lr.diags...)
	return f, nil
}

// splitNameval is Postfix's split_nameval(): name is the text up to whitespace or '=',
// then optional whitespace, '=', and the value with surrounding whitespace removed.
func splitNameval(s string) (name, value, reason string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) || s[i] == '=' {
		return "", "", "missing attribute name"
	}
	np := i
	for i < len(s) && !isSpace(s[i]) && s[i] != '=' {
		i++
	}
	ep := i
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) || s[i] != '=' {
		return "", "", "missing '=' after attribute name"
	}
	i++
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := len(s)
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[np:ep], s[i:j], ""
}
