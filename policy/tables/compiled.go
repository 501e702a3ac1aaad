package tables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// Rebuilt is what fs.FileInfo.Sys() returns, on an Options.FS, for a compiled file that
// stands for the one postmap(1) would build from the source file now (package policy's
// "postmap" fix). Such a table is read from its source file, which is what that compiled
// file would hold.
type Rebuilt struct{}

// kvFile is an open compiled file: get returns the data stored under a key, exactly as
// stored (with the trailing null byte postmap added, if any).
type kvFile interface {
	get(key []byte) ([]byte, bool, error)
}

// CompiledTable is an indexed table (hash:, btree:, cdb:, lmdb:) read from the compiled file
// that Postfix reads: one lookup reads a few pages of the file, whatever its size. Lookups
// are safe for concurrent use. The file stays open until Close (or until the table is
// garbage-collected).
type CompiledTable struct {
	name   string // "hash:/etc/postfix/tls_policy"
	file   string // the compiled file as Postfix names it ("/etc/postfix/tls_policy.db")
	note   string
	fold   bool
	utf8   bool
	db     kvFile
	closer io.Closer
	diags  []Diagnostic
}

// Name returns the table's "type:name".
func (t *CompiledTable) Name() string { return t.name }

// Diagnostics returns what Postfix logs when it opens the table (the "database ... is older
// than source file" warning).
func (t *CompiledTable) Diagnostics() []Diagnostic { return t.diags }

// File returns the compiled file the table reads.
func (t *CompiledTable) File() string { return t.file }

// Close closes the compiled file.
func (t *CompiledTable) Close() error {
	if t.closer == nil {
		return nil
	}
	return t.closer.Close()
}

// Lookup finds key as dict_get() on the compiled table would: the key folded under
// FoldFixed (casefolded with UTF8), searched first with the trailing null byte that
// postmap stores by default for these types (DICT_FLAG_TRY1NULL), then without it
// (DICT_FLAG_TRY0NULL, as postmap -N and cdb: store it); the value is cut at its first
// null byte, as Postfix copies it into a C string.
func (t *CompiledTable) Lookup(ctx context.Context, key string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if t.utf8 && !isASCII(key) {
		if !utf8.ValidString(key) {
			return Result{Warnings: []string{printableText(fmt.Sprintf("%s: non-UTF-8 key \"%s\": malformed UTF-8 or invalid codepoint", t.name, key), true)}}, nil
		}
		if t.fold {
			key = foldUTF8(key)
		}
	} else if t.fold {
		key = lowerASCII(key)
	}
	k := make([]byte, len(key)+1)
	copy(k, key)
	v, found, err := t.db.get(k)
	if err == nil && !found {
		v, found, err = t.db.get(k[:len(key)])
	}
	if err != nil {
		return Result{}, &TableError{Table: t.name, Key: key, Err: err, Messages: []string{
			printableText(fmt.Sprintf("error reading %s: %v", t.file, err), t.utf8)}}
	}
	if !found {
		return Result{}, nil
	}
	value := cstr(string(v))
	if t.utf8 && !isASCII(value) && !utf8.ValidString(value) {
		return Result{}, &TableError{Table: t.name, Key: key, Config: true, Messages: []string{printableText(
			fmt.Sprintf("%s: key \"%s\": non-UTF-8 value \"%s\": malformed UTF-8 or invalid codepoint", t.name, key, value), true)}}
	}
	return Result{Found: true, Value: value, Source: Source{
		Table: t.name, File: t.file, Key: key, Raw: key + " " + value, Note: t.note}}, nil
}

// childIndex searches an internal page of a B-tree (Berkeley DB btree, LMDB) whose n
// separators are in key order, the first one standing for minus infinity: it returns the
// index of the last separator <= key, whose child holds key if any does.
func childIndex(n int, sep func(i int) ([]byte, error), key []byte) (int, error) {
	if n == 0 {
		return 0, errors.New("corrupt B-tree: empty internal page")
	}
	lo, hi := 1, n // the first index > 0 whose separator > key
	for lo < hi {
		m := (lo + hi) / 2
		k, err := sep(m)
		if err != nil {
			return 0, err
		}
		if bytes.Compare(k, key) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1, nil
}

// openRandom opens a file for reading at offsets: the operating system's file, or an
// Options.FS file that can ReadAt (os.DirFS and fstest.MapFS files can); any other FS file
// is read into memory.
func openRandom(opt Options, name string) (io.ReaderAt, int64, io.Closer, error) {
	var (
		f   fs.File
		err error
	)
	if opt.FS != nil {
		f, err = opt.FS.Open(fsName(name))
	} else {
		f, err = os.Open(name)
	}
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	if ra, ok := f.(io.ReaderAt); ok {
		return ra, st.Size(), f, nil
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, nil, err
	}
	return bytesReaderAt(b), int64(len(b)), nil, nil
}

// strerror is an error whose text is the C library's or the database library's own words,
// as Postfix prints them after "open database X: ".
type strerror string

func (e strerror) Error() string { return string(e) }

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// compiledOpenError says how Postfix fails to open a compiled file that is not in the
// expected format: a surrogate reason, or (cdb:) a fatal error.
type compiledOpenError struct {
	fatal  bool
	reason string
}

// openCompiled opens the compiled file dbFile (dbName as Postfix names it) of a typ: table.
// It returns *errUnsupported for a file this package cannot read, *compiledOpenError for
// one Postfix cannot open either.
func openCompiled(opt Options, typ, dbFile, dbName string) (kvFile, io.Closer, error) {
	ra, size, closer, err := openRandom(opt, dbFile)
	if err != nil {
		return nil, nil, &compiledOpenError{reason: fmt.Sprintf("open database %s: %s", dbName, pfutil.Strerror(err))}
	}
	var db kvFile
	switch typ {
	case "hash", "btree":
		db, err = openBDB(ra, size, typ == "hash")
	case "cdb":
		db, err = openCDB(ra, size)
	case "lmdb":
		db, err = openLMDB(ra, size)
	default:
		err = &errUnsupported{fmt.Sprintf("the %s: format is not read by this package", typ)}
	}
	if err == nil {
		return db, closer, nil
	}
	if closer != nil {
		closer.Close()
	}
	var un *errUnsupported
	switch {
	case errors.As(err, &un):
		return nil, nil, err
	case errors.Is(err, errCDBInit):
		return nil, nil, &compiledOpenError{fatal: true, reason: fmt.Sprintf("dict_cdbq_open: unable to init %s: %v", dbName, err)}
	case errors.Is(err, errBDBInvalid), errors.Is(err, errLMDBInvalid), errors.Is(err, errLMDBVersion), errors.Is(err, errLMDBEmpty):
		return nil, nil, &compiledOpenError{reason: fmt.Sprintf("open database %s: %v", dbName, err)}
	default:
		return nil, nil, &compiledOpenError{reason: fmt.Sprintf("open database %s: %s", dbName, pfutil.Strerror(err))}
	}
}

func (e *compiledOpenError) Error() string { return e.reason }
