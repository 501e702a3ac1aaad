package tables

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// isSpace is C isspace() in the C locale, which Postfix's ISSPACE() uses.
func isSpace(c byte) bool { return pfutil.IsSpace(c) }

// logicalLine is one logical line as readllines() returns it.
type logicalLine struct {
	text  string // continuation lines appended without their newline, leading whitespace kept
	first int    // line number of the first physical line
	last  int    // line number of the last physical line
}

// lineReader is Postfix's readllines() (util/readlline.c, ported in pfutil) over an
// in-memory file, its warnings appended to *diags.
type lineReader struct {
	data  string
	file  string
	diags *[]Diagnostic
	utf8  bool
	rd    *pfutil.Reader
}

// next returns the next logical line. Single physical lines are substrings of data (no
// allocation); only continued lines are copied.
func (r *lineReader) next() (logicalLine, bool) {
	if r.rd == nil {
		r.rd = pfutil.NewReader(r.data, pfutil.Options{File: r.file})
	}
	pl, ok := r.rd.Next(r.warn)
	return logicalLine{text: pl.Text, first: pl.First, last: pl.Last}, ok
}

func (r *lineReader) warn(w pfutil.Warning) {
	if r.diags != nil {
		*r.diags = append(*r.diags, Diagnostic{File: r.file, Line: w.Line, Message: printableText(w.Message, r.utf8), Severity: Warning})
	}
}

// cstr cuts s at the first null byte, as C string handling does.
func cstr(s string) string { return pfutil.CStr(s) }

// trimRight removes trailing ISSPACE characters (Postfix trimblanks()).
func trimRight(s string) string {
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// trimLeft removes leading ISSPACE characters.
func trimLeft(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// splitKeyValue splits a logical line as dict_thash.c and postmap.c do: the key ends at the
// first whitespace outside "..." (a backslash protects the next character), the value is
// the rest, trimmed. The key keeps its quotes and backslashes. ok is false for unbalanced
// quotes.
func splitKeyValue(line string) (key, value string, ok bool) {
	line = cstr(line)
	i, ok := keyEnd(line, false)
	if !ok {
		return "", "", false
	}
	key = line[:i]
	if i < len(line) {
		i++
	}
	value = trimRight(trimLeft(line[i:]))
	return key, value, true
}

// keyEnd returns where a key that may hold "..." quotes (a backslash protects the next
// character) ends in s: at the first whitespace outside quotes (with eq, also at '='), or
// at the end of s. ok is false for an unbalanced '"'.
func keyEnd(s string, eq bool) (end int, ok bool) {
	inQuotes := false
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			i++ // skip the protected character
		case c == '"':
			inQuotes = !inQuotes
		case !inQuotes && (isSpace(c) || (eq && c == '=')):
			return i, true
		}
		i++
	}
	return min(i, len(s)), !inQuotes
}

// hasUpperASCII reports whether s contains an ASCII upper-case letter.
func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// lowerASCII is Postfix's lowercase(): ASCII letters only.
func lowerASCII(s string) string {
	if !hasUpperASCII(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Entry is one key/value pair of a source file.
type Entry struct {
	Key   string // as stored: folded when the table folds keys, quotes and backslashes kept
	Value string // the value, surrounding whitespace trimmed, never folded
	Line  int    // first line of the logical line
	Raw   string // the logical line
	Last  int    // last physical line of the logical line (continuation lines)
}

// Duplicate is a key that a source file holds twice: dict_thash (texthash:) refuses the whole
// table, postmap warns and keeps the first.
type Duplicate struct {
	// File is the source file, Key the key as written the second time.
	File string
	Key  string
	// First is the entry that came first; Line and Last the physical lines of the
	// repeated one, Raw its logical line.
	First      Entry
	Line, Last int
	Raw        string
}

// sourceFormat says which program's reading rules apply.
type sourceFormat struct {
	postmapBuild bool   // postmap building an indexed file (hash, lmdb, ...): message variants
	typ          string // postmap build: the indexed table type (names the duplicate warning)
	foldKeys     bool   // fold keys when storing
	dupWarn      bool   // duplicates are warnings (first wins); else the table becomes a surrogate
	utf8Check    bool   // UTF-8 active: reject non-UTF-8 lines (postmap.c, dict_thash.c)
	utf8Fold     bool   // UTF-8 active: fold non-ASCII keys too (dict_utf8 casefolds)
}

// SourceTable is a table read from a Postfix source file: a texthash: table, or the
// source file of an indexed table (hash:, lmdb:, ...). Lookups need no locking and do not
// allocate when the key is found without case folding.
type SourceTable struct {
	name      string // "texthash:/etc/postfix/tls_policy"
	file      string
	note      string
	fold      bool // fold the query key (FOLD_FIX on a fixed table)
	utf8      bool
	entries   []Entry
	index     map[string]int32
	diags     []Diagnostic
	surrogate *surrogate
	dups      []Duplicate
}

// maxDuplicates bounds the duplicates a table records (the first ones are enough to fix).
const maxDuplicates = 16

// Duplicates returns the repeated keys of the source file, in file order (at most 16):
// for texthash: the one that made the table unavailable, for postmap's view every one.
func (t *SourceTable) Duplicates() []Duplicate { return t.dups }

// ParseSource reads a Postfix source file (postmap(1) / texthash format) from r. file is
// the path used in messages, spec the table name for Source.Table ("" means
// "texthash:"+file). The returned table behaves as the texthash: table smtp(8) would open
// with these options (with DuplicateWarn: as postmap -s would show it).
func ParseSource(r io.Reader, file, spec string, opt Options) (*SourceTable, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if spec == "" {
		spec = "texthash:" + file
	}
	return parseSourceString(string(data), file, spec, "", thashFormat(opt), opt), nil
}

// thashFormat is dict_thash.c: with UTF-8 active it drops non-UTF-8 lines, and it stores
// through the dict_utf8 wrapper, which casefolds non-ASCII keys when folding is on.
func thashFormat(opt Options) sourceFormat {
	return sourceFormat{foldKeys: opt.FoldFixed, dupWarn: opt.DuplicateWarn, utf8Check: opt.UTF8, utf8Fold: opt.UTF8}
}

func parseSourceString(data, file, spec, note string, f sourceFormat, opt Options) *SourceTable {
	t := &SourceTable{name: spec, file: file, note: note, fold: opt.FoldFixed, utf8: opt.UTF8}
	est := strings.Count(data, "\n") + 1
	if est > 1<<20 {
		est = est * 9 / 10
	}
	t.entries = make([]Entry, 0, est)
	t.index = make(map[string]int32, est)
	lr := lineReader{data: data, file: file, diags: &t.diags, utf8: opt.UTF8}
	for {
		ll, ok := lr.next()
		if !ok {
			break
		}
		if f.utf8Check && !isASCII(cstr(ll.text)) && !utf8.ValidString(cstr(ll.text)) {
			t.warn(ll.first, fmt.Sprintf("%s, line %d: non-UTF-8 input \"%s\" -- ignoring this line", file, ll.first, cstr(ll.text)))
			continue
		}
		key, value, ok := splitKeyValue(ll.text)
		if !ok {
			t.warn(ll.first, fmt.Sprintf("%s, line %d: unbalanced '\"' in '%s' -- ignoring this line", file, ll.first, cstr(ll.text)))
			continue
		}
		if key == "" || value == "" {
			if f.postmapBuild {
				t.warn(ll.first, fmt.Sprintf("%s, line %d: expected format: key whitespace value", file, ll.first))
			} else {
				t.warn(ll.first, fmt.Sprintf("%s, line %d: expected format: key whitespace value -- ignoring this line", file, ll.first))
			}
			continue
		}
		if key[len(key)-1] == ':' {
			t.warn(ll.first, fmt.Sprintf("%s, line %d: record is in \"key: value\" format; is this an alias file?", file, ll.first))
		}
		asWritten := key
		if f.foldKeys {
			key = foldKey(key, f.utf8Fold)
		}
		if i, dup := t.index[key]; dup {
			if len(t.dups) < maxDuplicates {
				t.dups = append(t.dups, Duplicate{File: file, Key: asWritten, First: t.entries[i], Line: ll.first, Last: ll.last, Raw: cstr(ll.text)})
			}
			switch {
			case f.postmapBuild:
				t.warn(ll.first, DuplicateWarning(f.typ, file, ll.first, key))
			case f.dupWarn:
				// dict_thash.c names the key as written, before dict_ht folds it.
				t.warn(ll.first, DuplicateWarning("texthash", file, ll.first, asWritten))
			default:
				reason := DuplicateWarning("texthash", file, ll.first, asWritten)
				t.diags = append(t.diags, Diagnostic{File: file, Line: ll.first, Message: printableText(reason, t.utf8), Severity: Error})
				t.surrogate = &surrogate{name: spec, reason: reason}
				t.entries, t.index = nil, nil
				return t
			}
			continue
		}
		t.index[key] = int32(len(t.entries))
		t.entries = append(t.entries, Entry{Key: key, Value: value, Line: ll.first, Raw: cstr(ll.text), Last: ll.last})
	}
	return t
}

func (t *SourceTable) warn(line int, msg string) {
	t.diags = append(t.diags, Diagnostic{File: t.file, Line: line, Message: printableText(msg, t.utf8), Severity: Warning})
}

// Name returns the table's "type:name".
func (t *SourceTable) Name() string { return t.name }

// Diagnostics returns the warnings Postfix would log while reading the file.
func (t *SourceTable) Diagnostics() []Diagnostic { return t.diags }

// Entries returns the stored entries in file order (duplicates and skipped lines are not
// included). The slice must not be modified.
func (t *SourceTable) Entries() []Entry { return t.entries }

// Len returns the number of stored entries.
func (t *SourceTable) Len() int { return len(t.entries) }

// Lookup finds key as dict_get() on this table would.
func (t *SourceTable) Lookup(ctx context.Context, key string) (Result, error) {
	if t.surrogate != nil {
		return Result{}, t.surrogate.err(key)
	}
	var (
		i     int32
		found bool
	)
	if t.utf8 && !isASCII(key) {
		if !utf8.ValidString(key) {
			// dict_utf8_lookup: warning, and the key "does not exist".
			return Result{Warnings: []string{printableText(fmt.Sprintf("%s: non-UTF-8 key \"%s\": malformed UTF-8 or invalid codepoint", t.name, key), true)}}, nil
		}
		if t.fold {
			key = foldUTF8(key)
		}
		i, found = t.index[key]
	} else if t.fold && hasUpperASCII(key) {
		var buf [256]byte
		b := buf[:0]
		if len(key) > len(buf) {
			b = make([]byte, 0, len(key))
		}
		for j := 0; j < len(key); j++ {
			c := key[j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		i, found = t.index[string(b)]
	} else {
		i, found = t.index[key]
	}
	if !found {
		return Result{}, nil
	}
	e := &t.entries[i]
	if t.utf8 && !isASCII(e.Value) && !utf8.ValidString(e.Value) {
		return Result{}, &TableError{Table: t.name, Key: key, Config: true, Messages: []string{printableText(
			fmt.Sprintf("%s: key \"%s\": non-UTF-8 value \"%s\": malformed UTF-8 or invalid codepoint", t.name, key, e.Value), true)}}
	}
	return Result{Found: true, Value: e.Value, Source: Source{
		Table: t.name, File: t.file, Line: e.Line, Key: e.Key, Raw: e.Raw, Note: t.note}}, nil
}

// foldKey folds a key as a fixed-string table with DICT_FLAG_FOLD_FIX does: with UTF-8
// active, dict_utf8 casefolds non-ASCII keys; otherwise lowercase() folds ASCII only.
func foldKey(key string, utf8Active bool) string {
	if utf8Active && !isASCII(key) {
		return foldUTF8(key)
	}
	return lowerASCII(key)
}

// printableText is what Postfix's logging (msg_output.c: printable(text, '?')) does to a
// message: non-printable characters become '?'. With util_utf8_enable (smtputf8_enable)
// valid UTF-8 stays; without it every non-ASCII byte is replaced.
func printableText(s string, utf8OK bool) string { return pfutil.Printable(s, utf8OK) }
