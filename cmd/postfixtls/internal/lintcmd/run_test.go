package lintcmd

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run is Run, as the tests moved from examples/lint call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Run(ctx, args, stdout, stderr)
}

// TestUnknownOverrideWarning: -o with a name Postfix does not know warns as postconf does.
func TestUnknownOverrideWarning(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_security_level = may\n"), 0o644))
	var out, errb bytes.Buffer
	Run(context.Background(), []string{"-c", dir, "-version", "3.7.11", "-o", "smtp_tls_security_levle=secure"}, &out, &errb)
	assert.Equal(t, "postfixtls: warning: "+dir+"/main.cf: unused parameter: smtp_tls_security_levle=secure\n", errb.String())
}
