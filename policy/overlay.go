package policy

import (
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/tables"
)

// overlayFS is the file system a Settings made by With reads: the loaded file system (or
// the operating system's, rooted at "/") with the files of FixFile edits laid over it, and
// the compiled files that a "postmap TYPE:NAME" command rebuilt. Names are relative to
// "/" as with os.DirFS("/"). It is immutable once built.
type overlayFS struct {
	base  fs.FS
	files map[string]overlayFile
	// compiled maps a compiled table file ("etc/postfix/tls_policy.db") to its source
	// file: it exists, and is as new as the source, as postmap leaves it.
	compiled map[string]string
	mtime    time.Time
}

// overlayFile is one FixFile edit: new content, or a deleted file.
type overlayFile struct {
	content string
	deleted bool
}

func (o *overlayFS) clone() *overlayFS {
	c := &overlayFS{base: o.base, files: make(map[string]overlayFile, len(o.files)+1),
		compiled: make(map[string]string, len(o.compiled)+1), mtime: o.mtime}
	for k, v := range o.files {
		c.files[k] = v
	}
	for k, v := range o.compiled {
		c.compiled[k] = v
	}
	return c
}

// entry returns the overlay's own file for a name, when it has one.
func (o *overlayFS) entry(name string) (*memFile, bool, error) {
	clean := path.Clean(name)
	if f, ok := o.files[clean]; ok {
		if f.deleted {
			return nil, true, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return &memFile{name: path.Base(clean), r: strings.NewReader(f.content), size: int64(len(f.content)), mtime: o.mtime}, true, nil
	}
	if src, ok := o.compiled[clean]; ok {
		mt := o.mtime
		if st, err := o.Stat(src); err == nil {
			mt = st.ModTime()
		}
		// tables.Rebuilt: the table reads the source file, as this compiled file would hold it.
		return &memFile{name: path.Base(clean), r: strings.NewReader(""), mtime: mt, sys: tables.Rebuilt{}}, true, nil
	}
	return nil, false, nil
}

// Open opens name from the overlay, else from the base file system.
func (o *overlayFS) Open(name string) (fs.File, error) {
	if f, ok, err := o.entry(name); ok {
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return o.base.Open(name)
}

// Stat implements fs.StatFS.
func (o *overlayFS) Stat(name string) (fs.FileInfo, error) {
	if f, ok, err := o.entry(name); ok {
		if err != nil {
			return nil, err
		}
		return f.Stat()
	}
	return fs.Stat(o.base, name)
}

// ReadFile implements fs.ReadFileFS.
func (o *overlayFS) ReadFile(name string) ([]byte, error) {
	if f, ok, err := o.entry(name); ok {
		if err != nil {
			return nil, err
		}
		return io.ReadAll(f.r)
	}
	return fs.ReadFile(o.base, name)
}

// ReadDir implements fs.ReadDirFS: the base directory's entries with the overlay's files
// of that directory added, replaced or removed.
func (o *overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := fs.ReadDir(o.base, name)
	dir := path.Clean(name)
	mine := map[string]fs.DirEntry{}
	gone := map[string]bool{}
	add := func(full string) {
		if path.Dir(full) != dir && !(dir == "." && !strings.Contains(full, "/")) {
			return
		}
		f, ok, ferr := o.entry(full)
		if !ok {
			return
		}
		if ferr != nil {
			gone[path.Base(full)] = true
			return
		}
		mine[f.name] = fs.FileInfoToDirEntry(f)
	}
	for n := range o.files {
		add(n)
	}
	for n := range o.compiled {
		add(n)
	}
	if err != nil && len(mine) == 0 {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(ents)+len(mine))
	for _, e := range ents {
		if gone[e.Name()] {
			continue
		}
		if m, ok := mine[e.Name()]; ok {
			out = append(out, m)
			delete(mine, e.Name())
			continue
		}
		out = append(out, e)
	}
	for _, m := range mine {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// memFile is an overlay file; it is its own fs.FileInfo.
type memFile struct {
	name  string
	r     *strings.Reader
	size  int64
	mtime time.Time
	sys   any
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Size() int64                { return f.size }
func (f *memFile) Mode() fs.FileMode          { return 0o644 }
func (f *memFile) ModTime() time.Time         { return f.mtime }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return f.sys }

var (
	_ fs.StatFS     = (*overlayFS)(nil)
	_ fs.ReadFileFS = (*overlayFS)(nil)
	_ fs.ReadDirFS  = (*overlayFS)(nil)
)
