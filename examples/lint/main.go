// Command lint checks Postfix TLS policy tables and the main.cf settings around them, the way
// Postfix's SMTP client would read them, and then says what probably does not do what was
// meant.
//
// Usage:
//
//	lint [-C dir] [-version v] [-o name=value]... [-json] [-dns] [-max n] [TABLE...]
//
// With -C, DIR/main.cf (and DIR/master.cf when present) are read, and every file-backed table
// named by smtp_tls_policy_maps and lmtp_tls_policy_maps is linted: texthash: tables and the
// source files of hash:, btree:, lmdb:, cdb:, dbm: and sdbm: tables (what postmap was given).
// Each TABLE argument is a table ("hash:/etc/postfix/tls_policy") or a plain path, which is
// read as a texthash: source file. Pattern tables (regexp:, pcre:) are opened for Postfix's
// warnings only.
//
// The emulated Postfix release is -version, else the installed one (postconf -h
// mail_version), else the newest this module knows.
//
// # What is reported
//
// First, everything Postfix itself would complain about, in Postfix's exact words, with
// file:line (severity "error"): lines the table reader skips, duplicate keys, compiled tables
// that are missing or older than their source, and every policy entry Postfix rejects (an
// invalid entry makes smtp(8) defer all mail for that destination with "4.7.5 client TLS
// configuration problem"; it never falls back to the global level).
//
// Then advice (severity "warning" or "note"): keys that can never match the next hop Postfix
// looks up ("[relay]" while relayhost is "[relay]:587"; "example.com." with a trailing dot;
// "*.example.com"; a bare domain that does not cover its subdomains), secure rows whose
// default match excludes the MX hosts (with -dns), weak or mis-sized fingerprints, "hostname"
// in a secure match list, dane without "smtp_dns_support_level = dnssec", obsolete
// parameters, and "none" rows that override a stronger global level.
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
//
// # Streaming
//
// A table is read in chunks of whole logical lines (64 KiB by default, -chunk) and each chunk
// is handed to the tables package's own reader, so every message is Postfix's; a second
// goroutine reads and parses the next chunk while the previous one is linted. Only a set of
// key hashes (duplicates, ".domain" twins) stays in memory for the whole table, so a
// 1,000,000-entry table lints in about a second in 150-250 MB.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy"
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

// options are the parsed command line.
type options struct {
	dir       string
	version   policy.Version
	versionOK bool
	overrides []string
	json      bool
	dns       bool
	max       int
	tables    []string
	chunk     int // bytes per chunk (tests make it small)
	// lookupMX replaces the system resolver's MX lookup (tests); nil means
	// net.DefaultResolver.
	lookupMX func(ctx context.Context, name string) ([]*net.MX, error)
}

// run is the whole command: it parses args, lints, writes to stdout and returns the exit
// status. Usage and configuration errors go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("lint", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var version string
	var ov multiFlag
	fl.StringVar(&o.dir, "C", "", "Postfix configuration `dir`ectory (main.cf, master.cf)")
	fl.StringVar(&version, "version", "", "Postfix release to emulate, e.g. 3.7.11 (default: the installed one, else the newest known)")
	fl.Var(&ov, "o", "override a main.cf parameter, `name=value` (repeatable)")
	fl.BoolVar(&o.json, "json", false, "print one JSON object")
	fl.BoolVar(&o.dns, "dns", false, "look up MX records (system resolver) to check secure rows")
	fl.IntVar(&o.max, "max", 20, "advice findings shown per file and code (0: all)")
	fl.IntVar(&o.chunk, "chunk", 64<<10, "bytes of table text read per chunk")
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
	o.tables = fl.Args()
	o.overrides = ov
	if o.dir == "" && len(o.tables) == 0 {
		fmt.Fprintln(stderr, "lint: nothing to lint: give -C dir and/or TABLE arguments")
		fl.Usage()
		return exitUsage
	}
	if o.max < 0 || o.chunk <= 0 {
		fmt.Fprintln(stderr, "lint: -max must be >= 0 and -chunk > 0")
		return exitUsage
	}
	if version != "" {
		v, err := policy.ParseVersion(version)
		if err != nil {
			fmt.Fprintln(stderr, "lint:", err)
			return exitUsage
		}
		o.version, o.versionOK = v, true
	} else {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := policy.DetectVersion(dctx, o.dir)
		cancel()
		if err == nil {
			o.version, o.versionOK = v, true
		} else {
			o.version = policy.Latest()
		}
	}
	status, err := lint(ctx, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "lint:", err)
		return exitUsage
	}
	return status
}
