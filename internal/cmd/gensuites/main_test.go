package main

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

func TestParse(t *testing.T) {
	out := `          0x13,0x02 - TLS_AES_256_GCM_SHA384         TLSv1.3 Kx=any      Au=any   Enc=AESGCM(256)            Mac=AEAD
          0xC0,0x2C - ECDHE-ECDSA-AES256-GCM-SHA384  TLSv1.2 Kx=ECDH     Au=ECDSA Enc=AESGCM(256)            Mac=AEAD

          0x00,0x2C - PSK-NULL-SHA                   SSLv3   Kx=PSK      Au=PSK   Enc=None                   Mac=SHA1
`
	got, err := parse(strings.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, []suite{
		{0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2", "ECDH", "ECDSA", "AESGCM(256)", "AEAD"},
		{0x002c, "PSK-NULL-SHA", "SSLv3", "PSK", "PSK", "None", "SHA1"},
	}, got, "TLS 1.3 suites are left out, the order is OpenSSL's")

	src, err := render(got, Options{Package: "p", Var: "v", Type: "T"})
	require.NoError(t, err)
	assert.Contains(t, string(src), "package p\n")
	assert.Contains(t, string(src), "var v = [...]T{\n\t{0xc02c, \"ECDHE-ECDSA-AES256-GCM-SHA384\", \"TLSv1.2\", \"ECDH\", \"ECDSA\", \"AESGCM(256)\", \"AEAD\"},\n")

	for _, bad := range []string{
		"0xC0,0x2C ECDHE-ECDSA-AES256-GCM-SHA384 TLSv1.2 Kx=ECDH Au=ECDSA Enc=AESGCM(256) Mac=AEAD",
		"0xC0;0x2C - X TLSv1.2 Kx=ECDH Au=ECDSA Enc=AESGCM(256) Mac=AEAD",
		"0xC0,0x2C - X TLSv1.2 Kx=ECDH Au=ECDSA Mac=AEAD Enc=AESGCM(256)",
		"0x13,0x02 - TLS_AES_256_GCM_SHA384 TLSv1.3 Kx=any Au=any Enc=AESGCM(256) Mac=AEAD",
	} {
		_, err := parse(strings.NewReader(bad))
		assert.Error(t, err, bad)
	}
}

// directive is the go:generate line that runs this command.
const directive = "//go:generate go run github.com/postfixtls/postfixtls/internal/cmd/gensuites "

// TestGeneratedTablesUpToDate finds every go:generate line of the module that runs
// gensuites, regenerates its file into a temporary directory with the line's flags and
// requires the committed file to be the same, byte for byte. Without openssl(1) it is
// skipped, except in CI, where a missing program is a failure.
func TestGeneratedTablesUpToDate(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		need.Missing(t, "openssl is required in CI: %v", err)
	}
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	found := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			args, ok := strings.CutPrefix(sc.Text(), directive)
			if !ok {
				continue
			}
			found++
			checkDirective(t, openssl, filepath.Dir(p), strings.Fields(args))
		}
		return sc.Err()
	})
	require.NoError(t, err)
	require.Positive(t, found, "no go:generate line runs gensuites")
}

// checkDirective regenerates the file one go:generate line names (its -o, relative to dir)
// and compares it with the committed one.
func checkDirective(t *testing.T, openssl, dir string, args []string) {
	t.Helper()
	var target string
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-o" && i+1 < len(args) {
			target = args[i+1]
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	require.NotEmpty(t, target, "go:generate gensuites in %s writes no file (-o)", dir)
	tmp := filepath.Join(t.TempDir(), filepath.Base(target))
	require.NoError(t, run(append(append([]string{"-openssl", openssl}, rest...), "-o", tmp), nil))
	want, err := os.ReadFile(filepath.Join(dir, target))
	require.NoError(t, err)
	got, err := os.ReadFile(tmp)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "%s is not what gensuites writes now: run go generate in %s", filepath.Join(dir, target), dir)
}
