package checkcmd

import (
	"context"
	"io"
)

// run is Run without standard input, as the tests moved from examples/check call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Run(ctx, args, nil, stdout, stderr)
}
