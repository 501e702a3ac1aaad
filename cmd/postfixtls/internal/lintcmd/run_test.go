package lintcmd

import (
	"context"
	"io"
)

// run is Run, as the tests moved from examples/lint call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Run(ctx, args, stdout, stderr)
}
