package tables

import (
	"bytes"
	"context"
	"encoding/binary"
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

// readPage returns n bytes at off: a slice of a file in memory, else a copy read with ReadAt.
func readPage(r io.ReaderAt, off int64, n int) ([]byte, error) {
	if b, ok := r.(bytesReaderAt); ok {
		if off < 0 || off+int64(n) > int64(len(b)) {
			return nil, io.ErrUnexpectedEOF
		}
		return b[off : off+int64(n) : off+int64(n)], nil
	}
	buf := make([]byte, n)
	if got, err := r.ReadAt(buf, off); got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

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

// kvScanner is a compiled file whose every record can be read in file order.
type kvScanner interface {
	scan(fn func(key, value []byte) error) error
}

// Scan calls fn for every key and value the compiled file holds, in file order, as
// postmap stored them less the trailing null byte (the key is not folded again). It is
// for comparing the compiled file with its source (lint); fn's slices are valid only
// during the call.
func (t *CompiledTable) Scan(fn func(key, value string) error) error {
	sc, ok := t.db.(kvScanner)
	if !ok {
		return errors.New("this compiled format cannot be scanned")
	}
	return sc.scan(func(k, v []byte) error {
		if n := len(k); n > 0 && k[n-1] == 0 {
			k = k[:n-1]
		}
		return fn(string(k), cstr(string(v)))
	})
}

// scan reads every pair of a Berkeley DB file: the hash pages' or the btree leaf pages'.
func (f *bdbFile) scan(fn func(key, value []byte) error) error {
	for p := uint32(1); p <= f.lastPgno; p++ {
		pg, err := f.page(p)
		if err != nil {
			return err
		}
		typ := pg[25]
		if !(f.hash && (typ == pHASH || typ == pHASHU)) && !(!f.hash && typ == pLBTREE) {
			continue
		}
		inp, err := f.entries(pg)
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(inp); i += 2 {
			var k, v []byte
			if f.hash {
				if k, err = f.hashItem(pg, inp, i); err == nil {
					v, err = f.hashItem(pg, inp, i+1)
				}
			} else {
				var del bool
				if k, del, err = f.bkeydata(pg, inp[i]); err == nil && !del {
					v, _, err = f.bkeydata(pg, inp[i+1])
				} else if del {
					continue
				}
			}
			if err != nil {
				return err
			}
			if err := fn(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// scan reads the records of a cdb file: from the end of the header to the first hash table.
func (f *cdbFile) scan(fn func(key, value []byte) error) error {
	end := int64(f.size)
	for i := int64(0); i < 256; i++ {
		pos, _, err := f.u32pair(i * 8)
		if err != nil {
			return err
		}
		end = min(end, int64(pos))
	}
	for off := int64(2048); off+8 <= end; {
		kl, dl, err := f.u32pair(off)
		if err != nil {
			return err
		}
		n := int64(kl) + int64(dl)
		if off+8+n > end {
			return errors.New("corrupt cdb record")
		}
		buf, err := readPage(f.r, off+8, int(n))
		if err != nil {
			return err
		}
		if err := fn(buf[:kl], buf[kl:]); err != nil {
			return err
		}
		off += 8 + n
	}
	return nil
}

// scan walks the main database's B+tree of an LMDB file, leaf by leaf.
func (f *lmdbFile) scan(fn func(key, value []byte) error) error {
	if f.root == lmdbInvalidP {
		return nil
	}
	var walk func(pgno uint64, depth int) error
	walk = func(pgno uint64, depth int) error {
		if depth > 64 {
			return errors.New("corrupt LMDB tree: too deep")
		}
		buf, err := f.page(pgno)
		if err != nil {
			return err
		}
		le := binary.LittleEndian
		flags := le.Uint16(buf[10:])
		lower := int(le.Uint16(buf[12:]))
		if lower < lmdbHdr || lower > len(buf) {
			return errors.New("corrupt LMDB page")
		}
		for i := 0; i < (lower-lmdbHdr)/2; i++ {
			l, h, fl, k, body, err := lmdbNode(buf, i)
			if err != nil {
				return err
			}
			switch {
			case flags&lmdbBranch != 0:
				if err := walk(uint64(l)|uint64(h)<<16|uint64(fl)<<32, depth+1); err != nil {
					return err
				}
			case flags&lmdbLeaf != 0:
				v, err := f.nodeData(l, h, fl, body)
				if err != nil {
					return err
				}
				if err := fn(k, v); err != nil {
					return err
				}
			default:
				return fmt.Errorf("LMDB page %d is neither branch nor leaf", pgno)
			}
		}
		return nil
	}
	return walk(f.root, 0)
}
