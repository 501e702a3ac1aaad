package tables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// postmapTool returns the postmap binary and a config directory with an empty main.cf,
// or skips (fails under CI) when Postfix is not installed.
func postmapTool(t *testing.T) (bin, confDir string) {
	t.Helper()
	bin, err := exec.LookPath("postmap")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/postmap"); err2 == nil {
			bin = "/usr/sbin/postmap"
		} else {
			need.Missing(t, "postmap not found: install the postfix package (and postfix-pcre for pcre tests)")
		}
	}
	confDir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(confDir, "main.cf"), nil, 0o644))
	return bin, confDir
}

// runPostmap runs postmap and returns stdout and the distinct warning texts (without the
// "postmap: warning: " prefix), in first-seen order.
func runPostmap(t *testing.T, bin, confDir, stdin string, args ...string) (string, []string) {
	return runPostmapD(t, false, bin, confDir, stdin, args...)
}

// writeCool writes a file with an mtime in the past, so that dict_thash does not wait for
// a "hot" file to cool down and read it again.
func writeCool(t *testing.T, file, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(file, []byte(data), 0o644))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(file, old, old))
}

func runPostmapD(t *testing.T, dedup bool, bin, confDir, stdin string, args ...string) (string, []string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-c", confDir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && strings.Contains(strings.Join(args, " "), "-q") && !strings.Contains(errb.String(), "fatal:") {
		err = nil // postmap -q exits 1 when no key was found
	}
	require.NoError(t, err, "postmap %v: %s", args, errb.String())
	seen := map[string]bool{}
	var warns []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if m, ok := strings.CutPrefix(l, "postmap: warning: "); ok && (!dedup || !seen[m]) {
			seen[m] = true
			warns = append(warns, m)
		}
	}
	return out.String(), warns
}

// genSource writes a random source file exercising continuation, comments, quoting,
// folding, duplicates and malformed lines.
func genSource(r *rand.Rand, n int) string {
	words := []string{"example.com", "Example.COM", "[mx.example.net]:587", ".example.org", "\"a b\"",
		"x\\ y", "k\\\"q", "MiXeD.Example", "dup", "DUP", "a:b", "trail:", "[192.0.2.1]", "\"q\"x"}
	vals := []string{"secure", "may", "verify match=nexthop:dot-nexthop", "encrypt protocols=>=TLSv1.2",
		"fingerprint match=AB:CD", "none # note", "dane-only", "Secure Match=X"}
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch r.Intn(12) {
		case 0:
			b.WriteString("# comment\n")
		case 1:
			b.WriteString("\n")
		case 2:
			b.WriteString("   \t\n")
		case 3:
			fmt.Fprintf(&b, "%s\n", words[r.Intn(len(words))]) // no value
		case 4:
			fmt.Fprintf(&b, "  %s\n", vals[r.Intn(len(vals))]) // continuation (or leading ws)
		case 5:
			fmt.Fprintf(&b, "%s\t%s\r\n", words[r.Intn(len(words))], vals[r.Intn(len(vals))])
		case 6:
			fmt.Fprintf(&b, "bad\"q %s\n", vals[r.Intn(len(vals))])
		default:
			fmt.Fprintf(&b, "%s%d %s  \n", words[r.Intn(len(words))], r.Intn(20), vals[r.Intn(len(vals))])
		}
	}
	return b.String()
}

func sortedPairs(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

func TestPostmapAgreementTexthash(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, conf := postmapTool(t)
	dir := t.TempDir()
	for seed := int64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprintf("§1.1 generated file %d", seed), func(t *testing.T) {
			src := genSource(rand.New(rand.NewSource(seed)), 120)
			file := filepath.Join(dir, fmt.Sprintf("src%d", seed))
			writeCool(t, file, src)
			out, warns := runPostmap(t, bin, conf, "", "-s", "texthash:"+file)
			st, err := ParseSource(strings.NewReader(src), file, "", Options{FoldFixed: true, DuplicateWarn: true})
			require.NoError(t, err)
			var mine []string
			for _, e := range st.Entries() {
				mine = append(mine, e.Key+"\t"+e.Value)
			}
			sort.Strings(mine)
			assert.Equal(t, sortedPairs(out), mine)
			assert.Equal(t, warns, messagesOf(st.Diagnostics()))
		})
	}
}

func TestPostmapAgreementHash(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, conf := postmapTool(t)
	dir := t.TempDir()
	ctx := context.Background()
	for seed := int64(11); seed <= 14; seed++ {
		t.Run(fmt.Sprintf("§1.1 postmap -q on generated hash file %d", seed), func(t *testing.T) {
			src := genSource(rand.New(rand.NewSource(seed)), 120)
			file := filepath.Join(dir, fmt.Sprintf("map%d", seed))
			writeCool(t, file, src)
			_, buildWarns := runPostmap(t, bin, conf, "", "hash:"+file)
			// ReadSource: the source as postmap read it, with its build warnings.
			tb, err := Open(ctx, "hash:"+file, Options{FoldFixed: true, ReadSource: true})
			require.NoError(t, err)
			assert.Equal(t, buildWarns, messagesOf(tb.Diagnostics()), "postmap's build warnings")
			st := tb.(*SourceTable)
			// Without it: the .db postmap built, which must answer the same.
			ct, err := Open(ctx, "hash:"+file, Options{FoldFixed: true})
			require.NoError(t, err)
			require.IsType(t, &CompiledTable{}, ct)
			assert.Empty(t, ct.Diagnostics(), "smtp(8) does not see postmap's build warnings")
			// Query every stored key in several spellings plus misses.
			var keys []string
			for _, e := range st.Entries() {
				keys = append(keys, e.Key, strings.ToUpper(e.Key), e.Key+"x")
			}
			keys = append(keys, "nothere", "EXAMPLE.COM0")
			out, _ := runPostmap(t, bin, conf, strings.Join(keys, "\n")+"\n", "-q", "-", "hash:"+file)
			var mine, compiled []string
			for _, k := range keys {
				r, err := tb.Lookup(ctx, k)
				require.NoError(t, err)
				if r.Found {
					mine = append(mine, k+"\t"+r.Value)
					assert.Contains(t, r.Source.Note, "source file beside hash:")
				}
				r, err = ct.Lookup(ctx, k)
				require.NoError(t, err)
				if r.Found {
					compiled = append(compiled, k+"\t"+r.Value)
				}
			}
			sort.Strings(mine)
			sort.Strings(compiled)
			assert.Equal(t, sortedPairs(out), mine)
			assert.Equal(t, sortedPairs(out), compiled)
		})
	}
}

// runPostmapFail runs postmap expecting a fatal error and returns the fatal text.
func runPostmapFail(t *testing.T, bin, confDir string, args ...string) (string, []string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-c", confDir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	var fatal string
	var warns []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if m, ok := strings.CutPrefix(l, "postmap: fatal: "); ok {
			fatal = m
		}
		if m, ok := strings.CutPrefix(l, "postmap: warning: "); ok {
			warns = append(warns, m)
		}
	}
	return fatal, warns
}

func sortStrings(s []string) { sort.Strings(s) }

// With smtputf8_enable = yes (compatibility_level >= 1) dict_thash drops non-UTF-8 lines
// and stores keys through dict_utf8, which casefolds non-ASCII keys: postmap -s shows the
// folded keys and the duplicates found after folding.
func TestPostmapAgreementTexthashUTF8(t *testing.T) {
	if testing.Short() {
		t.Skip("postmap oracle: skipped in -short mode")
	}
	bin, _ := postmapTool(t)
	conf := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(conf, "main.cf"), []byte("compatibility_level = 3.6\n"), 0o644))
	file := filepath.Join(t.TempDir(), "utf8")
	src := "Ǫ 0\nBÜCHER.Example secure\nbücher.example dup\nbad \xff\nStraße.example may\nMiXeD.example verify\n"
	writeCool(t, file, src)
	out, warns := runPostmap(t, bin, conf, "", "-s", "texthash:"+file)
	st, err := ParseSource(strings.NewReader(src), file, "", Options{FoldFixed: true, DuplicateWarn: true, UTF8: true})
	require.NoError(t, err)
	var mine []string
	for _, e := range st.Entries() {
		mine = append(mine, e.Key+"\t"+e.Value)
	}
	sort.Strings(mine)
	assert.Equal(t, sortedPairs(out), mine, "§1.1 keys casefolded under UTF-8")
	assert.Equal(t, warns, messagesOf(st.Diagnostics()))
}
