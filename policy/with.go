package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/maincf"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// FixNote is the Source.Note of a policy table row that a FixTableRow edit supplied.
const FixNote = "proposed fix"

// With returns a copy of the Settings with the fixes applied, as Postfix would see the
// configuration after the administrator made them; s itself is not changed. Requires of a
// fix are applied first (recursively), then the fix:
//
//   - FixMainCF edits main.cf: Key = Value replaces the parameter's line (or is added at
//     the end), Delete removes it so that the built-in default applies. master.cf -o
//     settings of a transport still win over it, and so do LoadOptions.Overrides (a
//     tool's command-line -o). For Settings made by NewSettings, whose values are
//     main.cf's, the edit replaces the value given there.
//   - FixTableRow edits a row of a smtp_tls_policy_maps (or lmtp_tls_policy_maps) table:
//     Table is the table as configured (tables.Table.Name()), Key the row key (compared
//     as that table compares keys: folded for fixed-string tables, as given for
//     pattern tables), Value the row value; Delete removes the row. When Table is empty
//     or not in the list, the row goes into a new table at the end of the list, as if
//     the table were added to smtp_tls_policy_maps. Lookups still go through the list in
//     order, so parent-domain recursion, an earlier table holding the same key and
//     lookup errors of other tables behave as for a real row. An edited row's Source
//     has Line 0, Raw "key value" and Note FixNote.
//   - FixFile replaces the file Key with Content (Delete removes it) wherever package
//     policy reads it: tafile= and smtp_tls_trust_anchor_file trust anchors,
//     smtp_tls_CAfile, the source files of texthash, regexp and pcre tables, and FS. A
//     relative Key is relative to LoadOptions.Tables.BaseDir, as table names are. The
//     source file of an indexed table (hash:, lmdb:, ...) is only read again after a
//     postmap command, as Postfix reads the compiled file.
//   - FixCommand "postmap [-options] TYPE:NAME ..." makes each indexed table read as if
//     its compiled file had just been built from the source file (a missing or stale .db
//     no longer matters); it is an error when the source file cannot be read. Other
//     commands change nothing.
//   - FixMasterCF adds the service line "Key Value" to master.cf, replacing an entry of the
//     same name and type (Delete is an error).
//   - FixDNSRecord, FixServer and FixText change nothing in the configuration and are
//     ignored (DNS records and the receiving server are not part of Settings).
//
// The copy shares the tables s (and every Settings derived from s) has opened: only
// tables whose files the fixes change are opened again, and a list with row edits is
// wrapped, not copied. The copy is safe for concurrent use.
func (s *Settings) With(fixes ...finding.Fix) (*Settings, error) {
	c := &Settings{version: s.version, dir: s.dir, main: s.main, diagMain: s.diagMain, master: s.master,
		over: s.over, opt: s.opt, myhost: s.myhost, shared: s.shared, paramsMain: s.paramsMain}
	c.opt.Overrides = append([]string(nil), s.opt.Overrides...)
	ed := &settingsEdits{}
	if s.edits != nil {
		ed.rows = append(ed.rows, s.edits.rows...)
		ed.hasRows = s.edits.hasRows
	}
	var files *overlayFS
	if s.files != nil {
		files = s.files.clone()
	}
	var mainEdits []mainEdit
	var services []*maincf.Service
	var postmaps []postmapped
	var apply func(f finding.Fix, depth int) error
	apply = func(f finding.Fix, depth int) error {
		if depth > 32 {
			return fmt.Errorf("fix %q: Requires nested too deeply", f.String())
		}
		for _, r := range f.Requires {
			if err := apply(r, depth+1); err != nil {
				return err
			}
		}
		switch f.Kind {
		case finding.FixMainCF:
			if f.Key == "" || strings.ContainsAny(f.Key, " \t\r\n=#") {
				return fmt.Errorf("main.cf fix: invalid parameter name %q", f.Key)
			}
			if strings.ContainsAny(f.Value, "\r\n\x00") {
				return fmt.Errorf("main.cf fix %s: the value must be one line", f.Key)
			}
			mainEdits = append(mainEdits, mainEdit{name: f.Key, value: strings.TrimSpace(f.Value), del: f.Delete})
		case finding.FixTableRow:
			if f.Key == "" || strings.ContainsAny(f.Key, " \t\r\n\v\f\x00\"") || f.Key[0] == '#' {
				return fmt.Errorf("table row fix: invalid key %q", f.Key)
			}
			v := strings.TrimSpace(f.Value)
			if !f.Delete && v == "" {
				return fmt.Errorf("table row fix %s: empty value", f.Key)
			}
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("table row fix %s: the value must be one line", f.Key)
			}
			ed.rows = append(ed.rows, rowEdit{table: f.Table, key: f.Key, value: v, del: f.Delete})
			ed.hasRows = true
		case finding.FixMasterCF:
			if f.Delete {
				return fmt.Errorf("master.cf fix %s: deleting a service is not supported", f.Key)
			}
			m, err := maincf.ParseMaster(strings.NewReader(f.Key+" "+f.Value+"\n"), "master.cf fix")
			if err != nil {
				return fmt.Errorf("master.cf fix: %w", err)
			}
			if len(m.Services()) != 1 || len(m.Diagnostics) > 0 {
				return fmt.Errorf("master.cf fix %q: not one valid service line", f.Key+" "+f.Value)
			}
			services = append(services, m.Services()...)
		case finding.FixFile:
			if f.Key == "" {
				return errors.New("file fix: no file name")
			}
			if files == nil {
				files = s.newOverlay()
			}
			files.files[s.rootName(s.resolvePath(f.Key))] = overlayFile{content: f.Content, deleted: f.Delete}
		case finding.FixCommand:
			pm, err := s.postmapCommand(f.Value)
			if err != nil {
				return err
			}
			if len(pm) > 0 && files == nil {
				files = s.newOverlay()
			}
			for _, p := range pm {
				files.compiled[p.compiled] = p.source
			}
			postmaps = append(postmaps, pm...)
		}
		return nil
	}
	for _, f := range fixes {
		if err := apply(f, 0); err != nil {
			return nil, err
		}
	}
	for _, p := range postmaps {
		if _, err := fs.Stat(files, p.source); err != nil {
			return nil, fmt.Errorf("postmap %s: fatal: open %s: %s", p.spec, p.name, errText(err))
		}
	}
	if len(mainEdits) > 0 {
		if err := c.editMain(mainEdits); err != nil {
			return nil, err
		}
	}
	if ed.hasRows {
		c.edits = ed
	}
	if len(services) > 0 {
		c.master = s.master.With(services...)
	}
	if files != nil {
		c.files = files
		c.opt.Tables.FS = files
		if s.baseOpt().FS == nil {
			// The operating system resolves relative names against the working
			// directory; the overlay is rooted at "/".
			c.opt.Tables.BaseDir = absPath(filepath.Join(".", s.baseOpt().BaseDir))
			if filepath.IsAbs(s.baseOpt().BaseDir) {
				c.opt.Tables.BaseDir = s.baseOpt().BaseDir
			}
		}
	}
	c.conf = c.config(nil)
	return c, nil
}

// FS returns the file system the Settings read files from, rooted at "/" like
// os.DirFS("/") (names without the leading slash): LoadOptions.Tables.FS, or the
// operating system's files, with the FixFile edits of With laid over it. Pass it to
// verdict.LoadTrust so that the CA and trust-anchor files are read as the policy saw them.
func (s *Settings) FS() fs.FS {
	if s.files != nil {
		return s.files
	}
	if s.baseOpt().FS != nil {
		return s.baseOpt().FS
	}
	return os.DirFS("/")
}

// With returns the policy Postfix computes after the fixes (see Settings.With) for the
// same next hop and server: for a Policy from Settings.PolicyFor or Settings.Resolve, the
// same Settings, route and host; for a Policy that was not computed from Settings (a
// literal), the built-in defaults of p.Release with the literal's CAFile, CAPath,
// AppendDefaultCA and FingerprintDigest as main.cf settings, the smtp transport and host
// hop.Domain.
func (p Policy) With(ctx context.Context, hop NextHop, fixes ...finding.Fix) (Policy, error) {
	var (
		s    *Settings
		rt   Route
		host string
	)
	if p.from != nil {
		s, rt, host = p.from.s, p.from.route, p.from.host
	} else {
		// The literal's CA and digest settings stand for main.cf's.
		params := map[string]string{}
		for name, v := range map[string]string{"smtp_tls_CAfile": p.CAFile, "smtp_tls_CApath": p.CAPath,
			"smtp_tls_fingerprint_digest": p.FingerprintDigest} {
			if v != "" {
				params[name] = v
			}
		}
		if p.AppendDefaultCA {
			params["tls_append_default_CA"] = "yes"
		}
		var err error
		if s, err = NewSettings(p.Release, params); err != nil {
			return errorPolicy(), err
		}
		rt = Route{Destination: hop.Domain, Transport: "smtp", Client: SMTP, Nexthop: hop.Domain}
		host = hop.Domain
	}
	s2, err := s.With(fixes...)
	if err != nil {
		return errorPolicy(), err
	}
	return s2.PolicyFor(ctx, rt, hop, host)
}

// policyFrom is what a computed Policy remembers for Policy.With.
type policyFrom struct {
	s     *Settings
	route Route
	host  string
}

// settingsEdits are the table row edits of a Settings made by With.
type settingsEdits struct {
	rows    []rowEdit // in order; a later edit of the same key wins
	hasRows bool
}

// rowEdit is one FixTableRow.
type rowEdit struct {
	table, key, value string
	del               bool
}

// mainEdit is one FixMainCF.
type mainEdit struct {
	name, value string
	del         bool
}

// postmapped is one table a postmap command rebuilt.
type postmapped struct {
	spec, name       string // "hash:/etc/postfix/tls_policy", the name as written
	source, compiled string // root-relative file names
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "No such file or directory"
	}
	return err.Error()
}

// newOverlay starts an overlay over the loaded file system.
func (s *Settings) newOverlay() *overlayFS {
	base := s.baseOpt().FS
	if base == nil {
		base = os.DirFS("/")
	}
	return &overlayFS{base: base, files: map[string]overlayFile{}, compiled: map[string]string{}, mtime: time.Now()}
}

// baseOpt returns the table options as loaded (before any FixFile overlay).
func (s *Settings) baseOpt() tables.Options {
	if s.shared == nil {
		return s.opt.Tables
	}
	return s.shared.opt
}

// resolvePath makes a relative file name relative to the tables' BaseDir, as package
// tables does.
func (s *Settings) resolvePath(name string) string {
	if b := s.baseOpt().BaseDir; b != "" && !filepath.IsAbs(name) {
		return filepath.Join(b, name)
	}
	return name
}

// rootName is the name, relative to "/", under which the loaded file system holds name:
// with LoadOptions.Tables.FS the name without its leading slash; with the operating
// system's files the absolute path (relative names are relative to the working
// directory).
func (s *Settings) rootName(name string) string {
	if s.baseOpt().FS == nil {
		name = absPath(name)
	}
	n := strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "/")
	if n == "" {
		return "."
	}
	return n
}

// readFile reads a file as package policy reads smtp_tls_CAfile: from LoadOptions.Tables.FS
// (name without its leading slash) or the operating system, with the FixFile edits.
func (s *Settings) readFile(name string) ([]byte, error) {
	if s.files != nil {
		return fs.ReadFile(s.files, s.rootName(name))
	}
	if fsys := s.opt.Tables.FS; fsys != nil {
		return fs.ReadFile(fsys, strings.TrimPrefix(name, "/"))
	}
	return os.ReadFile(name)
}

// postmapCommand reads "postmap [-options] [TYPE:]NAME ...": the indexed tables it builds.
// Anything else builds nothing.
func (s *Settings) postmapCommand(cmd string) ([]postmapped, error) {
	args := strings.Fields(cmd)
	if len(args) == 0 || filepath.Base(args[0]) != "postmap" {
		return nil, nil
	}
	var out []postmapped
	for i := 1; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			switch a {
			case "-c", "-d", "-o", "-q":
				if a == "-q" || a == "-d" {
					return nil, nil // a query or a delete builds nothing
				}
				i++ // option argument
			}
			continue
		}
		typ, name, ok := strings.Cut(a, ":")
		for ok && typ == "proxy" {
			typ, name, ok = strings.Cut(name, ":")
		}
		if !ok {
			def, err := s.Param("default_database_type")
			if err != nil || def.Value == "" {
				def.Value = "hash"
			}
			typ, name = def.Value, a
		}
		suffix, indexed := tables.CompiledSuffix(typ)
		if !indexed || name == "" {
			continue
		}
		file := s.resolvePath(name)
		out = append(out, postmapped{spec: typ + ":" + name, name: name,
			source: s.rootName(file), compiled: s.rootName(file + suffix)})
	}
	return out, nil
}

// editMain applies main.cf edits: to the main.cf layer (its lines re-read with their line
// numbers kept, new parameters after the last line), or for NewSettings to its values.
func (c *Settings) editMain(eds []mainEdit) error {
	if c.paramsMain {
		for _, e := range eds {
			kept := c.opt.Overrides[:0:0]
			for _, o := range c.opt.Overrides {
				n, _, _ := strings.Cut(o, "=")
				if strings.TrimSpace(n) != e.name {
					kept = append(kept, o)
				}
			}
			if !e.del {
				kept = append(kept, e.name+"="+e.value)
			}
			c.opt.Overrides = kept
		}
		over, err := maincf.OverrideLayer(c.opt.Overrides...)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.over = over
		return nil
	}
	var params []maincf.Param
	file := "main.cf"
	if c.dir != "" {
		file = filepath.Join(c.dir, "main.cf")
	}
	if c.main != nil {
		params = c.main.Params()
		for _, p := range c.main.Entries() {
			file = p.File
			break
		}
	}
	last := 0
	for _, p := range params {
		last = max(last, p.Line, p.LastLine)
	}
	for _, e := range eds {
		i := -1
		for j := range params {
			if params[j].Name == e.name {
				i = j
			}
		}
		switch {
		case e.del && i >= 0:
			params = append(params[:i:i], params[i+1:]...)
		case e.del:
		case i >= 0:
			params[i].Value = e.value
		default:
			last++
			params = append(params, maincf.Param{Name: e.name, Value: e.value, File: file, Line: last, LastLine: last})
		}
	}
	sort.SliceStable(params, func(i, j int) bool { return params[i].Line < params[j].Line })
	var b strings.Builder
	line := 1
	for _, p := range params {
		for ; line < p.Line; line++ {
			b.WriteByte('\n')
		}
		b.WriteString(p.Name + " = " + p.Value + "\n")
		line++
	}
	f, err := maincf.Parse(strings.NewReader(b.String()), file)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.diagMain == nil {
		c.diagMain = c.main
		if c.diagMain == nil {
			c.diagMain = &maincf.File{}
		}
	}
	c.main = f
	return nil
}

// mainDiagnostics returns main.cf's warnings as Postfix reads the file (of the main.cf as
// loaded, for a Settings made by With).
func (s *Settings) mainDiagnostics() []finding.Diagnostic {
	switch {
	case s.diagMain != nil:
		return s.diagMain.Diagnostics
	case s.main != nil:
		return s.main.Diagnostics
	}
	return nil
}

// sharedTables holds the table lists opened by a Settings and every Settings derived from
// it by With, keyed by parameter, value and UTF-8 mode; opt are the loaded table options.
type sharedTables struct {
	opt   tables.Options
	mu    sync.Mutex
	lists map[listKey]*sharedList
}

// maxSharedLists bounds the lists kept in sharedTables; further lists are opened for the
// Settings that needs them only.
const maxSharedLists = 256

type listKey struct {
	title, value string
	utf8         bool
}

type sharedList struct {
	mu   sync.Mutex
	done bool
	l    *tables.List
	err  error
}

func newSharedTables(opt tables.Options) *sharedTables {
	return &sharedTables{opt: opt, lists: map[listKey]*sharedList{}}
}

// open returns the shared list, opening it once.
func (st *sharedTables) open(ctx context.Context, k listKey, opt tables.Options) (*tables.List, error) {
	st.mu.Lock()
	e, ok := st.lists[k]
	if !ok {
		if len(st.lists) >= maxSharedLists {
			st.mu.Unlock()
			return tables.OpenList(ctx, k.title, k.value, opt)
		}
		e = &sharedList{}
		st.lists[k] = e
	}
	st.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.done {
		l, err := tables.OpenList(ctx, k.title, k.value, opt)
		if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return nil, err
		}
		e.l, e.err, e.done = l, err, true
	}
	return e.l, e.err
}

// tableOptions returns the options tables are opened with as smtp(8) and trivial-rewrite
// open them, from base.
func tableOptions(base tables.Options, title string, utf8 bool) tables.Options {
	base.FoldFixed = true
	base.UTF8 = utf8
	// trivial-rewrite opens transport_maps without $1 substitution (DICT_FLAG_NO_REGSUB).
	base.NoRegsub = title == "transport_maps"
	return base
}

// openList opens a table list: shared with every Settings of the same configuration, with
// the tables whose files FixFile or postmap edits changed opened again.
func (s *Settings) openList(ctx context.Context, title, value string, utf8 bool) (*tables.List, error) {
	if s.shared == nil {
		return tables.OpenList(ctx, title, value, tableOptions(s.opt.Tables, title, utf8))
	}
	l, err := s.shared.open(ctx, listKey{title, value, utf8}, tableOptions(s.shared.opt, title, utf8))
	if s.files == nil {
		return l, err
	}
	own := tableOptions(s.opt.Tables, title, utf8)
	if err != nil {
		// A table only the edited files make readable.
		return tables.OpenList(ctx, title, value, own)
	}
	ts := l.Tables()
	var out []tables.Table
	for i, t := range ts {
		if !s.filesChange(t.Name()) {
			continue
		}
		nt, err := tables.Open(ctx, t.Name(), own)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		if out == nil {
			out = append([]tables.Table(nil), ts...)
		}
		out[i] = nt
	}
	if out == nil {
		return l, nil
	}
	return tables.NewList(title, out...), nil
}

// tableFile returns the type and the file of a table spec ("proxy:" removed); file is ""
// for tables without one.
func tableFile(spec string) (typ, file string) {
	typ, name, _ := strings.Cut(spec, ":")
	for typ == "proxy" {
		typ, name, _ = strings.Cut(name, ":")
	}
	switch typ {
	case "texthash", "regexp", "pcre":
		return typ, name
	}
	if _, ok := tables.CompiledSuffix(typ); ok {
		return typ, name
	}
	return typ, ""
}

// filesChange reports whether the FixFile and postmap edits change what the table reads.
func (s *Settings) filesChange(spec string) bool {
	typ, name := tableFile(spec)
	if name == "" {
		return false
	}
	file := s.resolvePath(name)
	if suffix, ok := tables.CompiledSuffix(typ); ok {
		db := s.rootName(file + suffix)
		_, built := s.files.compiled[db]
		_, edited := s.files.files[db]
		return built || edited
	}
	_, edited := s.files.files[s.rootName(file)]
	return edited
}

// isFixedType reports whether Postfix opens the table type DICT_FLAG_FIXED.
func isFixedType(typ string) bool {
	switch typ {
	case "texthash", "inline", "static":
		return true
	}
	_, ok := tables.CompiledSuffix(typ)
	return ok
}

// editRows returns the policy table list with the FixTableRow edits: the tables they name
// wrapped, the rows for other tables in new tables at the end.
func (s *Settings) editRows(l *tables.List, utf8On bool) *tables.List {
	if s.edits == nil || !s.edits.hasRows {
		return l
	}
	ts := l.Tables()
	out := append(make([]tables.Table, 0, len(ts)+1), ts...)
	var order []string
	byTable := map[string][]rowEdit{}
	for _, r := range s.edits.rows {
		if _, ok := byTable[r.table]; !ok {
			order = append(order, r.table)
		}
		byTable[r.table] = append(byTable[r.table], r)
	}
	for _, name := range order {
		rows := byTable[name]
		i := -1
		for j, t := range ts {
			if t.Name() == name {
				i = j
				break
			}
		}
		typ, file := tableFile(name)
		fixed := isFixedType(typ)
		var inner tables.Table
		if i >= 0 {
			inner = ts[i]
			fixed = fixed || tables.IsFixed(inner)
		} else if name == "" {
			fixed = true
		}
		et := newEditedTable(inner, name, file, rows, fixed, utf8On)
		if i >= 0 {
			out[i] = et
		} else {
			out = append(out, et)
		}
	}
	return tables.NewList(l.Title(), out...)
}

// editedTable is a table with FixTableRow edits over it (inner nil: a table the edits add).
type editedTable struct {
	inner      tables.Table
	name, file string
	rows       []rowEdit
	index      *tables.SourceTable // key -> index into rows, keys compared as the table does
	// literal maps the one string a pattern row matches to its index into rows (a
	// case-insensitive pattern as NUL + the lower-case string); nil without such rows.
	literal map[string]int
	utf8    bool
}

func newEditedTable(inner tables.Table, name, file string, rows []rowEdit, fixed, utf8On bool) *editedTable {
	// The index is a source table of "key index" lines: the table package folds keys
	// exactly as the edited table does. The last edit of a key wins: lines are written
	// in reverse and the first of duplicate keys is kept.
	var b strings.Builder
	for i := len(rows) - 1; i >= 0; i-- {
		b.WriteString(rows[i].key + " " + strconv.Itoa(i) + "\n")
	}
	idx, _ := tables.ParseSource(strings.NewReader(b.String()), "", "texthash:"+name,
		tables.Options{FoldFixed: fixed, UTF8: utf8On, DuplicateWarn: true})
	t := &editedTable{inner: inner, name: name, file: file, rows: rows, index: idx, utf8: utf8On}
	if !fixed {
		// A pattern-table row whose pattern matches one string (/^example\.test$/) answers
		// that string, in place of the rule it replaces.
		typ, _, _ := strings.Cut(name, ":")
		for i := len(rows) - 1; i >= 0; i-- {
			if lp, ok := tables.ParseLiteralPattern(typ, rows[i].key); ok {
				if t.literal == nil {
					t.literal = map[string]int{}
				}
				k := lp.Literal
				if !lp.CaseSensitive {
					k = "\x00" + strings.ToLower(k)
				}
				t.literal[k] = i
			}
		}
	}
	return t
}

// Name returns the table's name as configured (as the fix gave it, for a new table).
func (t *editedTable) Name() string {
	if t.inner != nil {
		return t.inner.Name()
	}
	return t.name
}

// Diagnostics returns the edited table's open-time diagnostics.
func (t *editedTable) Diagnostics() []tables.Diagnostic {
	if t.inner != nil {
		return t.inner.Diagnostics()
	}
	return nil
}

// Lookup answers the edited keys from the edits and every other key from the table.
func (t *editedTable) Lookup(ctx context.Context, key string) (tables.Result, error) {
	r, err := t.index.Lookup(ctx, key)
	i, lit := t.literalRow(key)
	if lit || (err == nil && r.Found) {
		srcKey := ""
		if lit {
			srcKey = t.rows[i].key
		} else {
			i, _ = strconv.Atoi(r.Value)
			srcKey = r.Source.Key
		}
		e := t.rows[i]
		if e.del {
			return tables.Result{}, nil
		}
		if t.utf8 && !utf8.ValidString(e.value) {
			return tables.Result{}, &tables.TableError{Table: t.Name(), Key: key, Config: true, Messages: []string{
				fmt.Sprintf("%s: key \"%s\": non-UTF-8 value \"%s\": malformed UTF-8 or invalid codepoint", t.Name(), key, e.value)}}
		}
		return tables.Result{Found: true, Value: e.value, Source: tables.Source{Table: t.name, File: t.file,
			Key: srcKey, Raw: e.key + " " + e.value, Note: FixNote}}, nil
	}
	if t.inner != nil {
		return t.inner.Lookup(ctx, key)
	}
	return tables.Result{Warnings: r.Warnings}, nil
}

// literalRow returns the row whose one-string pattern matches key, if any.
func (t *editedTable) literalRow(key string) (int, bool) {
	if t.literal == nil {
		return 0, false
	}
	if i, ok := t.literal[key]; ok {
		return i, true
	}
	i, ok := t.literal["\x00"+strings.ToLower(key)]
	return i, ok
}

// FS returns the file system of the Settings the policy was computed from (see
// Settings.FS), with the FixFile edits of Policy.With laid over it; nil for a policy that
// was not computed from Settings.
func (p Policy) FS() fs.FS {
	if p.from == nil || p.from.s == nil {
		return nil
	}
	return p.from.s.FS()
}
