package lint

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// TestCompiledDiffers: lint reads the source and compares it with the compiled file smtp(8)
// reads, built here by the real postmap: a row the compiled file lacks or answers otherwise
// is found before any mail is sent; a compiled file that is no database is unavailable.
func TestCompiledDiffers(t *testing.T) {
	bin := need.Command(t, "postmap")
	main := "smtp_tls_policy_maps = hash:{{dir}}/tls_policy\n"
	t.Run("§1.1 source edited after postmap", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": "a.example secure\nb.example may\nd.example may\n"})
		out, err := exec.Command(bin, "-c", dir, "hash:"+dir+"/tls_policy").CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tls_policy"), []byte("a.example encrypt\nc.example secure\n"), 0o644))
		old, src := time.Now().Add(-time.Hour), time.Now().Add(-10*time.Minute)
		require.NoError(t, os.Chtimes(filepath.Join(dir, "tls_policy.db"), old, old))
		require.NoError(t, os.Chtimes(filepath.Join(dir, "tls_policy"), src, src))
		r := lintDir(t, dir, "3.7.11")
		var got []string
		for _, f := range r.Findings {
			if f.Code == CodeCompiledDiffers {
				got = append(got, fmt.Sprintf("%d %s", f.Line, f.Message))
				assert.Equal(t, "run postmap hash:"+dir+"/tls_policy (then postfix reload)", f.Fix)
			}
		}
		db := dir + "/tls_policy.db"
		assert.Equal(t, []string{
			fmt.Sprintf(`1 key "a.example": %s, which smtp(8) reads, answers "secure", not this row's "encrypt"`, db),
			fmt.Sprintf(`2 key "c.example" is not in %s, which smtp(8) reads: it does not find this row`, db),
			fmt.Sprintf(`0 %s, which smtp(8) reads, holds 2 keys that the source file does not: "b.example", "d.example"`, db),
		}, got)
		_, stale := find(r, CodeTableStale)
		assert.True(t, stale)
	})
	t.Run("§1.1 a fresh compiled file agrees", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": "A.example secure\nb.example may\nb.example encrypt\n"})
		out, err := exec.Command(bin, "-c", dir, "hash:"+dir+"/tls_policy").CombinedOutput()
		require.NoError(t, err, "%s", out)
		r := lintDir(t, dir, "3.7.11")
		_, differs := find(r, CodeCompiledDiffers)
		assert.False(t, differs, "%v", r.Findings)
	})
	t.Run("§9.19 a compiled file that is no database", func(t *testing.T) {
		dir := setup(t, main, map[string]string{"tls_policy": "a.example secure\n", "tls_policy.db": "not a database\n"})
		r := lintDir(t, dir, "3.7.11")
		f, ok := find(r, CodeTableUnavailable)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, fmt.Sprintf("hash:%s/tls_policy is unavailable. open database %s/tls_policy.db: Invalid argument", dir, dir), f.Message)
		assert.True(t, strings.HasPrefix(f.Fix, "run postmap"))
	})
}
