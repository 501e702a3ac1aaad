package release

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/postfixtls/postfixtls/policy"
)

// Detector finds the installed Postfix's release without running postconf on every run:
// the answer of `postconf -h mail_version` is cached under a key made of the identity
// (path, device, inode, size, modification and change times) of the postconf binary and
// of the shared libraries it loads, so that any upgrade of Postfix, which replaces them,
// asks postconf again. The zero Detector finds postconf as policy.PostconfPath does and
// caches in the user's cache directory.
type Detector struct {
	// Postconf is the postconf command; "" finds it (policy.PostconfPath).
	Postconf string
	// CacheDir holds the cache file; "" is os.UserCacheDir()/postfixtls, "-" caches
	// nothing.
	CacheDir string
}

// cacheFile is the file, under CacheDir, holding "key release" lines.
const cacheFile = "installed-release"

// Version returns the release postconf reports for the configuration directory dir, and
// whether it came from the cache (no postconf run).
func (d Detector) Version(ctx context.Context, dir string) (v policy.Version, cached bool, err error) {
	bin := d.Postconf
	if bin == "" {
		if bin, err = policy.PostconfPath(); err != nil {
			return policy.Version{}, false, err
		}
	}
	key, kerr := identity(bin)
	file := d.cachePath()
	if kerr == nil && file != "" {
		if s, ok := lookupCache(file, key); ok {
			if v, err := policy.ParseVersion(s); err == nil {
				return v, true, nil
			}
		}
	}
	v, err = policy.DetectVersionWith(ctx, bin, dir)
	if err != nil {
		return policy.Version{}, false, err
	}
	if kerr == nil && file != "" {
		storeCache(file, key, v.String()) // best effort: the next run asks postconf again
	}
	return v, false, nil
}

func (d Detector) cachePath() string {
	switch d.CacheDir {
	case "-":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "postfixtls", cacheFile)
	}
	return filepath.Join(d.CacheDir, cacheFile)
}

// identity is a hash of what makes postconf print its release: the binary and the shared
// libraries its ELF header names (DT_NEEDED, found through its RUNPATH/RPATH and the
// usual library directories; a library not found is named as missing).
func identity(bin string) (string, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	h := sha256.New()
	if err := stamp(h, abs); err != nil {
		return "", err
	}
	f, err := elf.Open(abs)
	if err != nil {
		return hex.EncodeToString(h.Sum(nil)), nil // not ELF (a script): the file alone
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		paths, _ := f.DynString(tag)
		for _, p := range paths {
			for _, d := range strings.Split(p, ":") {
				dirs = append(dirs, strings.ReplaceAll(d, "$ORIGIN", filepath.Dir(abs)))
			}
		}
	}
	dirs = append(dirs, "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib")
	for _, lib := range libs {
		found := false
		for _, d := range dirs {
			p := filepath.Join(d, lib)
			if r, err := filepath.EvalSymlinks(p); err == nil {
				p = r
			}
			if stamp(h, p) == nil {
				found = true
				break
			}
		}
		if !found {
			fmt.Fprintf(h, "missing %s\n", lib)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stamp writes the identity of one file to w.
func stamp(w interface{ Write([]byte) (int, error) }, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no file identity", path)
	}
	_, err = fmt.Fprintf(w, "%s dev=%d ino=%d size=%d mtime=%d.%d ctime=%d.%d\n", path, st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
	return err
}

// lookupCache returns the release cached for key.
func lookupCache(file, key string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && n < maxCacheLines; n++ {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			return v, true
		}
	}
	return "", false
}

// maxCacheLines bounds the cache file: the newest entries are kept.
const maxCacheLines = 16

// storeCache puts "key release" first in the cache file (written to a temporary file and
// renamed, so that a concurrent reader sees the old or the new file).
func storeCache(file, key, release string) {
	lines := []string{key + " " + release}
	if b, err := os.ReadFile(file); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, _, ok := strings.Cut(l, " "); ok && k != key && len(lines) < maxCacheLines {
				lines = append(lines, l)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), cacheFile+".*")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
	}
}
