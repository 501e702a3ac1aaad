package lint

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/finding"

	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/match"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// keyHash identifies a folded key in the table-wide set (128 bits: a collision among a
// million keys has a probability of about 1e-27).
type keyHash [2]uint64

// tableRun is the state of one table being linted.
type tableRun struct {
	l      *linter
	spec   string
	typ    string
	name   string // file name as in the specification (used in Postfix's messages)
	file   string // file name as opened
	title  string
	client policy.Client
	config bool // named by main.cf (the next-hop checks apply)

	seeds [2]maphash.Seed
	keys  *keySet              // every key, with its first line
	dots  map[keyHash]struct{} // the keys that start with "."

	bare     []bareCandidate // bare domains whose ".domain" may appear later (with their text)
	bareMore []bareHash      // the same beyond maxBareKeys, without text

	// compiled is the compiled file smtp(8) reads (indexed tables whose compiled file
	// opens), and compiledKeys its keys (hashed) with their values' hashes: every source
	// row is looked up there and removed; what is left is only in the compiled file.
	compiled     *tables.CompiledTable
	compiledKeys map[keyHash]uint64

	cache map[string]*parsedEntry // parsed values without warnings (key-independent)
	ec    policy.EntryContext
	ecFix policy.EntryContext // the same, never written after the start: read by the entry checks while ec.Key changes
	pend  []pending           // errors of the current chunk, sorted before writing
}

// pending is an error of the current chunk. Findings of one line are ordered as Postfix
// logs them: the reader's warnings, then the duplicate, then the entry's warnings.
type pending struct {
	Finding
	rank int
}

type bareCandidate struct {
	bareHash
	key, value string       // value: the row's value, whitespace collapsed
	want       policy.Level // the level the row gives its destination
}

type bareHash struct {
	dot  keyHash
	line int32
}

const maxBareKeys = 1000

func (t *tableRun) hash(s string) keyHash {
	return keyHash{maphash.String(t.seeds[0], s), maphash.String(t.seeds[1], s)}
}

// dotHash is hash("." + k) without building the string.
func (t *tableRun) dotHash(k string) keyHash {
	var h keyHash
	for i := range h {
		var mh maphash.Hash
		mh.SetSeed(t.seeds[i])
		mh.WriteByte('.')
		mh.WriteString(k)
		h[i] = mh.Sum64()
	}
	return h
}

// lintTable lints one table of a maps parameter.
func (l *linter) lintTable(spec, title string, c policy.Client, config bool) {
	typ, name, _ := strings.Cut(spec, ":")
	if typ == "proxy" {
		// proxymap(8) reads the same table.
		l.lintTable(name, title, c, config)
		return
	}
	t := &tableRun{l: l, spec: spec, typ: typ, name: name, title: title, client: c, config: config,
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, keys: newKeySet(0), dots: map[keyHash]struct{}{},
		cache: map[string]*parsedEntry{}}
	t.ec = policy.EntryContext{Version: l.v, MapsTitle: title, LoadTrustAnchors: l.loadTrustAnchors,
		DisableSTSMXPatterns: !l.stsPattern[c], SMTPUTF8Disabled: !l.utf8}
	t.ecFix = t.ec
	t.ecFix.LoadTrustAnchors = l.loadTrustAnchorsFix // the consumer's own cache
	_, indexed := tables.CompiledSuffix(typ)
	if typ != "texthash" && !indexed {
		l.lintOtherTable(spec, title)
		return
	}
	t.file = name
	if !filepath.IsAbs(t.file) && config {
		t.file = filepath.Join(l.queueDir, t.file)
	}
	opt := l.tableOpt
	if !config {
		opt.BaseDir = ""
	}
	// Open-time problems (missing file, missing or stale compiled file), in Postfix's words:
	// open the table on a file system that shows the real files but an empty source.
	probe := opt
	if !config && !filepath.IsAbs(name) {
		if wd, err := os.Getwd(); err == nil {
			probe.BaseDir = wd
			t.file = filepath.Join(wd, name)
		}
	}
	probe.FS = probeFS{source: fsName(t.file)}
	pt, err := tables.Open(l.ctx, spec, probe)
	if err != nil {
		l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: name, Severity: SeverityWarning, Code: CodeTableNotEmulated, Message: err.Error()}, Fix: "keep the source file beside the compiled table (postmap reads it) so it can be linted"})
		return
	}
	usable := true
	for _, d := range pt.Diagnostics() {
		f := Finding{Diagnostic: finding.Diagnostic{File: nonEmpty(d.File, name), Line: d.Line, Severity: SeverityError, Code: CodeTableSyntax, Message: d.Message}}
		if d.Severity >= tables.Error {
			f.Code = CodeTableUnavailable
			f.Message = l.unavailable(pt, d)
			f.Fix = "create the file"
			if indexed {
				f.Fix = "run postmap " + spec
			}
			f.Fix += "; until then smtp(8) defers every message with \"4.7.5 client TLS configuration problem\""
			usable = false
			if indexed && config {
				f.withEdits("", l.prove(c, checkHop, policy.LevelNotSet, finding.Fix{Kind: finding.FixCommand, Value: "postmap " + spec,
					Note: "builds the compiled table Postfix reads; until then smtp(8) defers every message with \"4.7.5 client TLS configuration problem\""}), f.Fix)
			}
		} else if strings.Contains(d.Message, "is older than source file") {
			f.Code = CodeTableStale
			f.Fix = "run postmap " + spec + " (Postfix answers from the stale compiled file)"
			if config {
				f.withEdits("", l.prove(c, checkHop, policy.LevelNotSet, finding.Fix{Kind: finding.FixCommand, Value: "postmap " + spec,
					Note: "Postfix answers from the stale compiled file until then"}), f.Fix)
			}
		}
		l.rep.add(f)
	}
	if !usable && typ == "texthash" {
		return
	}
	if indexed && usable {
		// The compiled file as smtp(8) opens it, to compare with the source's rows.
		co := probe
		co.FS, co.ReadSource = l.tableOpt.FS, false
		ct, err := tables.Open(l.ctx, spec, co)
		if c, ok := ct.(*tables.CompiledTable); ok && err == nil {
			defer c.Close()
			keys := map[keyHash]uint64{}
			if err := c.Scan(func(k, v string) error { keys[t.hash(k)] = t.hash(v)[0]; return nil }); err != nil {
				l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: name, Severity: SeverityWarning, Code: CodeCompiledDiffers,
					Message: fmt.Sprintf("%s cannot be read whole to compare it with the source: %v", c.File(), err)}, Fix: "run postmap " + spec})
			} else {
				t.compiled, t.compiledKeys = c, keys
			}
		} else if err == nil {
			// A compiled file that is not a database of its type: a surrogate in smtp(8).
			for _, d := range ct.Diagnostics() {
				if d.Severity >= tables.Error {
					l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: name, Severity: SeverityError, Code: CodeTableUnavailable,
						Message: l.unavailable(ct, d)}, Fix: "run postmap " + spec + "; until then smtp(8) defers every message with \"4.7.5 client TLS configuration problem\" (§9.19)"})
				}
			}
		}
	}
	fh, err := os.Open(t.file)
	if err != nil {
		if usable {
			l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: name, Severity: SeverityWarning, Code: CodeTableNotEmulated, Message: err.Error()}})
		}
		return
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil {
		t.keys = newKeySet(int(min(st.Size()/24+16, 1<<24)))
	}
	serr := t.stream(fh)
	if serr != nil {
		l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: name, Severity: SeverityWarning, Code: CodeTableNotEmulated, Message: "reading stopped: " + serr.Error()}})
	}
	t.finishBare()
	if t.compiledKeys != nil && serr == nil {
		t.finishCompiled()
	}
}

// lintOtherTable opens a table that is not a source file (regexp:, pcre:, inline:, static:,
// socketmap:, ...) for Postfix's open-time warnings.
func (l *linter) lintOtherTable(spec, title string) {
	tb, err := tables.Open(l.ctx, spec, l.tableOpt)
	if err != nil {
		l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: spec, Severity: SeverityWarning, Code: CodeTableNotEmulated, Message: err.Error()}, Fix: "lint cannot judge this table; check its answers with postmap -q"})
		return
	}
	if c, ok := tb.(io.Closer); ok {
		defer c.Close()
	}
	for _, d := range tb.Diagnostics() {
		f := Finding{Diagnostic: finding.Diagnostic{File: nonEmpty(d.File, spec), Line: d.Line, Severity: SeverityError, Code: CodeTableSyntax, Message: d.Message}}
		if d.Severity >= tables.Error {
			f.Code = CodeTableUnavailable
			f.Message = l.unavailable(tb, d)
		}
		l.rep.add(f)
	}
	l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: spec, Severity: SeverityNote, Code: CodePatternTableNotLinted, Message: title + ": the entries of " + strings.SplitN(spec, ":", 2)[0] + ": tables are not linted one by one (only what Postfix reports when it opens them)"}, Fix: "check the answers with postmap -q KEY " + spec})
}

// unavailable is what smtp(8) logs for every lookup in a table that could not be opened
// (dict_surrogate: "<type>:<name> is unavailable. <reason>"): the table's own lookup error.
func (l *linter) unavailable(tb tables.Table, d tables.Diagnostic) string {
	var te *tables.TableError
	if _, err := tb.Lookup(l.ctx, "lint"); errors.As(err, &te) && len(te.Messages) > 0 {
		return te.Messages[0]
	}
	return d.Message
}

// isBoundary reports whether a physical line always starts a new logical line: its first
// byte is not whitespace (readllines()' ISSPACE), not '#' (comment lines can sit inside a
// multi-line entry) and not NUL.
func isBoundary(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	c := line[0]
	return !(pfutil.IsSpace(c) || c == '#' || c == 0)
}

// parsedChunk is one chunk read by the tables package.
type parsedChunk struct {
	st     *tables.SourceTable
	parsed []*parsedEntry // parsed value of each of st.Entries()
	offset int            // physical lines before the chunk
	err    error
}

// chunkSource is the name the chunks are parsed under (replaced by the real name in
// messages).
const chunkSource = "/lint-chunk/source"

// stream reads the table in chunks of whole logical lines. A second goroutine cuts and
// parses the chunks (the tables package's reader, so every message is Postfix's) while this
// one lints the previous chunk.
func (t *tableRun) stream(r io.Reader) error {
	ch := make(chan parsedChunk, 1)
	stop := make(chan struct{})
	finished := make(chan error, 1)
	go func() {
		defer close(ch)
		finished <- t.produce(r, ch, stop)
	}()
	defer func() {
		close(stop)
		for range ch { // let the producer finish
		}
	}()
	for pc := range ch {
		if pc.err != nil {
			t.l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: pc.offset + 1, Severity: SeverityWarning, Code: CodeTableNotEmulated, Message: pc.err.Error()}})
			continue
		}
		t.chunk(pc.st, pc.parsed, pc.offset)
	}
	return <-finished
}

// produce cuts the input into chunks and parses each; it runs on its own goroutine and
// touches nothing but its arguments and the read-only table options.
func (t *tableRun) produce(r io.Reader, ch chan<- parsedChunk, stop <-chan struct{}) error {
	opt := t.l.tableOpt
	opt.BaseDir = ""
	opt.DuplicateWarn = true // texthash: see every duplicate; smtp(8)'s verdict is in the fix
	ctx := t.l.ctx
	spec := t.typ + ":" + chunkSource
	send := func(data []byte, offset int) bool {
		o := opt
		o.FS = chunkFS{name: fsName(chunkSource), data: data}
		pc := parsedChunk{offset: offset}
		tb, err := tables.Open(ctx, spec, o)
		if err != nil {
			pc.err = err
		} else if st, ok := tb.(*tables.SourceTable); ok {
			pc.st = st
			pc.parsed = t.parseEntries(st)
		} else {
			pc.err = fmt.Errorf("%s: unexpected table type %T", t.spec, tb)
		}
		select {
		case ch <- pc:
			return true
		case <-stop:
			return false
		}
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var buf []byte
	lines := 0      // physical lines read so far
	chunkStart := 0 // physical lines before the current chunk
	nul := false    // a NUL byte since the last line that starts a logical line
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			// Postfix reports a NUL byte in a comment line with the logical line that
			// follows, so a chunk never ends right after a line with a NUL byte.
			boundary := isBoundary(line)
			if boundary && !nul && len(buf) >= t.l.o.ChunkSize {
				if !send(buf, chunkStart) {
					return ctx.Err()
				}
				buf = make([]byte, 0, min(t.l.o.ChunkSize, 1<<20)+8192) // the parsed chunk may still refer to the old one
				chunkStart = lines
			}
			if boundary {
				nul = false
			}
			if bytes.IndexByte(line, 0) >= 0 {
				nul = true
			}
			buf = append(buf, line...)
			lines++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if len(buf) > 0 {
		send(buf, chunkStart)
	}
	return nil
}

// chunk lints one parsed chunk whose first physical line is offset+1.
func (t *tableRun) chunk(st *tables.SourceTable, parsed []*parsedEntry, offset int) {
	t.pend = t.pend[:0]
	ents := st.Entries()
	for i := range ents {
		e := ents[i]
		e.Line += offset
		t.entry(e, parsed[i])
	}
	for _, d := range st.Diagnostics() {
		t.diagnostic(d, chunkSource, offset)
	}
	sort.SliceStable(t.pend, func(i, j int) bool {
		a, b := t.pend[i], t.pend[j]
		return a.Line < b.Line || a.Line == b.Line && a.rank < b.rank
	})
	for _, p := range t.pend {
		t.l.rep.add(p.Finding)
	}
}

// diagnostic turns one table-reader warning of a chunk into a finding with the real file
// name and line number.
func (t *tableRun) diagnostic(d tables.Diagnostic, src string, offset int) {
	line := d.Line
	if line > 0 {
		line += offset
	}
	msg := shiftLines(d.Message, src+", line ", offset)
	msg = strings.ReplaceAll(msg, src, t.name)
	f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: line, Severity: SeverityError, Code: CodeTableSyntax, Message: msg}}
	switch {
	case strings.Contains(msg, "duplicate entry: \""):
		key := msg[strings.Index(msg, "duplicate entry: \"")+len("duplicate entry: \"") : len(msg)-1]
		if t.typ == "texthash" {
			key = pfutil.LowerASCII(key) // the message names the key as written
		}
		first, _ := t.keys.get(t.hash(key))
		t.duplicate(&f, int(first))
	case strings.Contains(msg, "expected format"):
		f.Fix = "write \"key value\" on one line (a continuation line must start with whitespace)"
	case strings.Contains(msg, "unbalanced"):
		f.Fix = "close the \" quote in the key"
	case strings.Contains(msg, "must not start with whitespace"):
		f.Fix = "start the first entry at column 1"
	case strings.Contains(msg, "alias file"):
		f.Fix = "remove the ':' after the key"
	default:
		f.Fix = "fix the line; Postfix skips it"
	}
	rank := 0
	if f.Code == CodeDuplicateKey {
		rank = 1
	}
	t.pend = append(t.pend, pending{f, rank})
}

// shiftLines adds offset to the line numbers ("N" or "N-M") that follow each occurrence of
// prefix in msg.
func shiftLines(msg, prefix string, offset int) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, prefix)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+len(prefix)])
		msg = msg[i+len(prefix):]
		for first := true; ; first = false {
			j := 0
			for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
				j++
			}
			if j == 0 {
				break
			}
			n, err := strconv.Atoi(msg[:j])
			if err != nil {
				break
			}
			b.WriteString(strconv.Itoa(n + offset))
			msg = msg[j:]
			if !first || !strings.HasPrefix(msg, "-") {
				break
			}
			b.WriteByte('-')
			msg = msg[1:]
		}
	}
}

// duplicate fills in a duplicate-key finding (§1.1); the message stays Postfix's.
func (t *tableRun) duplicate(f *Finding, first int) {
	f.Code = CodeDuplicateKey
	where := ""
	if first > 0 {
		where = " (first at line " + strconv.Itoa(first) + ")"
	}
	if t.typ == "texthash" {
		f.Fix = "remove or merge the duplicate" + where + ": smtp(8) opens texthash tables without duplicate tolerance, so " + t.spec + " is unavailable and every destination defers with \"4.7.5 client TLS configuration problem\""
	} else {
		f.Fix = "remove or merge the duplicate" + where + ", then run postmap " + t.spec + ": postmap kept the first entry and ignored this one"
	}
}

// parseEntries parses the values of a chunk as smtp(8) would (on the producer goroutine,
// which alone uses t.cache, t.ec and, through the trust-anchor loader, the linter's
// trust-anchor cache).
func (t *tableRun) parseEntries(st *tables.SourceTable) []*parsedEntry {
	ents := st.Entries()
	out := make([]*parsedEntry, len(ents))
	var fresh []parsedEntry
	for i, e := range ents {
		pe := t.cache[e.Value]
		if pe == nil {
			if fresh == nil {
				fresh = make([]parsedEntry, 0, len(ents)-i)
			}
			t.ec.Key = e.Key
			fresh = append(fresh, compact(policy.ParseEntry(e.Value, t.ec)))
			pe = &fresh[len(fresh)-1]
			if !pe.Valid && len(pe.Warnings) == 0 && len(pe.TAFiles) > 0 {
				pe.Problem = t.l.taReason(pe.TAFiles[len(pe.TAFiles)-1])
			}
			if len(pe.Warnings) == 0 && len(t.cache) < 4096 {
				t.cache[e.Value] = pe
			}
		}
		out[i] = pe
	}
	return out
}

// parsedEntry is what the checks need of a policy.Entry (a third of its size: a million
// of them pass through memory).
type parsedEntry struct {
	Level       policy.Level
	Valid       bool
	HasMatchRaw bool // match= was given (even when it left no names)
	Warnings    []string
	// Problem is policy.Entry.Problem, or, for an entry that a tafile= file (the last of
	// TAFiles) made invalid without a warning of Postfix's own, what was wrong with the file
	// (dane.TrustAnchorError.Reason).
	Problem  string
	Match    []string
	TAFiles  []string
	Bad      policy.Token // the token that made the entry invalid
	PrevText string       // the token before it
}

func compact(p policy.Entry) parsedEntry {
	c := parsedEntry{Level: p.Level, Valid: p.Valid, HasMatchRaw: len(p.MatchRaw) > 0, Warnings: p.Warnings,
		Problem: p.Problem, Match: p.Match, TAFiles: p.TAFiles}
	if p.BadToken >= 0 && p.BadToken < len(p.Tokens) {
		c.Bad = p.Tokens[p.BadToken]
		if p.BadToken > 0 {
			c.PrevText = p.Tokens[p.BadToken-1].Text
		}
	}
	return c
}

// entry lints one table entry with its parsed value.
func (t *tableRun) entry(e tables.Entry, pe *parsedEntry) {
	h := t.hash(e.Key)
	if first, dup := t.keys.insert(h, int32(e.Line)); dup {
		// A duplicate across chunks: Postfix's words, as the reader would have said them.
		asWritten := e.Key
		if len(e.Raw) >= len(e.Key) && strings.EqualFold(e.Raw[:len(e.Key)], e.Key) {
			asWritten = e.Raw[:len(e.Key)]
		}
		named := e.Key // postmap names the key as stored, dict_thash as written
		if t.typ == "texthash" {
			named = asWritten
		}
		shown := pfutil.Printable(named, t.l.utf8)
		if shown != e.Key && shown != asWritten {
			first = 0 // as for a duplicate inside one chunk, whose logged key cannot be looked up
		}
		msg := pfutil.Printable(tables.DuplicateWarning(t.typ, t.name, e.Line, named), t.l.utf8)
		f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityError, Message: msg}}
		t.duplicate(&f, int(first))
		t.pend = append(t.pend, pending{f, 1})
		return
	}
	if strings.HasPrefix(e.Key, ".") {
		t.dots[h] = struct{}{}
	}
	if t.compiledKeys != nil {
		t.compare(e, h)
	}

	t.entryErrors(e, pe)
	t.keyAdvice(e, pe)
	if pe.Valid {
		t.entryAdvice(e, pe)
	}
}

// compare looks the source row up in the compiled file smtp(8) reads: a row that is not
// there, or that answers another value, is the stale-compiled-file mistake (the source was
// edited, or the compiled file was built from another file, and postmap was not run).
func (t *tableRun) compare(e tables.Entry, h keyHash) {
	v, ok := t.compiledKeys[h]
	if ok && v == t.hash(e.Value)[0] {
		delete(t.compiledKeys, h)
		return
	}
	delete(t.compiledKeys, h)
	db := t.compiled.File()
	msg := fmt.Sprintf("key \"%s\" is not in %s, which smtp(8) reads: it does not find this row", e.Key, db)
	if ok {
		r, err := t.compiled.Lookup(t.l.ctx, e.Key)
		if err != nil || !r.Found {
			return
		}
		msg = fmt.Sprintf("key \"%s\": %s, which smtp(8) reads, answers \"%s\", not this row's \"%s\"", e.Key, db, r.Value, e.Value)
	}
	t.pend = append(t.pend, pending{Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityWarning,
		Code: CodeCompiledDiffers, Message: pfutil.Printable(msg, t.l.utf8)}, Fix: "run postmap " + t.spec + " (then postfix reload)"}, 3})
}

// finishCompiled reports the keys that only the compiled file holds (rows deleted from the
// source, or a compiled file built from another file), naming the first few.
func (t *tableRun) finishCompiled() {
	if len(t.compiledKeys) == 0 {
		return
	}
	var names []string
	_ = t.compiled.Scan(func(k, v string) error {
		if _, left := t.compiledKeys[t.hash(k)]; left && len(names) < 5 {
			names = append(names, strconv.Quote(k))
		}
		return nil
	})
	more := ""
	if n := len(t.compiledKeys) - len(names); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	msg := fmt.Sprintf("%s, which smtp(8) reads, holds %d keys that the source file does not: %s%s", t.compiled.File(), len(t.compiledKeys), strings.Join(names, ", "), more)
	t.l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: t.name, Severity: SeverityWarning, Code: CodeCompiledDiffers,
		Message: pfutil.Printable(msg, t.l.utf8)}, Fix: "run postmap " + t.spec + " (then postfix reload)"})
}

// entryErrors reports what Postfix logs for the entry (§1.4), classified.
func (t *tableRun) entryErrors(e tables.Entry, pe *parsedEntry) {
	for _, w := range pe.Warnings {
		f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityError, Code: CodeInvalidPolicy, Message: w}, Text: e.Raw}
		if pe.Valid {
			f.Code = CodeIgnoredAttribute
			empty := policy.Entry{Level: policy.LevelNotSet, BadToken: -1}
			var edits []finding.Fix
			if v, err := empty.Edit(policy.RowEdit{Level: policy.None, Version: t.l.v}); err == nil {
				ent := t.reparse(e.Key, e.Value)
				edits = t.l.prove(t.client, e.Key, policy.None, finding.Fix{Kind: finding.FixTableRow, Table: t.spec, Key: e.Key, Value: v,
					Old: ent.TokenText(), Note: "the attributes after \"none\" are ignored"})
			}
			f.withEdits("", edits, "remove the attributes after \"none\"; they are ignored")
		} else if strings.HasSuffix(w, pe.Problem) {
			f.Fix, f.Edits = t.fixFor(e, pe)
			switch {
			case strings.HasPrefix(pe.Problem, "invalid attribute name"):
				f.Code = CodeUnknownAttribute
			case strings.Contains(pe.Problem, "trust anchor"):
				f.Code = CodeTAFileUnreadable
			}
		}
		t.pend = append(t.pend, pending{f, 2})
	}
	if !pe.Valid && len(pe.Warnings) == 0 {
		// A tafile without any PEM object: Postfix logs nothing but the entry is invalid.
		f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityError, Code: CodeInvalidPolicy, Message: fmt.Sprintf("%s, next-hop destination \"%s\": the entry is invalid (Postfix logs only \"TLS policy lookup for %s/<host>: client TLS configuration problem\")", t.title, e.Key, e.Key)}, Text: e.Raw}
		switch {
		case pe.Problem == "malformed PEM object":
			file := pe.TAFiles[len(pe.TAFiles)-1]
			f.Code = CodeTAFileUnreadable
			f.Message += fmt.Sprintf(": the tafile= file %s holds a malformed PEM object: Postfix stops reading at it even when a later object is fine", file)
			f.Fix = "repair or remove the malformed PEM object in " + file
		case len(pe.TAFiles) > 0:
			f.Code = CodeTAFileUnreadable
			f.Message += ": a tafile= file holds no PEM object"
			f.Fix = "put the trust-anchor certificates or public keys (PEM) in " + strings.Join(pe.TAFiles, ", ")
		}
		t.pend = append(t.pend, pending{f, 2})
	}
}

// attributeSince gives the release that introduced a policy attribute (§1.3).
var attributeSince = map[string]policy.Version{
	"servername": policy.V(3, 4, 0), "connection_reuse": policy.V(3, 4, 0), "enable_rpk": policy.V(3, 9, 0),
	"policy_type": policy.V(3, 10, 0), "policy_domain": policy.V(3, 10, 0), "policy_ttl": policy.V(3, 10, 0),
	"policy_string": policy.V(3, 10, 0), "mx_host_pattern": policy.V(3, 10, 0), "policy_failure": policy.V(3, 10, 0),
}

// maxCorrections is the number of corrected rows proposed for an invalid entry (as
// Diagnose proposes).
const maxCorrections = 2

// fixFor proposes a fix for an invalid entry from its bad token: the advice in words and
// the corrected rows, from the one implementation check and explain use too
// (policy.Entry.CorrectionFixes), each proven.
func (t *tableRun) fixFor(e tables.Entry, pe *parsedEntry) (string, []finding.Fix) {
	advice := t.fixAdvice(e, pe)
	ec := t.ecFix // parsing the next chunk writes t.ec.Key concurrently
	ec.Key = e.Key
	ent := policy.ParseEntry(e.Value, ec)
	n := maxCorrections
	unknown := ent.LevelUnknown()
	if unknown {
		n = len(policy.CandidateLevels())
	}
	edits := t.l.proveN(n, t.client, e.Key, policy.LevelNotSet, ent.CorrectionFixes(t.spec, e.Key, ec)...)
	switch {
	case len(edits) > 0 && unknown:
		// Candidates, not a correction: the level meant cannot be told.
		advice += "; candidate rows, strongest first (the level you meant is unknown): " + render("", edits, false)
	case len(edits) > 0:
		advice += "; corrected row: " + render("", edits, false)
	}
	return advice, edits
}

// fixAdvice says in words how to repair an invalid entry.
func (t *tableRun) fixAdvice(e tables.Entry, pe *parsedEntry) string {
	const defers = "; until then smtp(8) defers mail for this destination with 4.7.5"
	bad := pe.Bad
	p := pe.Problem
	switch {
	case strings.HasPrefix(p, "invalid attribute name"):
		name := strings.ToLower(bad.Name)
		if name == "" {
			name = strings.ToLower(strings.SplitN(bad.Text, "=", 2)[0])
		}
		if since, ok := attributeSince[name]; ok && t.l.v.Compare(since) < 0 {
			return fmt.Sprintf("%q needs Postfix %s or later (emulating %s): upgrade, or remove it%s", name, since, t.l.v, defers)
		}
		if name == "connection_reuse" {
			return "connection_reuse= is broken in Postfix 3.4.0-3.4.13 and 3.5.0-3.5.3: upgrade, or remove it" + defers
		}
		if name == "tls_connection_reuse" {
			return "the attribute is connection_reuse=yes" + defers
		}
		return "remove the unknown attribute (attribute names: ciphers, protocols, exclude, match, tafile, servername, connection_reuse, enable_rpk)" + defers
	case strings.HasPrefix(p, "invalid security level"):
		levelNames := configurable()
		if best, ok := policy.NearestLevel(bad.Text); ok {
			return fmt.Sprintf("did you mean %q? levels: %s%s", best, strings.Join(levelNames, ", "), defers)
		}
		return "use one of: " + strings.Join(levelNames, ", ") + defers
	case strings.Contains(p, "missing '=' after attribute name"):
		switch {
		case bad.Text == "#" || strings.HasPrefix(bad.Text, "#"):
			return "remove the comment: '#' starts a comment only at the beginning of a line" + defers
		case bad.Text == "=" || bad.Text == "match" || bad.Text == "ciphers" || bad.Text == "protocols" || bad.Text == "exclude" || bad.Text == "tafile" || bad.Text == "servername":
			return "write name=value without spaces around '='" + defers
		case strings.HasPrefix(strings.ToLower(pe.PrevText), "match="):
			return "separate match names with ':' (fingerprints with '|'), not ',' or spaces: commas and spaces split attributes" + defers
		case strings.HasPrefix(bad.Text, "{"):
			return "brace groups { name = value } need Postfix 3.10 or later" + defers
		}
		return "every attribute after the level must be name=value" + defers
	case strings.Contains(p, "invalid at security level"):
		return "match= applies only at fingerprint, verify and secure; tafile= only at verify and secure" + defers
	case strings.Contains(p, "specified multiple times"):
		return "give the attribute once" + defers
	case strings.Contains(p, "has empty value"):
		return "give a value, or remove the attribute" + defers
	case strings.Contains(p, "specifies an invalid hostname"):
		return "servername= must be a host name, or the words hostname / nexthop in lower case" + defers
	case strings.Contains(p, "built-in policy has unexpected attribute"):
		return "TLSRPT attributes need policy_type= (they come from an MTA-STS plugin)" + defers
	case strings.Contains(p, "trust anchor"):
		return "make the tafile= path readable by Postfix (relative paths are relative to the queue directory)" + defers
	case strings.Contains(p, "no fingerprints to match"):
		return "give at least one well-formed fingerprint (hex pairs, optionally colon-separated) in match=" + defers
	}
	return "fix the entry" + defers
}

// keyAdvice checks the key against the next hops Postfix can look up (§2.1, §2.2).
func (t *tableRun) keyAdvice(e tables.Entry, pe *parsedEntry) {
	l := t.l
	k := e.Key
	// Each key finding proposes the row under the key Postfix looks up (the old row
	// removed with it), its value as written, proven for the new key.
	add := func(sev Severity, code Code, msg, newKey, note string) {
		if l.rep.admit(t.name, code, sev) {
			f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: sev, Code: code, Message: msg}, Text: e.Raw}
			f.withEdits("", t.renameFixes(e, pe, newKey, note), "key the row "+newKey+" ("+note+") once its value works: no value lint could prove for it")
			l.rep.keep(f)
		}
	}
	switch {
	case strings.HasPrefix(k, "\ufeff"):
		// An editor's UTF-8 byte-order mark: Postfix reads it as part of the first key.
		add(SeverityWarning, CodeKeyBOM, fmt.Sprintf("the key is %q: the file starts with a UTF-8 byte-order mark, which Postfix reads as part of the first key, so no destination will match it", k),
			strings.TrimPrefix(k, "\ufeff"), "the key without the byte-order mark (save the file without a BOM)")
		return
	case strings.IndexFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd }) >= 0:
		if l.rep.admit(t.name, CodeKeyControl, SeverityWarning) {
			l.rep.keep(Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityWarning, Code: CodeKeyControl,
				Message: fmt.Sprintf("the key %q holds a control character or a byte that is not UTF-8: no recipient domain or next hop contains one, so it never matches", k)},
				Text: e.Raw, Fix: "retype the key"})
		}
		return
	case strings.HasPrefix(k, "*."):
		add(SeverityWarning, CodeWildcardKey, fmt.Sprintf("key %q is a literal string, not a wildcard: no next hop is ever %q", k, k),
			"."+k[2:], "a leading dot matches every subdomain")
		return
	case len(k) > 1 && strings.HasSuffix(k, ".") && !strings.HasSuffix(k, ".]"):
		add(SeverityWarning, CodeTrailingDotKey, fmt.Sprintf("key %q ends with a dot: recipient domains and next hops are written without it, so it never matches", k),
			strings.TrimSuffix(k, "."), "the key without the trailing dot")
		return
	}
	if c := k[0]; (c >= '0' && c <= '9' || strings.IndexByte(k, ':') >= 0) && net.ParseIP(k) != nil {
		add(SeverityWarning, CodeIPKeyUnbracketed, fmt.Sprintf("key %q is an address without brackets: an address next hop is written and looked up as \"[%s]\"", k, k),
			"["+k+"]", "an address next hop is looked up with brackets")
		return
	}
	if !t.config {
		return
	}
	if strings.HasPrefix(k, ".") || l.hopKey[k] {
		return
	}
	h, err := policy.ParseNextHop(t.client, k, policy.NextHopOptions{DefaultService: "smtp"})
	if err != nil {
		return
	}
	d := strings.ToLower(h.Domain)
	hops := l.hops[d]
	if len(hops) == 0 {
		return
	}
	bracketOrPort := h.Key != h.Domain
	for _, ch := range hops {
		// A "[host]" key while the configuration uses "[host]:587" (§9.22), or a bare
		// "host" key while it uses "[host]": the key is never looked up for that relay.
		if bracketOrPort || strings.HasPrefix(ch.key, "[") {
			add(SeverityWarning, CodeKeyNeverMatches,
				fmt.Sprintf("key %q never matches the next hop %q configured by %s: brackets and port are part of the lookup key", k, ch.key, ch.origin),
				ch.key, "keyed exactly like the configured next hop")
			return
		}
	}
}

// entryAdvice checks a valid entry's meaning.
func (t *tableRun) entryAdvice(e tables.Entry, pe *parsedEntry) {
	l := t.l
	c := t.client
	g := l.global[c]
	switch pe.Level {
	case policy.None:
		if g > policy.None && l.rep.admit(t.name, CodeNoneOverridesGlobal, SeverityNote) {
			f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityNote, Code: CodeNoneOverridesGlobal, Message: fmt.Sprintf("\"none\" for %q overrides the global level %s: mail to it goes in plaintext even if the server offers STARTTLS", e.Key, levelWord(g))}, Text: e.Raw}
			f.withEdits("keep it only if the server's TLS is broken; otherwise", t.deleteFix(e, "mail to "+e.Key+" gets the global level "+g.String()), "remove the row")
			l.rep.keep(f)
		}
	case policy.May:
		if g.TLSRequired() && l.rep.admit(t.name, CodeWeakerThanGlobal, SeverityNote) {
			f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityNote, Code: CodeWeakerThanGlobal, Message: fmt.Sprintf("\"may\" for %q overrides the global level %s: a table hit beats the global level even when weaker", e.Key, levelWord(g))}, Text: e.Raw}
			f.withEdits("keep it on purpose, or", t.deleteFix(e, "mail to "+e.Key+" gets the global level "+g.String()), "remove the row to get the global level")
			l.rep.keep(f)
		}
	case policy.Dane, policy.DaneOnly:
		code := CodeDANEWithoutDNSSEC
		if pe.Level == policy.DaneOnly {
			code = CodeDANEOnlyWithoutDNSSEC
		}
		// Admitted before the finding (and its proof) is made: a million dane rows pass here.
		if l.daneProblem[c][pe.Level] != "" && l.rep.admit(t.name, code, SeverityWarning) {
			if f, ok := l.daneFinding(c, pe.Level, t.name, e.Line, e.Raw, fmt.Sprintf("%q has", e.Key), e.Key, t.bound(pe.Level)); ok {
				l.rep.keep(f)
			}
		}
	case policy.Fingerprint:
		for _, v := range pe.Match {
			t.l.checkPinLength(c, v, t.name, e.Line, e.Raw)
		}
		if !pe.HasMatchRaw && len(l.fpMatch[c]) == 0 {
			// Postfix's own words (smtp_tls_policy.c); the destination defers 4.7.5.
			// No row can be proposed: lint has never seen the server's certificate, and a
			// row without a fingerprint is this very error.
			t.l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityError, Code: CodeFingerprintNoPins,
				Message: fmt.Sprintf("nexthop domain %s: configured at fingerprint security level, but with no fingerprints to match. (delivery defers: client TLS configuration problem)", e.Key)},
				Text: e.Raw, Fix: fmt.Sprintf("add match= with the %s fingerprint of the server's certificate or public key to the row (openssl x509 -noout -fingerprint -%s), or set %s_tls_fingerprint_cert_match", fingerprint.DisplayName(nonEmpty(l.digest[c], "sha256")), nonEmpty(l.digest[c], "sha256"), c)})
			return
		}
	case policy.Secure:
		match := pe.Match
		if !pe.HasMatchRaw {
			match = l.secureMatch[c]
		}
		if containsFold(match, "hostname") && pe.HasMatchRaw && l.rep.admit(t.name, CodeHostnameInSecure, SeverityWarning) {
			f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityWarning, Code: CodeHostnameInSecure, Message: "\"hostname\" in a secure match list accepts any certificate for the MX host name, which an attacker who forges the (unsigned) MX lookup chooses"}, Text: e.Raw}
			ed := policy.RowEdit{Level: policy.LevelNotSet, Remove: []string{"match"}}
			if rest := withoutWord(match, "hostname"); len(rest) > 0 {
				ed = policy.RowEdit{Level: policy.LevelNotSet, Set: []policy.Attribute{{Name: "match", Value: strings.Join(rest, ":")}}}
			}
			f.withEdits("", t.editFixes(e, pe.Level, rowEditFix{edit: ed, note: "\"hostname\" removed; list the MX names or their domain (.mx-provider.example) too if the MX hosts are elsewhere, or use dane"}),
				"list the MX names or their domain instead (match=nexthop:dot-nexthop:.mx-provider.example), or use dane")
			l.rep.keep(f)
		}
		if l.o.LookupMX != nil && !pe.HasMatchRaw && !strings.HasPrefix(e.Key, ".") && !strings.ContainsAny(e.Key, "[]:") {
			t.checkMX(e, pe, match)
		}
	}
	if pe.Level.TLSRequired() && pe.Level != g && t.bareDomain(e.Key) {
		bh := bareHash{dot: t.dotHash(e.Key), line: int32(e.Line)}
		if len(t.bare) < maxBareKeys {
			t.bare = append(t.bare, bareCandidate{bareHash: bh, key: e.Key, value: strings.Join(strings.Fields(e.Value), " "), want: t.l.want(c, pe.Level)})
		} else {
			t.bareMore = append(t.bareMore, bh)
		}
	}
}

// bareDomain reports a multi-label domain key without leading dot that gets parent-domain
// lookups: a syntactically valid host name (§2.2). Keys with brackets, a port and the like
// are skipped before the (then failing, and allocating) host-name check.
func (t *tableRun) bareDomain(k string) bool {
	return !strings.HasPrefix(k, ".") && strings.Contains(k, ".") && !strings.ContainsAny(k, "[]:/ *\"\\") &&
		policy.ValidHostname(k, t.l.utf8)
}

// finishBare reports bare-domain keys whose ".domain" twin is nowhere in the table
// (§2.2, §9.21): mail to user@sub.domain gets the global level.
func (t *tableRun) finishBare() {
	g := t.l.global[t.client]
	cnt := t.l.rep.counter(t.name, CodeBareDomainKey)
	for _, b := range t.bare {
		if _, ok := t.dots[b.dot]; ok || !t.l.rep.admitCount(cnt, SeverityNote) {
			continue
		}
		f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: int(b.line), Severity: SeverityNote, Code: CodeBareDomainKey, Message: fmt.Sprintf("key %q covers mail to %s only; mail to its subdomains gets the global level %s (only \".%s\" matches subdomains)", b.key, b.key, levelWord(g), b.key)}, Text: b.key + " " + b.value}
		f.withEdits("", t.subdomainFix(b), "add a \"."+b.key+"\" row if subdomains are meant, once the value works: lint could prove no row with this value for a subdomain")
		t.l.rep.keep(f)
	}
	for _, b := range t.bareMore {
		if _, ok := t.dots[b.dot]; ok || !t.l.rep.admitCount(cnt, SeverityNote) {
			continue
		}
		t.l.rep.keep(Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: int(b.line), Severity: SeverityNote, Code: CodeBareDomainKey, Message: "a bare domain key does not cover its subdomains"}, Fix: "add the matching \".domain\" row if subdomains are meant"})
	}
	t.bare, t.bareMore = nil, nil
}

// bound is the level a fix for a row of this table must keep: the row's own, when the
// table is configured (a table given only to lint decides nothing in the configuration).
func (t *tableRun) bound(lv policy.Level) policy.Level {
	if !t.config {
		return policy.LevelNotSet
	}
	return lv
}

// subdomainFix is the ".domain" row for a bare-domain row: its value as written (every
// attribute kept), proven for a subdomain.
func (t *tableRun) subdomainFix(b bareCandidate) []finding.Fix {
	key := "." + b.key
	ent := t.reparse(key, b.value)
	v, err := ent.Edit(policy.RowEdit{Level: policy.LevelNotSet, Version: t.l.v})
	if err != nil {
		return nil
	}
	return t.l.prove(t.client, key, b.want, finding.Fix{Kind: finding.FixTableRow, Table: t.spec, Key: key, Value: v,
		Note: "add this row if subdomains are meant: the same value, every attribute kept"})
}

// withoutWord returns list without the items equal to w (ASCII case-insensitively).
func withoutWord(list []string, w string) []string {
	var out []string
	for _, s := range list {
		if !pfutil.StrcaseEq(s, w) {
			out = append(out, s)
		}
	}
	return out
}

// checkMX looks up the MX hosts of a secure row's domain (only with Options.LookupMX) and
// reports those the match list excludes (§2.3, §9.43).
func (t *tableRun) checkMX(e tables.Entry, pe *parsedEntry, match []string) {
	a := t.l.lookupMX(e.Key)
	if a.err != nil {
		t.l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityNote, Code: CodeDNSLookupFailed, Message: fmt.Sprintf("MX lookup for %s failed: %v", e.Key, a.err)}, Text: e.Raw})
		return
	}
	var out []string
	for _, h := range a.hosts {
		if !secureAccepts(t.l.v, match, e.Key, h) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return
	}
	suffix := registrable(out[0])
	f := Finding{Diagnostic: finding.Diagnostic{File: t.name, Line: e.Line, Severity: SeverityWarning, Code: CodeSecureMXOutsideDomain, Message: fmt.Sprintf("secure's match list %s accepts only certificates for %s and its subdomains, but the MX hosts %s are elsewhere: unless their certificates also name %s, delivery defers with \"Server certificate not verified\"",
		strings.Join(match, ":"), e.Key, strings.Join(out, ", "), e.Key)}, Text: e.Raw}
	// The row itself with the MX provider's domain added to its match list (every other
	// attribute kept), or at verify, which checks the MX host name the lookup gave.
	list := strings.Join(append(append([]string(nil), match...), "."+suffix), ":")
	f.withEdits("", t.editFixes(e, pe.Level,
		rowEditFix{edit: policy.RowEdit{Level: policy.LevelNotSet, Set: []policy.Attribute{{Name: "match", Value: list}}}, note: "also accepts certificates for the MX provider's domain ." + suffix},
		rowEditFix{edit: policy.RowEdit{Level: policy.Verify}, note: "checks the MX host name", downgrade: "trusts the (possibly forged) MX lookup for the names it checks"}),
		fmt.Sprintf("add .%s to the row's match list (match=%s), or use verify", suffix, list))
	t.l.rep.add(f)
}

// secureAccepts reports whether a match list accepts a server by its host name alone: whether
// a certificate that names exactly the host passes Postfix's peer-name check (package match,
// as the emulated release matches).
func secureAccepts(v policy.Version, list []string, nexthop, host string) bool {
	opt := match.Options{WildcardMultipleLabels: true}
	if v.Before(3, 6, 0) {
		opt.Mode = match.Legacy
	}
	refs, _ := match.References(list, nexthop, host, opt)
	return match.Check(&x509.Certificate{DNSNames: []string{host}}, refs, opt).Matched
}

// registrable guesses the provider domain of an MX host: its last two labels.
func registrable(h string) string {
	labels := strings.Split(h, ".")
	if len(labels) <= 2 {
		return h
	}
	return strings.Join(labels[len(labels)-2:], ".")
}

// fsName turns a path into an fs.FS name (no leading slash), as the tables package does.
func fsName(name string) string {
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "/")
}

// memFile is a read-only in-memory fs.File.
type memFile struct {
	*bytes.Reader
	name string
	mod  time.Time
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return path.Base(f.name) }
func (f *memFile) Size() int64                { return f.Reader.Size() }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return f.mod }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }

// chunkFS serves one chunk as the source file; every other name (the compiled file beside
// it) exists and is empty.
type chunkFS struct {
	name string
	data []byte
}

func (c chunkFS) Open(name string) (fs.File, error) {
	if name == c.name {
		return &memFile{Reader: bytes.NewReader(c.data), name: name}, nil
	}
	if strings.HasPrefix(name, c.name) {
		return &memFile{Reader: bytes.NewReader(nil), name: name}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// probeFS shows the real files, except that the source file reads as empty (with its real
// modification time), so opening a table reports only the open-time problems.
type probeFS struct{ source string }

func (p probeFS) Open(name string) (fs.File, error) {
	f, err := os.Open("/" + name)
	if err != nil {
		return nil, err
	}
	if name != p.source {
		return f, nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return &memFile{Reader: bytes.NewReader(nil), name: name, mod: st.ModTime()}, nil
}
