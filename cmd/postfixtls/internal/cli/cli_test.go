package cli

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigFlags: -c, the deprecated -C, repeated -o and their checks.
func TestConfigFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Register(fs, DefaultConfigDir)
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, DefaultConfigDir, c.Dir)
	assert.False(t, c.Given)

	require.NoError(t, fs.Parse([]string{"-c", "/x", "-o", "a=1", "-o", "b = 2", "-version", "3.7.11"}))
	assert.Equal(t, "/x", c.Dir)
	assert.True(t, c.Given)
	assert.Equal(t, ListFlag{"a=1", "b = 2"}, c.Overrides)
	var errb bytes.Buffer
	require.NoError(t, c.Check("p", &errb))
	assert.Empty(t, errb.String())

	require.NoError(t, fs.Parse([]string{"-C", "/y", "-o", "novalue"}))
	assert.Equal(t, "/y", c.Dir)
	err := c.Check("p", &errb)
	var ue *UsageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Msg, `-o "novalue": expected name=value`)
	assert.Contains(t, errb.String(), "p: warning: -C is deprecated; use -c")
}

// TestParse: -h is status 0, a bad flag 2.
func TestParse(t *testing.T) {
	var errb bytes.Buffer
	code, ok := Parse(flag.NewFlagSet("t", flag.ContinueOnError), []string{"-h"}, "usage: t\n", &errb)
	assert.Equal(t, []any{0, false}, []any{code, ok})
	assert.Contains(t, errb.String(), "usage: t")
	code, ok = Parse(flag.NewFlagSet("t", flag.ContinueOnError), []string{"-x"}, "usage: t\n", &errb)
	assert.Equal(t, []any{2, false}, []any{code, ok})
	code, ok = Parse(flag.NewFlagSet("t", flag.ContinueOnError), []string{"a"}, "usage: t\n", &errb)
	assert.Equal(t, []any{0, true}, []any{code, ok})
}

// TestReadDestinations skips blank lines and comments.
func TestReadDestinations(t *testing.T) {
	d, err := ReadDestinations(strings.NewReader("# list\n a.test \n\n[b.test]:587\n#c.test\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a.test", "[b.test]:587"}, d)
}
