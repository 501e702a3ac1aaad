// Command lint checks Postfix TLS policy tables and the main.cf settings around them, the way
// Postfix's SMTP client would read them, and then says what probably does not do what was
// meant. It is an example of embedding package policy/lint, which does all the checking
// (its documentation lists what is checked, with which Postfix rule, and the finding codes);
// this command only reads flags, prints and chooses the exit status.
//
// Usage:
//
//	lint [-C dir] [-version v] [-o name=value]... [-json] [-dns] [-max n] [TABLE...]
//
// With -C, DIR/main.cf (and DIR/master.cf when present) are read, and every file-backed table
// named by smtp_tls_policy_maps and lmtp_tls_policy_maps is linted. Each TABLE argument is a
// table ("hash:/etc/postfix/tls_policy") or a plain path, which is read as a texthash: source
// file. -dns looks up the MX hosts of secure rows with the system resolver.
//
// The emulated Postfix release is -version, else the installed one (postconf -h
// mail_version), else the newest this module knows.
//
// Each finding is one line, "file:line: severity: code: message", followed by the offending
// text and a "fix:" line. -json prints one object instead:
//
//	{"version":"3.7.11","findings":[{"file":..,"line":..,"severity":..,"code":..,
//	 "message":..,"text":..,"fix":..}],"errors":N,"advice":N,"warnings":N,"notes":N}
//
// where advice = warnings + notes. Advice is limited to -max findings per file and code
// (default 20, 0 = all); the rest is counted in a "more-findings" note. Errors are never
// limited.
//
// # Exit status
//
//	0  no errors and no warnings (notes alone do not count)
//	1  warnings (advice) but no Postfix-level errors
//	2  Postfix-level errors were found, or lint could not run: bad usage, unreadable main.cf
//	   (a message on stderr), or a main.cf syntax error Postfix would refuse to start with
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// multiFlag collects repeated -o options.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// run is the whole command: it parses args, lints, writes to stdout and returns the exit
// status. Usage and configuration errors go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o lint.Options
	fl := flag.NewFlagSet("lint", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var version string
	var ov multiFlag
	var jsonOut, dns bool
	fl.StringVar(&o.ConfigDir, "C", "", "Postfix configuration `dir`ectory (main.cf, master.cf)")
	fl.StringVar(&version, "version", "", "Postfix release to emulate, e.g. 3.7.11 (default: the installed one, else the newest known)")
	fl.Var(&ov, "o", "override a main.cf parameter, `name=value` (repeatable)")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object")
	fl.BoolVar(&dns, "dns", false, "look up MX records (system resolver) to check secure rows")
	fl.IntVar(&o.MaxAdvice, "max", 20, "advice findings shown per file and code (0: all)")
	fl.IntVar(&o.ChunkSize, "chunk", lint.DefaultChunkSize, "bytes of table text read per chunk")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: lint [-C dir] [-version v] [-o name=value]... [-json] [-dns] [-max n] [TABLE...]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitClean
		}
		return exitUsage
	}
	o.Tables = fl.Args()
	o.Overrides = ov
	if o.ConfigDir == "" && len(o.Tables) == 0 {
		fmt.Fprintln(stderr, "lint: nothing to lint: give -C dir and/or TABLE arguments")
		fl.Usage()
		return exitUsage
	}
	if o.MaxAdvice < 0 || o.ChunkSize <= 0 {
		fmt.Fprintln(stderr, "lint: -max must be >= 0 and -chunk > 0")
		return exitUsage
	}
	if version != "" {
		v, err := policy.ParseKnownVersion(version)
		if err != nil {
			fmt.Fprintln(stderr, "lint: -version:", err)
			return exitUsage
		}
		o.Version = v
	} else {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := policy.DetectVersion(dctx, o.ConfigDir)
		cancel()
		if err != nil {
			v = policy.Latest()
		}
		o.Version = v
	}
	if dns {
		o.LookupMX = net.DefaultResolver.LookupMX
	}

	p := &printer{w: bufio.NewWriterSize(stdout, 64<<10), json: jsonOut, version: o.Version.String()}
	sum, err := lint.Run(ctx, o, p.finding)
	if err == nil {
		err = p.finish(sum)
	}
	if err != nil {
		fmt.Fprintln(stderr, "lint:", strings.TrimPrefix(err.Error(), "lint: "))
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
