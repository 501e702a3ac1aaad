package readme

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// block is one fenced code block of the README.
type block struct {
	lang  string
	lines []string
}

func readBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []block
	var cur *block
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &block{lang: strings.TrimPrefix(l, "```")}
		case cur != nil && strings.HasPrefix(l, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// quoted reports whether one line of out holds the parts of want around each "…", in order.
func quoted(out, want string) bool {
	parts := strings.Split(want, "…")
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, part := range parts {
			i := strings.Index(rest, part)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(part):]
		}
		if ok {
			return true
		}
	}
	return false
}

// runnable reports a postfixtls command line the test may run: offline only (check with
// -cert), never monitor (it serves until a signal).
func runnable(args []string) bool {
	switch args[0] {
	case "lint", "explain", "version":
		return true
	case "check":
		for _, a := range args {
			if a == "-cert" {
				return true
			}
		}
	}
	return false
}

// TestREADMECommands runs every "go run ./examples/..." command the README shows (and every
// offline "postfixtls ..." one in an untagged block, built from ./cmd/postfixtls; "sh"
// blocks are examples for the reader's system, not run), from the
// repository root, and checks the quoted output (a ```text block right after the command
// block) against what it printed. The exit status must be a documented result (0 or 1; for
// lint also 2, "errors found"), never a usage or configuration error.
func TestREADMECommands(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	blocks := readBlocks(t, filepath.Join(root, "README.md"))
	bin := t.TempDir()
	built := map[string]string{}
	ran := 0
	for i, b := range blocks {
		for _, line := range b.lines {
			cmd := strings.TrimSpace(line)
			if j := strings.Index(cmd, "  #"); j >= 0 {
				cmd = strings.TrimSpace(cmd[:j])
			}
			fields := strings.Fields(cmd)
			var pkg string
			var argv []string
			switch {
			case strings.HasPrefix(cmd, "go run ./examples/"):
				pkg, argv = fields[2], fields[3:]
			case strings.HasPrefix(cmd, "postfixtls ") && b.lang == "" && runnable(fields[1:]):
				pkg, argv = "./cmd/postfixtls", fields[1:]
			default:
				continue
			}
			exe, ok := built[pkg]
			if !ok {
				exe = filepath.Join(bin, filepath.Base(pkg))
				build := exec.Command("go", "build", "-o", exe, pkg)
				build.Dir = root
				out, err := build.CombinedOutput()
				require.NoError(t, err, "go build %s: %s", pkg, out)
				built[pkg] = exe
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			c := exec.CommandContext(ctx, exe, argv...)
			c.Dir = root
			var stdout, stderr bytes.Buffer
			c.Stdout, c.Stderr = &stdout, &stderr
			err := c.Run()
			cancel()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err, cmd)
			}
			allowed := []int{0, 1}
			if strings.HasSuffix(pkg, "/lint") || (len(argv) > 0 && argv[0] == "lint") {
				// lint exits 2 when it found Postfix-level errors (its example table has one);
				// a usage error would also print to stderr.
				allowed = append(allowed, 2)
				require.Emptyf(t, stderr.String(), "%s", cmd)
			}
			require.Containsf(t, allowed, code, "%s exited %d: %s", cmd, code, stderr.String())
			require.NotEmpty(t, stdout.String(), cmd)
			ran++
			// The quoted output, if the next block is one.
			if i+1 < len(blocks) && blocks[i+1].lang == "text" {
				for _, want := range blocks[i+1].lines {
					want = strings.TrimSpace(want)
					if want == "" {
						continue
					}
					// "…" stands for text the README leaves out (an absolute path); the parts
					// around it must appear in this order on one line of the output.
					require.Truef(t, quoted(stdout.String(), want), "README quotes output of %q that it does not print: %q", cmd, want)
				}
			}
		}
	}
	require.GreaterOrEqual(t, ran, 5, "the README shows the demo, check, explain and lint commands")
}
