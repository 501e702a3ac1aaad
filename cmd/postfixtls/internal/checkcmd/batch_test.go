package checkcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonLines decodes JSONL output.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var vs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v), sc.Text())
		vs = append(vs, v)
	}
	return vs
}

// TestJSONLInputOrder: several destinations, checked concurrently, print one line each in
// input order, with the exit status of the worst and a summary on stderr.
func TestJSONLInputOrder(t *testing.T) {
	w := newOfflineWorld(t)
	dests := []string{"user@fastmail.test", "[mx.example.test]", "verify.fastmail.test", "bad.test", "[mx.example.test]:587"}
	for _, j := range []string{"1", "3", "16"} {
		args := append([]string{"-c", w.dir, "-version", "3.7.11", "-json", "-j", j, "-cert", w.mxChain}, dests...)
		code, out, errs := invoke(t, args...)
		require.Equal(t, 1, code, errs)
		vs := jsonLines(t, out)
		require.Len(t, vs, len(dests))
		for i, v := range vs {
			assert.Equal(t, dests[i], v["destination"])
		}
		assert.Equal(t, "deliver", vs[1]["outcome"])
		assert.Equal(t, "defer", vs[3]["outcome"])
		assert.Contains(t, errs, "postfixtls check: 5 destinations in ")
		assert.Contains(t, errs, "deliver 2, defer 3, bounce 0, error 0")
	}
}

// TestDestinationsFromFileAndStdin: -f FILE, -f - and standard input without arguments.
func TestDestinationsFromFileAndStdin(t *testing.T) {
	w := newOfflineWorld(t)
	list := "# survey\n[mx.example.test]\n\nbad.test\n"
	file := writeFile(t, filepath.Join(t.TempDir(), "list"), []byte(list))
	base := []string{"-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain}
	for name, c := range map[string]struct {
		args  []string
		stdin string
	}{
		"-f FILE": {append(append([]string{}, base...), "-f", file), ""},
		"-f -":    {append(append([]string{}, base...), "-f", "-"), list},
		"stdin":   {base, list},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), c.args, strings.NewReader(c.stdin), &out, &errb)
			require.Equal(t, 1, code, errb.String())
			vs := jsonLines(t, out.String())
			require.Len(t, vs, 2)
			assert.Equal(t, "[mx.example.test]", vs[0]["destination"])
			assert.Equal(t, "bad.test", vs[1]["destination"])
		})
	}
}

// TestShard: the shards split the list without overlap, in input order.
func TestShard(t *testing.T) {
	d := []string{"a", "b", "c", "d", "e"}
	assert.Equal(t, []string{"a", "c", "e"}, Shard(d, 1, 2))
	assert.Equal(t, []string{"b", "d"}, Shard(d, 2, 2))
	assert.Equal(t, d, Shard(d, 1, 1))
	assert.Nil(t, Shard(d, 6, 6))
	i, n, err := ParseShard("2/3")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, []int{i, n})
	for _, bad := range []string{"0/2", "3/2", "1", "a/b", "1/0"} {
		_, _, err := ParseShard(bad)
		assert.Error(t, err, bad)
	}

	w := newOfflineWorld(t)
	code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain, "-shard", "2/2",
		"bad.test", "[mx.example.test]", "bad.test")
	require.Equal(t, 0, code, errs)
	vs := jsonLines(t, out)
	require.Len(t, vs, 1)
	assert.Equal(t, "[mx.example.test]", vs[0]["destination"])
	assert.Contains(t, errs, "(shard 2/2 of 3)")
}

// TestCommandLinePolicy: -l and -m replace the configured policy; the source says
// "command line"; -F names the CA file.
func TestCommandLinePolicy(t *testing.T) {
	w := newOfflineWorld(t)
	// bad.test's table row is invalid; the command line's policy replaces it.
	code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain,
		"-l", "secure", "-m", "nexthop:mx.example.test", "bad.test")
	require.Equal(t, 0, code, errs+out)
	vs := jsonLines(t, out)
	require.Len(t, vs, 1)
	pol := vs[0]["policy"].(map[string]any)
	assert.Equal(t, "secure", pol["level"])
	assert.Equal(t, "command line: secure match=nexthop:mx.example.test", pol["source"])
	assert.Equal(t, []any{"nexthop", "mx.example.test"}, pol["match"])

	// -F with a file that holds no CA of the chain: not verified.
	other := writeFile(t, filepath.Join(t.TempDir(), "ca.pem"), mustRead(t, w.selfSign))
	code, out, errs = invoke(t, "-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain,
		"-l", "verify", "-F", other, "[mx.example.test]")
	require.Equal(t, 1, code, errs+out)
	assert.Equal(t, "defer", jsonLines(t, out)[0]["outcome"])

	// The text output names the source too.
	_, out, _ = invoke(t, "-c", w.dir, "-version", "3.7.11", "-cert", w.mxChain, "-l", "encrypt", "-p", ">=TLSv1.2, !TLSv1.3", "bad.test")
	assert.Contains(t, out, "from       command line: encrypt protocols=>=TLSv1.2:!TLSv1.3")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestUnknownOverrideWarning: -o with a name Postfix does not know warns as postconf does.
func TestUnknownOverrideWarning(t *testing.T) {
	w := newOfflineWorld(t)
	code, _, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain,
		"-o", "smtp_tls_security_levle=secure", "-o", "smtp_tls_loglevel=1", "-o", "myhostname=x.test", "[mx.example.test]")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "postfixtls: warning: "+w.dir+"/main.cf: unused parameter: smtp_tls_security_levle=secure\n", errs)
}

// TestDeprecatedC: -C still works, with a warning.
func TestDeprecatedC(t *testing.T) {
	w := newOfflineWorld(t)
	code, _, errs := invoke(t, "-C", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain, "[mx.example.test]")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "-C is deprecated; use -c")
}

// TestExitStatusWithErrors: a destination that cannot be checked is a JSON line with its
// error, in its place, and makes the exit status 2; all delivering is 0.
func TestExitStatusWithErrors(t *testing.T) {
	w := newOfflineWorld(t)
	base := []string{"-c", w.dir, "-version", "3.7.11", "-json", "-cert", w.mxChain}
	code, out, errs := invoke(t, append(base, "[mx.example.test]", "[a.test", "bad.test")...)
	require.Equal(t, 2, code, errs)
	vs := jsonLines(t, out)
	require.Len(t, vs, 3)
	assert.Equal(t, "[a.test", vs[1]["destination"])
	assert.Contains(t, vs[1]["error"], "invalid next-hop destination")
	assert.Equal(t, "defer", vs[2]["outcome"])
	assert.Contains(t, errs, "postfixtls check: [a.test: ")
	assert.Contains(t, errs, "deliver 1, defer 1, bounce 0, error 1")

	code, _, errs = invoke(t, append(base, "[mx.example.test]", "[mx.example.test]:25")...)
	assert.Equal(t, 0, code, errs)
}
