package explaincmd

import (
	"context"
	"io"
)

// run is Run, as the tests moved from examples/explain call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(ctx, args, stdin, stdout, stderr)
}
