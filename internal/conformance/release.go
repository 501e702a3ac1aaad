package conformance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// Release is the Postfix that the real side of a case runs: the Debian package (Dir empty:
// /usr/sbin/postfix, /etc/postfix) or a self-contained upstream release tree made by the
// shared oracle's build-postfix (Dir/usr/sbin, Dir/usr/libexec/postfix, Dir/etc/postfix).
type Release struct {
	// Dir is the release tree; empty means the system's (Debian's) Postfix.
	Dir string `json:"dir,omitempty"`
	// Version is the tree's `postconf -dh mail_version`; the library emulates it.
	Version string `json:"version"`
	// Compat is the compatibility_level of the base main.cf: the release's own shipped
	// level (3.7 for the Debian package); empty means no compatibility_level line at all.
	Compat string `json:"compat,omitempty"`
}

// Label names the release in reports and in the release column of known-differences.md:
// "debian" for the Debian package, else the version.
func (r Release) Label() string {
	if r.Dir == "" {
		return "debian"
	}
	return r.Version
}

// String is the label with the version and tree, for logs.
func (r Release) String() string {
	if r.Dir == "" {
		return "Postfix " + r.Version + " (Debian package)"
	}
	return "Postfix " + r.Version + " (" + r.Dir + ")"
}

// bin is the path of a Postfix command of the release.
func (r Release) bin(name string) string {
	if r.Dir == "" {
		return name
	}
	return filepath.Join(r.Dir, "usr", "sbin", name)
}

// configDir is the release's built-in config_directory, whose files seed a case's.
func (r Release) configDir() string {
	if r.Dir == "" {
		return "/etc/postfix"
	}
	return filepath.Join(r.Dir, "etc", "postfix")
}

// minor is 100*major+minor of the version (3.10.13 -> 310), 0 when unparsable.
func (r Release) minor() int {
	f := strings.SplitN(r.Version, ".", 3)
	if len(f) < 2 {
		return 0
	}
	maj, err1 := strconv.Atoi(f[0])
	mn, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return 0
	}
	return maj*100 + mn
}

// ErrUnbuildable marks a release that build-postfix cannot build here (Postfix 2.x: its TLS
// code needs OpenSSL 1.0 APIs that the system's OpenSSL 3 no longer has).
var ErrUnbuildable = errors.New("conformance: release cannot be built against this system's OpenSSL")

// ErrBuild wraps every failure to build or find a release tree.
var ErrBuild = errors.New("conformance: cannot build the Postfix release")

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// OracleDir is the shared oracle (build-postfix, src/*.tar.gz, cases): $CONFORMANCE_ORACLE,
// else ../shared/oracle beside the repository, else /work/shared/oracle.
func OracleDir() string {
	if d := os.Getenv("CONFORMANCE_ORACLE"); d != "" {
		return d
	}
	for _, d := range []string{"../../../shared/oracle", "/work/shared/oracle"} {
		if st, err := os.Stat(filepath.Join(d, "build-postfix")); err == nil && !st.IsDir() {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	return "/work/shared/oracle"
}

// CacheDir is where release trees are cached: $CONFORMANCE_CACHE, else
// $XDG_CACHE_HOME/postfixtls/postfix (~/.cache/postfixtls/postfix). A tree is
// CacheDir/<sha256 of the tarball>/<VERSION>, so a changed tarball gets a new build and the
// same tarball is never built twice.
func CacheDir() (string, error) {
	if d := os.Getenv("CONFORMANCE_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: no cache directory: %v", ErrBuild, err)
	}
	return filepath.Join(d, "postfixtls", "postfix"), nil
}

// Releases lists the versions that have a tarball in oracle/src, in version order.
func Releases(oracle string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(oracle, "src", "postfix-*.tar.gz"))
	if err != nil {
		return nil, err
	}
	var vs []string
	for _, f := range m {
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "postfix-"), ".tar.gz")
		if versionRE.MatchString(v) {
			vs = append(vs, v)
		}
	}
	sortVersions(vs)
	return vs, nil
}

func sortVersions(vs []string) {
	key := func(v string) [3]int {
		var k [3]int
		for i, f := range strings.SplitN(v, ".", 3) {
			k[i], _ = strconv.Atoi(f)
		}
		return k
	}
	less := func(a, b string) bool {
		ka, kb := key(a), key(b)
		for i := range ka {
			if ka[i] != kb[i] {
				return ka[i] < kb[i]
			}
		}
		return false
	}
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && less(vs[j], vs[j-1]); j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

// SelectRelease turns a CONFORMANCE_POSTFIX value into a Release: "" or "debian" is the
// system's Postfix; a value with a slash is a release tree made by build-postfix; a version
// (3.11.6) is built from the oracle's tarball into the cache, or taken from the cache when
// that tarball was built before. Build progress goes to log.
func SelectRelease(ctx context.Context, spec string, log io.Writer) (Release, error) {
	switch {
	case spec == "" || spec == "debian":
		v, err := mailVersion(ctx, "postconf")
		if err != nil {
			return Release{}, err
		}
		return Release{Version: v, Compat: "3.7"}, nil
	case strings.Contains(spec, "/"):
		return OpenTree(ctx, spec)
	case versionRE.MatchString(spec):
		dir, err := BuildRelease(ctx, spec, OracleDir(), log)
		if err != nil {
			return Release{}, err
		}
		return OpenTree(ctx, dir)
	}
	return Release{}, fmt.Errorf("%w: CONFORMANCE_POSTFIX=%q is neither \"debian\", a version (3.11.6) nor a tree path", ErrBuild, spec)
}

// OpenTree checks a build-postfix tree and reads its version and compatibility level.
func OpenTree(ctx context.Context, dir string) (Release, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Release{}, fmt.Errorf("%w: %v", ErrBuild, err)
	}
	r := Release{Dir: dir}
	for _, p := range []string{"postfix", "postconf", "sendmail", "postdrop"} {
		if st, err := os.Stat(r.bin(p)); err != nil || st.IsDir() {
			return Release{}, fmt.Errorf("%w: %s: no usr/sbin/%s (make the tree with build-postfix)", ErrBuild, dir, p)
		}
	}
	if r.Version, err = mailVersion(ctx, r.bin("postconf")); err != nil {
		return Release{}, err
	}
	out, err := exec.CommandContext(ctx, r.bin("postconf"), "-dh", "config_directory").Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != r.configDir() {
		return Release{}, fmt.Errorf("%w: %s: its built-in config_directory is %q, not %s (not a build-postfix tree)", ErrBuild, dir, got, r.configDir())
	}
	r.Compat = treeCompat(dir)
	return r, nil
}

// treeCompat is the compatibility_level of the release's shipped main.cf: BUILD-INFO's
// compatibility_level= line, else the tree's etc/postfix/main.cf ("" before 3.0).
func treeCompat(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, "BUILD-INFO")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "compatibility_level="); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "etc", "postfix", "main.cf"))
	re := regexp.MustCompile(`(?m)^compatibility_level\s*=\s*(\S+)\s*$`)
	if m := re.FindAllStringSubmatch(string(b), -1); m != nil {
		return m[len(m)-1][1]
	}
	return ""
}

func mailVersion(ctx context.Context, postconf string) (string, error) {
	out, err := exec.CommandContext(ctx, postconf, "-dh", "mail_version").Output()
	v := strings.TrimSpace(string(out))
	if err != nil || v == "" {
		return "", fmt.Errorf("%w: %s -dh mail_version: %v", ErrBuild, postconf, err)
	}
	return v, nil
}

// BuildRelease returns the cached tree of version, building it first with the oracle's
// build-postfix when the cache has no complete build of that tarball (BUILD-INFO naming its
// sha256). Concurrent callers wait on a lock file. A failed build is an ErrBuild error that
// ends with the end of build-postfix's output; Postfix 2.x is ErrUnbuildable without trying.
func BuildRelease(ctx context.Context, version, oracle string, log io.Writer) (string, error) {
	if !versionRE.MatchString(version) {
		return "", fmt.Errorf("%w: %q is not a version like 3.11.6", ErrBuild, version)
	}
	if strings.HasPrefix(version, "2.") {
		return "", fmt.Errorf("%w: Postfix %s: its src/tls uses OpenSSL 1.0 APIs (SSL_TXT_SSLV2, the opaque DH struct); "+
			"Postfix was ported to OpenSSL 1.1 in 3.1/3.2 and this system has OpenSSL 3 (see %s/README.md)", ErrUnbuildable, version, oracle)
	}
	tarball := filepath.Join(oracle, "src", "postfix-"+version+".tar.gz")
	sum, err := fileSHA256(tarball)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuild, err)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cache, sum)
	tree := filepath.Join(root, version)
	if built(tree, sum) {
		return tree, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuild, err)
	}
	lock, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuild, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("%w: lock %s: %v", ErrBuild, lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	// built by another process while we waited
	if built(tree, sum) {
		return tree, nil
	}
	fmt.Fprintf(log, "conformance: building Postfix %s from %s into %s (once; cached by the tarball's sha256)\n", version, tarball, tree)
	var tail bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(oracle, "build-postfix"), version, root)
	cmd.Stdout = io.MultiWriter(log, &tail)
	cmd.Stderr = io.MultiWriter(log, &tail)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: BUILD FAILED: %s %s %s: %v\n%s", ErrBuild, cmd.Path, version, root, err, lastLines(tail.String(), 30))
	}
	if !built(tree, sum) {
		return "", fmt.Errorf("%w: BUILD FAILED: build-postfix %s succeeded but %s has no usable build (BUILD-INFO with sha256=%s, usr/sbin/postconf)", ErrBuild, version, tree, sum)
	}
	return tree, nil
}

// built reports that tree holds a finished build of the tarball with this sha256.
func built(tree, sum string) bool {
	f, err := os.Open(filepath.Join(tree, "BUILD-INFO"))
	if err != nil {
		return false
	}
	defer f.Close()
	ok := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "source=") && strings.Contains(sc.Text(), " sha256="+sum) {
			ok = true
		}
	}
	if st, err := os.Stat(filepath.Join(tree, "usr", "sbin", "postconf")); err != nil || st.IsDir() {
		return false
	}
	return ok
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
