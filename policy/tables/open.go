package tables

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// Postfix's character classes (CHARS_COMMA_SP, CHARS_BRACE).
const (
	charsCommaSP = ", \t\r\n"
)

// notEmulated lists table types Postfix knows that this package cannot reproduce, with
// the reason.
var notEmulated = map[string]string{
	"ldap":     "the answer comes from a live LDAP server",
	"mysql":    "the answer comes from a live MySQL server",
	"pgsql":    "the answer comes from a live PostgreSQL server",
	"sqlite":   "the answer comes from an SQLite database file",
	"memcache": "the answer comes from a live memcache server",
	"mongodb":  "the answer comes from a live MongoDB server",
	"tcp":      "tcp_table(5) servers are not emulated (use socketmap)",
	"nis":      "the answer comes from NIS",
	"nisplus":  "the answer comes from NIS+",
	"netinfo":  "the answer comes from NetInfo",
	"unix":     "the answer comes from the system passwd/group databases",
	"environ":  "the answer comes from the Postfix process environment",
	"cidr":     "cidr tables match IP addresses, which are not table keys here",
	"pipemap":  "pipemap is not emulated",
	"unionmap": "unionmap is not emulated",
	"randmap":  "randmap answers at random",
	"internal": "internal tables exist only inside one Postfix process",
	"debug":    "debug: wrappers are not emulated",
}

// indexedTypes lists the types postmap builds from a source file, with how the compiled
// file is named and how Postfix words a failure to open it.
var indexedTypes = map[string]struct {
	suffix string // compiled file: name + suffix
	dupFmt string // postmap's duplicate warning prefix: %[1]s = name, %[2]s = type
}{
	"hash":  {".db", "%[1]s.db"},
	"btree": {".db", "%[1]s.db"},
	"cdb":   {".cdb", "%[1]s"},
	"lmdb":  {".lmdb", "%[2]s:%[1]s"},
	"dbm":   {".dir", "%[1]s"},
	"sdbm":  {".dir", "%[1]s"},
}

// CompiledSuffix returns the suffix of the file postmap(1) builds for an indexed table type
// (hash and btree ".db", cdb ".cdb", lmdb ".lmdb", dbm and sdbm ".dir"), and false for a type
// that is not compiled from a source file.
func CompiledSuffix(typ string) (string, bool) {
	it, ok := indexedTypes[typ]
	return it.suffix, ok
}

// DuplicateWarning is the warning Postfix logs for a duplicate key in the source file name of
// a typ: table. For an indexed type it is postmap's "<compiled table>: duplicate entry:
// "<key>"" (key as stored, folded); otherwise dict_thash's "<name>, line <line>: duplicate
// entry: "<key>"" (key as written). The text has not been through printable() yet.
func DuplicateWarning(typ, name string, line int, key string) string {
	if it, ok := indexedTypes[typ]; ok {
		return fmt.Sprintf("%s: duplicate entry: \"%s\"", fmt.Sprintf(it.dupFmt, name, typ), key)
	}
	return fmt.Sprintf("%s, line %d: duplicate entry: \"%s\"", name, line, key)
}

// surrogate reproduces dict_surrogate(): every lookup fails with the open-time reason.
type surrogate struct {
	name   string // "type:name"
	reason string
}

func (s *surrogate) err(key string) error {
	return &TableError{Table: s.name, Key: key, Messages: []string{printableText(s.name+" is unavailable. "+s.reason, true)}, Err: ErrUnavailable}
}

// surrogateTable is a Table that is only a surrogate.
type surrogateTable struct {
	surrogate
	diags []Diagnostic
}

func newSurrogate(name, file, reason string, extra []Diagnostic) *surrogateTable {
	d := append(extra, Diagnostic{File: file, Message: printableText(reason, true), Severity: Error})
	return &surrogateTable{surrogate: surrogate{name: name, reason: reason}, diags: d}
}

func (s *surrogateTable) Name() string              { return s.name }
func (s *surrogateTable) Diagnostics() []Diagnostic { return s.diags }
func (s *surrogateTable) Lookup(ctx context.Context, key string) (Result, error) {
	return Result{}, s.err(key)
}

// Open opens one table from Postfix's "type:name" form, as dict_open() would for
// smtp(8). Problems Postfix survives (missing file, bad inline syntax, unknown type) give a
// surrogate table whose lookups fail, with an Error diagnostic, and a nil error. Open
// returns an error (wrapping ErrNotEmulated or ErrSpec) only when Postfix would exit or
// when the table cannot be reproduced faithfully.
func Open(ctx context.Context, spec string, opt Options) (Table, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	typ, name, ok := strings.Cut(spec, ":")
	if !ok || typ == "" || name == "" {
		if opt.DefaultType == "" {
			reason := fmt.Sprintf("open dictionary: expecting \"type:name\" form instead of \"%s\"", spec)
			return newSurrogate(spec+":", "", reason, nil), nil
		}
		typ, name = opt.DefaultType, spec
	}
	full := typ + ":" + name
	switch typ {
	case "proxy":
		return openProxy(ctx, name, opt)
	case "texthash":
		file := resolve(opt, name)
		data, _, err := readFile(opt, file)
		if err != nil {
			return newSurrogate(full, file, fmt.Sprintf("open database %s: %s", name, pfutil.Strerror(err)), nil), nil
		}
		return parseSourceString(data, name, full, "", thashFormat(opt), opt), nil
	case "inline":
		return openInline(full, name, opt), nil
	case "static":
		return openStatic(full, name), nil
	case "fail":
		return &failTable{name: full}, nil
	case "regexp", "pcre":
		return openRegexp(ctx, typ, name, opt)
	case "socketmap":
		return openSocketmap(full, name, opt)
	}
	if it, ok := indexedTypes[typ]; ok {
		return openIndexed(typ, name, it.suffix, opt)
	}
	if why, ok := notEmulated[typ]; ok {
		return nil, &OpenError{Spec: full, Message: fmt.Sprintf("dictionary type %q is not emulated: %s (Postfix says \"unsupported dictionary type: %s\" only when the %s map plugin is not installed)", typ, why, typ, typ), Err: ErrNotEmulated}
	}
	return newSurrogate(full, "", "unsupported dictionary type: "+typ, nil), nil
}

// openIndexed opens an indexed table as Postfix does: from its compiled file when that
// exists and opens (stale or not; the source file need not exist), a surrogate when the
// compiled file is missing or not in the format (cdb: a fatal error). Only a compiled file
// this package cannot read (dbm:, sdbm:, a Berkeley DB variant postmap does not write here),
// a compiled file that stands for a fresh postmap build (Rebuilt), or ReadSource make it
// read the source file, as postmap would build it, which Source.Note then says.
func openIndexed(typ, name, suffix string, opt Options) (Table, error) {
	full := typ + ":" + name
	file := resolve(opt, name)
	dbFile := file + suffix
	dbName := name + suffix
	dbInfo, err := statFile(opt, dbFile)
	if err != nil {
		reason := fmt.Sprintf("open database %s: %s", dbName, pfutil.Strerror(err))
		if typ == "sdbm" {
			return nil, &OpenError{Spec: full, File: name, Message: reason, Err: ErrSpec}
		}
		return newSurrogate(full, name, reason, nil), nil
	}
	// dict_db.c and the others: "database X is older than source file Y", unless the
	// source changed less than 100 seconds ago (whole seconds, as st_mtime).
	var stale string
	if srcInfo, err := statFile(opt, file); err == nil {
		srcT, dbT := srcInfo.ModTime().Unix(), dbInfo.ModTime().Unix()
		if srcT > dbT && srcT < opt.now().Unix()-100 {
			stale = fmt.Sprintf("database %s is older than source file %s", dbName, name)
		}
	}
	var pre []Diagnostic
	if stale != "" {
		pre = append(pre, Diagnostic{File: name, Message: stale, Severity: Warning})
	}
	var fallback string
	if _, rebuilt := dbInfo.Sys().(Rebuilt); rebuilt || opt.ReadSource {
		fallback = "as postmap builds it"
	} else {
		db, closer, err := openCompiled(opt, typ, dbFile, dbName)
		var un *errUnsupported
		var oe *compiledOpenError
		switch {
		case err == nil:
			note := "read from the compiled file " + dbName
			if stale != "" {
				note += "; " + stale + ": Postfix answers from the stale " + dbName
			}
			return &CompiledTable{name: full, file: dbFile, note: note, fold: opt.FoldFixed, utf8: opt.UTF8,
				db: db, closer: closer, diags: pre}, nil
		case errors.As(err, &un):
			fallback = fmt.Sprintf("%s cannot be read here (%s)", dbName, un.why)
		case errors.As(err, &oe) && oe.fatal:
			return nil, &OpenError{Spec: full, File: dbName, Message: oe.reason, Err: ErrSpec}
		case errors.As(err, &oe):
			return newSurrogate(full, name, oe.reason, pre), nil
		default:
			return nil, err
		}
	}
	data, _, err := readFile(opt, file)
	if err != nil {
		return nil, &OpenError{Spec: full, File: name, Message: fmt.Sprintf("cannot read the source file %s (%s); Postfix would use %s, which this package cannot read", name, pfutil.Strerror(err), dbName), Err: ErrNotEmulated}
	}
	note := fmt.Sprintf("read from the source file beside %s:%s, %s", typ, dbName, fallback)
	if stale != "" {
		note += "; " + stale + ": Postfix answers from the stale " + dbName
	}
	f := sourceFormat{postmapBuild: true, typ: typ, foldKeys: true, dupWarn: true, utf8Check: opt.UTF8, utf8Fold: opt.UTF8}
	t := parseSourceString(data, name, full, note, f, opt)
	t.diags = append(pre, t.diags...)
	return t, nil
}

// resolve makes a relative file name absolute with BaseDir.
func resolve(opt Options, name string) string {
	if opt.BaseDir != "" && !filepath.IsAbs(name) {
		return filepath.Join(opt.BaseDir, name)
	}
	return name
}

func fsName(name string) string {
	n := strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "/")
	if n == "" {
		return "."
	}
	return n
}

func readFile(opt Options, name string) (string, time.Time, error) {
	if opt.FS != nil {
		n := fsName(name)
		b, err := fs.ReadFile(opt.FS, n)
		if err != nil {
			return "", time.Time{}, err
		}
		var mt time.Time
		if st, err := fs.Stat(opt.FS, n); err == nil {
			mt = st.ModTime()
		}
		return string(b), mt, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return "", time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", time.Time{}, err
	}
	if st.IsDir() {
		return "", time.Time{}, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	b := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	return string(b), st.ModTime(), nil
}

func statFile(opt Options, name string) (fs.FileInfo, error) {
	if opt.FS != nil {
		return fs.Stat(opt.FS, fsName(name))
	}
	return os.Stat(name)
}

// failTable is fail:name: every lookup is an error (dict_fail.c, DICT_ERR_RETRY).
type failTable struct{ name string }

func (f *failTable) Name() string              { return f.name }
func (f *failTable) Diagnostics() []Diagnostic { return nil }
func (f *failTable) Lookup(ctx context.Context, key string) (Result, error) {
	return Result{}, &TableError{Table: f.name, Key: key}
}

// proxyTable is proxy:type:name: the same table, read by proxymap(8).
type proxyTable struct {
	name  string
	inner Table
	note  string
}

func openProxy(ctx context.Context, inner string, opt Options) (Table, error) {
	full := "proxy:" + inner
	for strings.HasPrefix(inner, "proxy:") {
		inner = strings.TrimPrefix(inner, "proxy:")
	}
	note := "via proxymap"
	if opt.ProxyReadMaps != nil {
		allowed := false
		for _, tok := range opt.ProxyReadMaps {
			if !strings.HasPrefix(tok, "proxy:") {
				continue
			}
			for strings.HasPrefix(tok, "proxy:") {
				tok = strings.TrimPrefix(tok, "proxy:")
			}
			if tok == inner {
				allowed = true
				break
			}
		}
		if !allowed {
			diags := []Diagnostic{
				{Message: fmt.Sprintf("request for unapproved table: \"%s\"", inner), Severity: Warning},
				{Message: fmt.Sprintf("to approve this table for read-only access, list proxy:%s in main.cf:proxy_read_maps", inner), Severity: Warning},
			}
			return newSurrogate(full, "", fmt.Sprintf("proxymap service is not configured for table \"%s\"", inner), diags), nil
		}
	} else {
		note += " (proxy_read_maps not checked)"
	}
	t, err := Open(ctx, inner, opt)
	if err != nil {
		return nil, err
	}
	return &proxyTable{name: full, inner: t, note: note}, nil
}

func (p *proxyTable) Name() string              { return p.name }
func (p *proxyTable) Diagnostics() []Diagnostic { return p.inner.Diagnostics() }
func (p *proxyTable) Lookup(ctx context.Context, key string) (Result, error) {
	r, err := p.inner.Lookup(ctx, key)
	if err != nil {
		var te *TableError
		if errors.As(err, &te) {
			// proxymap logs the table's own warnings; the client sees only the status.
			return Result{}, &TableError{Table: p.name, Key: key, Messages: te.Messages, Config: te.Config, Err: err}
		}
		return Result{}, err
	}
	if r.Found {
		r.Source.Table = p.name
		if r.Source.Note != "" {
			r.Source.Note = p.note + "; " + r.Source.Note
		} else {
			r.Source.Note = p.note
		}
	}
	return r, nil
}
