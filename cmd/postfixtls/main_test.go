package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func invoke(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// TestDispatch: subcommands, help and exit statuses of the top level.
func TestDispatch(t *testing.T) {
	code, _, errs := invoke()
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "usage: postfixtls SUBCOMMAND")

	code, _, errs = invoke("frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, `unknown subcommand "frobnicate"`)

	code, out, _ := invoke("help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "monitor")

	for sub, want := range map[string]string{"check": "usage: postfixtls check", "lint": "usage: postfixtls lint",
		"explain": "usage: postfixtls explain", "monitor": "usage: postfixtls monitor"} {
		code, out, _ := invoke("help", sub)
		assert.Equal(t, 0, code, sub)
		assert.Contains(t, out, want)
		assert.Contains(t, out, "Exit status", sub)
		code, _, errs := invoke(sub, "-h")
		assert.Equal(t, 0, code, sub)
		assert.Contains(t, errs, want)
	}

	code, _, errs = invoke("check")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "missing DESTINATION")
}

// TestVersion prints the module version and the emulated release.
func TestVersion(t *testing.T) {
	code, out, _ := invoke("version")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^postfixtls \S+\npostfix    \d+\.\d+\.\d+  from .+\n$`, out)
	code, _, _ = invoke("version", "x")
	assert.Equal(t, 2, code)
}
