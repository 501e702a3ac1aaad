// Package lintcmd is the "postfixtls lint" subcommand: flags, printing and exit codes
// around package policy/lint, which does all the checking (its documentation lists what is
// checked, with which Postfix rule, and the finding codes).
package lintcmd

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/cli"
	"github.com/postfixtls/postfixtls/internal/release"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/lint"
)

// Exit statuses.
const (
	exitClean  = 0
	exitAdvice = 1
	exitErrors = 2
	exitUsage  = 2
)

// Usage is the usage line of the lint subcommand.
const Usage = `usage: postfixtls lint [-c config_dir] [-version v] [-o name=value]... [-json] [-dns] [-max n] [TABLE...]

Exit status: 0 clean (notes alone do not count), 1 warnings (advice) only, 2 Postfix-level
errors, or lint could not run (usage, unreadable main.cf).
`

// Run is the lint subcommand: it parses args, lints, writes to stdout and returns the exit
// status. Usage and configuration errors go to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o lint.Options
	fl := flag.NewFlagSet("postfixtls lint", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var cfg cli.Config
	var jsonOut, dns bool
	cfg.Register(fl, "")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object")
	fl.BoolVar(&dns, "dns", false, "look up MX records (system resolver) to check secure rows")
	fl.IntVar(&o.MaxAdvice, "max", 20, "advice findings shown per file and code (0: all)")
	fl.IntVar(&o.ChunkSize, "chunk", lint.DefaultChunkSize, "bytes of table text read per chunk")
	if code, ok := cli.Parse(fl, args, Usage, stderr); !ok {
		return code
	}
	if err := cfg.Check("postfixtls lint", stderr); err != nil {
		fmt.Fprintln(stderr, "postfixtls lint:", err)
		return exitUsage
	}
	o.ConfigDir, o.Tables, o.Overrides = cfg.Dir, fl.Args(), cfg.Overrides
	version := cfg.Version
	if o.ConfigDir == "" && len(o.Tables) == 0 {
		fmt.Fprintln(stderr, "postfixtls lint: nothing to lint: give -c config_dir and/or TABLE arguments")
		fl.Usage()
		return exitUsage
	}
	if o.MaxAdvice < 0 || o.ChunkSize <= 0 {
		fmt.Fprintln(stderr, "postfixtls lint: -max must be >= 0 and -chunk > 0")
		return exitUsage
	}
	if version != "" {
		v, err := policy.ParseKnownVersion(version)
		if err != nil {
			fmt.Fprintln(stderr, "postfixtls lint: -version:", err)
			return exitUsage
		}
		o.Version = v
	} else {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		o.Version, _ = release.Default(dctx, o.ConfigDir)
		cancel()
	}
	// master.cf's services are not known here: their per-transport parameters may be
	// warned about.
	cli.PrintWarnings(policy.OverrideWarnings(o.Version, o.ConfigDir, o.Overrides, nil), stderr)
	if dns {
		o.LookupMX = net.DefaultResolver.LookupMX
	}

	p := &printer{w: bufio.NewWriterSize(stdout, 64<<10), json: jsonOut, version: o.Version.String()}
	sum, err := lint.Run(ctx, o, p.finding)
	if err == nil {
		err = p.finish(sum)
	}
	if err != nil {
		fmt.Fprintln(stderr, "postfixtls lint:", strings.TrimPrefix(err.Error(), "lint: "))
		return exitUsage
	}
	switch {
	case sum.Errors > 0:
		return exitErrors
	case sum.Warnings > 0:
		return exitAdvice
	}
	return exitClean
}

// printer writes the findings as they come, one line each (plus text and fix) or as one
// JSON object.
type printer struct {
	w       *bufio.Writer
	json    bool
	version string
	started bool // the JSON head is written
	any     bool // a finding is written
}

// finding writes one finding.
func (p *printer) finding(f lint.Finding) error {
	if p.json {
		p.head()
		if p.any {
			p.w.WriteByte(',')
		}
		p.any = true
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		_, err = p.w.Write(b)
		return err
	}
	loc := f.File
	if loc == "" {
		loc = "(settings)"
	}
	if f.Line > 0 {
		loc += ":" + strconv.Itoa(f.Line)
	}
	fmt.Fprintf(p.w, "%s: %s: %s: %s\n", esc(loc), f.Severity, f.Code, esc(f.Message))
	if f.Text != "" {
		fmt.Fprintf(p.w, "\t%s\n", esc(f.Text))
	}
	if f.Fix != "" {
		fmt.Fprintf(p.w, "\tfix: %s\n", esc(f.Fix))
	}
	return nil
}

// esc makes text from the configuration safe for a terminal: a line with control
// characters, a byte-order mark or invalid UTF-8 is shown Go-escaped ("\x1b", "\ufeff").
func esc(s string) string {
	bad := func(r rune) bool {
		return !unicode.IsGraphic(r) && r != ' ' && r != '\t' || r == utf8.RuneError || r == '\ufeff'
	}
	if strings.IndexFunc(s, bad) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func (p *printer) head() {
	if !p.started {
		p.started = true
		fmt.Fprintf(p.w, "{\"version\":%s,\"findings\":[", strconv.Quote(p.version))
	}
}

// finish writes the summary and flushes.
func (p *printer) finish(s lint.Summary) error {
	if p.json {
		p.head()
		fmt.Fprintf(p.w, "],\"errors\":%d,\"advice\":%d,\"warnings\":%d,\"notes\":%d}\n", s.Errors, s.Advice(), s.Warnings, s.Notes)
	} else {
		fmt.Fprintf(p.w, "lint (Postfix %s): %d errors, %d warnings, %d notes\n", s.Version, s.Errors, s.Warnings, s.Notes)
	}
	return p.w.Flush()
}
