// Package monitorcmd is the "postfixtls monitor" subcommand: flags around package
// smtpclient/monitor, which checks on a schedule and serves the Prometheus metrics.
package monitorcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/cli"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
	"github.com/postfixtls/postfixtls/smtpclient/monitor"
)

// Usage is the usage text of the monitor subcommand.
const Usage = `usage: postfixtls monitor [-c config_dir] [-o name=value]... [-version v] [-listen addr] [-interval d]
                          [-jitter d] [-j N] [-timeout d] [-resolver addr] [-f FILE] DESTINATION...

Checks each destination every -interval (plus jitter) and serves Prometheus metrics on
http://ADDR/metrics and /healthz until SIGINT or SIGTERM. The metrics are in the README.

Exit status: 0 after a signal, 2 usage or configuration error, or the listener failed.
`

// Run is the monitor subcommand: it returns the exit status when ctx ends.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("postfixtls monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg cli.Config
	cfg.Register(fs, cli.DefaultConfigDir)
	listen := fs.String("listen", "127.0.0.1:9464", "`address` to serve /metrics and /healthz on")
	interval := fs.Duration("interval", monitor.DefaultInterval, "time between two checks of a destination")
	jitter := fs.Duration("jitter", 0, "upper bound of the random delay before each check (default: a tenth of -interval; 0: none)")
	jobs := fs.Int("j", monitor.DefaultConcurrency, "checks running at once")
	timeout := fs.Duration("timeout", 60*time.Second, "bound for one check (0: none)")
	resolverAddr := fs.String("resolver", "", "validating DNS resolver `host:port` (default: /etc/resolv.conf)")
	file := fs.String("f", "", "read destinations from `FILE`, one a line")
	if code, ok := cli.Parse(fs, args, Usage, stderr); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "postfixtls monitor: %v\n", err)
		return 2
	}
	if err := cfg.Check("postfixtls monitor", stderr); err != nil {
		return fail(err)
	}
	jitterGiven := false
	fs.Visit(func(f *flag.Flag) { jitterGiven = jitterGiven || f.Name == "jitter" })
	if *jitter < 0 {
		return fail(cli.Usagef("-jitter %s: must not be negative", *jitter))
	}
	switch {
	case !jitterGiven:
		*jitter = 0 // monitor.Config: a tenth of the interval
	case *jitter == 0:
		*jitter = -1 // monitor.Config: none
	}
	dests := fs.Args()
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return fail(fmt.Errorf("-f: %w", err))
		}
		more, err := cli.ReadDestinations(f)
		f.Close()
		if err != nil {
			return fail(fmt.Errorf("-f %s: %w", *file, err))
		}
		dests = append(dests, more...)
	}
	if len(dests) == 0 {
		return fail(cli.Usagef("missing DESTINATION"))
	}
	if err := cfg.StatDir(); err != nil {
		return fail(err)
	}
	dir := cfg.Dir
	if _, err := os.Stat(dir + "/main.cf"); !cfg.Given && err != nil {
		dir = ""
	}
	v, _, err := cli.PickVersion(ctx, cfg.Version, dir)
	if err != nil {
		return fail(err)
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: v, ConfigDir: dir, Overrides: cfg.Overrides})
	if err != nil {
		return fail(err)
	}
	cli.WarnOverrides(s, stderr)
	opt := smtpclient.CheckOptions{Deadline: *timeout, TrustCache: &smtpclient.TrustCache{}}
	if *timeout == 0 {
		opt.Deadline = -1
	}
	if *resolverAddr != "" {
		r, _, err := cli.Resolver(*resolverAddr)
		if err != nil {
			return fail(err)
		}
		opt.Resolver = r
	} else if opt.Resolver, err = smtpclient.SystemResolver(); err != nil {
		return fail(fmt.Errorf("%w: %w", policy.ErrConfig, err))
	}
	mon, err := monitor.New(monitor.Config{Settings: s, Destinations: dests, Interval: *interval, Jitter: *jitter, Concurrency: *jobs,
		CheckOptions: opt, Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return fail(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *listen)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "postfixtls monitor: serving http://%s/metrics for %d destinations (Postfix %s)\n", ln.Addr(), len(dests), v)
	var wg sync.WaitGroup
	wg.Go(func() { _ = mon.Run(ctx) })
	serr := mon.Serve(ctx, ln)
	wg.Wait()
	if serr != nil && !errors.Is(serr, context.Canceled) {
		return fail(serr)
	}
	return 0
}
