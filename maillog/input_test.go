package maillog

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenInput: gzip is detected by content, the first timestamp is found, and SortInputs
// puts the older file first.
func TestOpenInput(t *testing.T) {
	dir := t.TempDir()
	newer := "Mar  2 10:00:00 mx postfix/smtp[1]: line\n"
	older := "Mar  1 10:00:00 mx postfix/smtp[1]: line\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(older))
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "maillog"), []byte(newer), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "maillog.1"), gz.Bytes(), 0o644)) // no .gz suffix

	a, err := OpenInput(filepath.Join(dir, "maillog"), nil)
	require.NoError(t, err)
	defer a.Close()
	b, err := OpenInput(filepath.Join(dir, "maillog.1"), nil)
	require.NoError(t, err)
	defer b.Close()
	text, err := io.ReadAll(b.R)
	require.NoError(t, err)
	assert.Equal(t, older, string(text))

	inputs := []*Input{a, b}
	SortInputs(inputs)
	assert.Equal(t, []*Input{b, a}, inputs)

	in, err := OpenInput("-", strings.NewReader("no stamp\n"))
	require.NoError(t, err)
	assert.Equal(t, "standard input", in.Display())
	assert.True(t, in.First.IsZero())
	inputs = []*Input{a, in}
	SortInputs(inputs) // not all dated: as given
	assert.Equal(t, []*Input{a, in}, inputs)

	_, err = OpenInput(filepath.Join(dir, "none"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
