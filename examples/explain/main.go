// Command explain reads Postfix mail logs and explains, per destination, why mail was
// deferred or bounced: the connection attempts, Postfix's verdict, and — with the
// configuration (-C) — findings and the narrowest policy fix, where the log holds the
// evidence. It says which evidence is missing otherwise.
//
//	explain [-C dir] [-version v] [-json] [-all] [FILE...]
//
// Without FILE it reads standard input ("-" also means standard input).
//
// With -C the configuration is read with the rules of one Postfix release: -version, else
// the version the log's "daemon started -- version X" line shows, else the newest release
// known. The text's first line names it and where it came from ("postfix      3.7.11  from
// -version"), as examples/check does; -json has it as "emulated" {"version", "from":
// "-version", "log" or "latest"}. Without -C nothing depends on a release, and nothing is
// said.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/postfixtls/postfixtls/maillog"
	"github.com/postfixtls/postfixtls/policy"
)

// Exit statuses.
const (
	exitOK     = 0 // nothing failed
	exitFailed = 1 // at least one destination has failed deliveries
	exitUsage  = 2 // usage, configuration or read error
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program, testable.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configDir := fs.String("C", "", "Postfix configuration directory (main.cf, master.cf, policy tables) for findings")
	version := fs.String("version", "", "Postfix version to emulate (default: the version the log shows, else the latest known)")
	asJSON := fs.Bool("json", false, "print JSON")
	all := fs.Bool("all", false, "also list destinations whose deliveries all succeeded")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: explain [-C dir] [-version v] [-json] [-all] [FILE...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	var readers []io.Reader
	for _, f := range files {
		if f == "-" {
			readers = append(readers, stdin)
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintf(stderr, "explain: %v\n", err)
			return exitUsage
		}
		defer fh.Close()
		readers = append(readers, fh)
	}
	var deliveries []maillog.Delivery
	var diags []maillog.Diagnostic
	var dropped int64 // diagnostics beyond the reader's cap, only counted
	logVersion := ""
	for i, rd := range readers {
		r := maillog.NewReader(rd, maillog.Options{})
		for {
			d, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fmt.Fprintf(stderr, "explain: %s: %v\n", files[i], err)
				return exitUsage
			}
			deliveries = append(deliveries, d)
		}
		diags = append(diags, r.Diagnostics()...)
		dropped += r.Stats().DiagnosticsDropped
		if v := r.Version(); v != "" {
			logVersion = v
		}
	}
	em, err := pickVersion(*version, logVersion)
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return exitUsage
	}
	var settings *policy.Settings
	var emulated *emulation
	if *configDir != "" {
		s, err := policy.Load(ctx, policy.LoadOptions{Version: em.Version, ConfigDir: *configDir})
		if err != nil {
			fmt.Fprintf(stderr, "explain: %v\n", err)
			return exitUsage
		}
		settings, emulated = s, &em
	}
	c := maillog.NewCollector(maillog.ExplainOptions{Settings: settings, All: *all})
	// Files may be given oldest or newest first: order by time, then by position.
	sort.SliceStable(deliveries, func(i, j int) bool {
		ti, tj := deliveries[i].Time, deliveries[j].Time
		return !ti.IsZero() && !tj.IsZero() && ti.Before(tj)
	})
	for i := range deliveries {
		deliveries[i].Seq = int64(i + 1)
		c.Add(ctx, deliveries[i])
	}
	ex := c.Explanations(ctx)
	code := exitOK
	for _, e := range ex {
		if e.Deliveries > e.Statuses["sent"] {
			code = exitFailed
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		out := struct {
			Version      string                `json:"log_version,omitempty"`
			Emulated     *emulation            `json:"emulated,omitempty"`
			Explanations []maillog.Explanation `json:"explanations"`
			Diagnostics  []maillog.Diagnostic  `json:"diagnostics,omitempty"`
		}{logVersion, emulated, ex, diags}
		if out.Explanations == nil {
			out.Explanations = []maillog.Explanation{}
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "explain: %v\n", err)
			return exitUsage
		}
		return code
	}
	if emulated != nil {
		// Only the configuration (-C) is read as a release reads it; without it nothing
		// depends on the release, and nothing is said.
		fmt.Fprintf(cleanWriter{stdout}, "postfix      %s  from %s\n", emulated.Version, emulated.describe())
		fmt.Fprintln(stdout)
	}
	if len(ex) == 0 {
		fmt.Fprintln(stdout, "no failed deliveries found")
	}
	for i, e := range ex {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printText(stdout, e)
	}
	if len(diags) > 0 {
		n := int64(len(diags)) + dropped
		lines := "lines"
		if n == 1 {
			lines = "line"
		}
		fmt.Fprintf(stderr, "explain: %d %s skipped or not understood (first: line %d: %s)\n", n, lines, diags[0].Line, diags[0].Text)
	}
	return code
}

// Where the emulated release came from (emulation.From).
const (
	fromFlag   = "-version" // the -version flag
	fromLog    = "log"      // the log's "daemon started -- version X" line
	fromLatest = "latest"   // neither: the newest release known
)

// emulation is the Postfix release whose rules read the configuration, and where that
// choice came from (fromFlag, fromLog or fromLatest).
type emulation struct {
	Version policy.Version `json:"version"`
	From    string         `json:"from"`
	// logVersion is the version the log showed, as logged.
	logVersion string
}

// describe says where the release came from, in check's words ("-version").
func (e emulation) describe() string {
	switch e.From {
	case fromLog:
		return "the log (master: daemon started -- version " + e.logVersion + ")"
	case fromLatest:
		if e.logVersion != "" {
			return fmt.Sprintf("newest release known (the log's version %q is not one this library reads; use -version)", e.logVersion)
		}
		return "newest release known (the log shows no \"daemon started -- version\" line; use -version)"
	}
	return e.From
}

// pickVersion chooses the emulated release: -version, else the version the log shows,
// else the newest known. A bad -version is an error; a log version that is not understood
// falls back to the newest release, and says so.
func pickVersion(flagValue, logVersion string) (emulation, error) {
	if flagValue != "" {
		v, err := policy.ParseKnownVersion(flagValue)
		if err != nil {
			return emulation{}, fmt.Errorf("-version: %w", err) // err quotes the value
		}
		return emulation{Version: v, From: fromFlag}, nil
	}
	if logVersion != "" {
		if v, err := policy.ParseVersion(logVersion); err == nil {
			return emulation{Version: v, From: fromLog, logVersion: logVersion}, nil
		}
		return emulation{Version: policy.Latest(), From: fromLatest, logVersion: logVersion}, nil
	}
	return emulation{Version: policy.Latest(), From: fromLatest}, nil
}

// clean replaces control characters, so log text cannot drive the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func printText(w0 io.Writer, e maillog.Explanation) {
	w := cleanWriter{w0}
	var counts []string
	for k, v := range e.Statuses {
		counts = append(counts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(counts)
	fmt.Fprintf(w, "== %s (%d deliveries: %s; %d recipients)\n", e.Destination, e.Deliveries, strings.Join(counts, ", "), e.Recipients)
	if !e.Last.IsZero() {
		fmt.Fprintf(w, "   last: %s\n", e.Last.Format("Jan _2 15:04:05"))
	}
	fmt.Fprintf(w, "   verdict: %s\n", e.Verdict)
	for _, s := range e.Story {
		fmt.Fprintf(w, "   - %s\n", s)
	}
	if p := e.Policy; p != nil {
		fmt.Fprintf(w, "   policy: %s (%s)\n", p.Level, p.Source)
	}
	for _, f := range e.Findings {
		fmt.Fprintf(w, "   finding %s: %s\n", f.Code, f.Summary)
		for _, d := range f.Details {
			fmt.Fprintf(w, "     detail: %s\n", d)
		}
		for _, fx := range f.Fixes {
			note := ""
			if c := fx.Comment(); c != "" {
				note = "  # " + c
			}
			fmt.Fprintf(w, "     fix: %s%s\n", fx, note)
		}
	}
	for _, m := range e.Missing {
		fmt.Fprintf(w, "   missing: %s\n", m)
	}
	for _, n := range e.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
}

// cleanWriter cleans everything written through it, line by line.
type cleanWriter struct{ w io.Writer }

func (c cleanWriter) Write(b []byte) (int, error) {
	s := string(b)
	nl := strings.HasSuffix(s, "\n")
	s = clean(strings.TrimSuffix(s, "\n"))
	if nl {
		s += "\n"
	}
	if _, err := io.WriteString(c.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}
