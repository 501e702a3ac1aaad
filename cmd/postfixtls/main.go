// Command postfixtls answers, the way Postfix's SMTP client would, whether Postfix would
// deliver to a destination under its TLS policy, and if not why and what the narrowest fix
// is. It has one subcommand per question:
//
//	postfixtls check [-c config_dir] [-o name=value]... [-l level] [-m match] [-json] [-j N] DESTINATION...
//	postfixtls lint [-c config_dir] [-o name=value]... [-json] [TABLE...]
//	postfixtls explain [-c config_dir] [-json] [FILE...]
//	postfixtls monitor [-c config_dir] [-listen addr] [-interval d] DESTINATION...
//	postfixtls version
//	postfixtls help [subcommand]
//
// -c and -o are postconf's: the configuration directory (default /etc/postfix) and a
// main.cf parameter override. Every subcommand prints its flags and exit statuses with -h.
//
// # Exit status
//
//	check    0 every destination would be delivered, 1 some would be deferred or bounced,
//	         2 usage or configuration error, or a destination could not be checked
//	lint     0 clean, 1 advice only, 2 Postfix-level errors or lint could not run
//	explain  0 nothing deferred, 1 deferrals or bounces explained, 2 usage or input error
//	monitor  0 after SIGINT or SIGTERM, 2 usage, configuration or listener error
//	version, help  0; 2 for an unknown subcommand
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/checkcmd"
	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/explaincmd"
	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/lintcmd"
	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/monitorcmd"
	"github.com/postfixtls/postfixtls/internal/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usage is the top-level help.
const usage = `usage: postfixtls SUBCOMMAND [flags] [arguments]

Would Postfix deliver to this destination under this TLS policy, and if not, why, and what
is the narrowest change that fixes it?

subcommands:
  check     check destinations live (or a saved chain offline) as Postfix's SMTP client would
  lint      Postfix's errors and advice for tls_policy tables and main.cf
  explain   explain deferred and bounced deliveries from Postfix's logs
  monitor   check destinations on a schedule and serve Prometheus metrics
  version   print the module version and the Postfix release emulated
  help      help [subcommand]: this text, or a subcommand's flags and exit statuses

-c config_dir (default /etc/postfix) and -o name=value are postconf's.
`

// run dispatches to the subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "check":
		return checkcmd.Run(ctx, rest, stdin, stdout, stderr)
	case "lint":
		return lintcmd.Run(ctx, rest, stdout, stderr)
	case "explain":
		var limit func(int64)
		if os.Getenv("GOMEMLIMIT") == "" { // the user's own limit wins
			limit = func(n int64) { debug.SetMemoryLimit(n) }
		}
		return explaincmd.RunProcess(ctx, rest, stdin, stdout, stderr, limit)
	case "monitor":
		return monitorcmd.Run(ctx, rest, stdout, stderr)
	case "version":
		if len(rest) > 0 {
			fmt.Fprintln(stderr, "usage: postfixtls version")
			return 2
		}
		return version(ctx, stdout)
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return 0
		}
		if rest[0] == "help" || rest[0] == "version" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return run(ctx, []string{rest[0], "-h"}, stdin, stdout, stdout)
	}
	fmt.Fprintf(stderr, "postfixtls: unknown subcommand %q\n%s", sub, usage)
	return 2
}

// version prints the module version (from the build information) and the Postfix release
// the commands would emulate without -version.
func version(ctx context.Context, w io.Writer) int {
	mod := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		mod = bi.Main.Version
	}
	fmt.Fprintf(w, "postfixtls %s\n", mod)
	dir := ""
	if _, err := os.Stat("/etc/postfix/main.cf"); err == nil {
		dir = "/etc/postfix"
	}
	v, from := release.Default(ctx, dir)
	fmt.Fprintf(w, "postfix    %s  from %s\n", v, from)
	return 0
}
