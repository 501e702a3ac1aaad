package tables

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzCompiled feeds arbitrary bytes to the hash:, btree:, cdb: and lmdb: readers as the
// compiled file of a table: opening and looking up keys must end, with an answer or an
// error, and never panic. The seeds are small files the real postmap made (when postmap
// and its cdb and lmdb plugins are installed), so the fuzzer starts from valid pages.
func FuzzCompiled(f *testing.F) {
	src := "example.com secure match=.example.net\n.example.org verify\nEXAMPLE.net encrypt\nlong dane-only\n"
	if bin, err := exec.LookPath("postmap"); err == nil || fileExists("/usr/sbin/postmap") {
		if err != nil {
			bin = "/usr/sbin/postmap"
		}
		dir := f.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
			f.Fatal(err)
		}
		file := filepath.Join(dir, "m")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			f.Fatal(err)
		}
		for i, typ := range compiledTypes {
			suffix, _ := CompiledSuffix(typ)
			if exec.Command(bin, "-c", dir, typ+":"+file).Run() != nil {
				continue // no plugin for this type
			}
			if b, err := os.ReadFile(file + suffix); err == nil {
				f.Add(uint8(i), b)
			}
		}
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(2), make([]byte, 2048))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		typ := compiledTypes[int(which)%len(compiledTypes)]
		suffix, _ := CompiledSuffix(typ)
		fsys := fstest.MapFS{"m" + suffix: {Data: data}, "m": {Data: []byte(src)}}
		ctx := context.Background()
		tb, err := Open(ctx, typ+":/m", Options{FS: fsys, FoldFixed: true})
		if err != nil {
			return
		}
		for _, k := range []string{"example.com", ".example.org", "example.net", "long", "", "x"} {
			_, _ = tb.Lookup(ctx, k)
		}
	})
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
