// Package explaincmd is the "postfixtls explain" subcommand: flags, printing and exit codes
// around package maillog, which reads the logs and explains each destination.
package explaincmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/cli"
	"github.com/postfixtls/postfixtls/internal/release"
	"github.com/postfixtls/postfixtls/maillog"
	"github.com/postfixtls/postfixtls/policy"
)

// Exit statuses.
const (
	exitOK     = 0 // nothing failed
	exitFailed = 1 // at least one destination has failed deliveries
	exitUsage  = 2 // usage, configuration or read error
)

// Usage is the usage text of the explain subcommand.
const Usage = `usage: postfixtls explain [-c config_dir] [-version v] [-json] [-all] [-max-destinations n] [FILE...]

Reads Postfix logs (standard input without FILE, or "-"; gzip detected by content) and explains
each destination with deferred or bounced mail. With -c, findings and fixes from the
configuration.

Exit status: 0 nothing deferred, 1 deferrals or bounces explained, 2 usage error or no
Postfix log lines in an input.
`

// counts is what the caps of the reader and the collector left out (-json "counts").
type counts struct {
	maillog.CollectorStats
	Lines              int64 `json:"lines"`
	PostfixLines       int64 `json:"postfix_lines"`
	Deliveries         int64 `json:"deliveries"`
	EvictedQueueIDs    int64 `json:"evicted_queue_ids"`
	EvictedProcesses   int64 `json:"evicted_processes"`
	RetiredQueueIDs    int64 `json:"retired_queue_ids"`
	RetiredProcesses   int64 `json:"retired_processes"`
	Diagnostics        int64 `json:"diagnostics"`
	DiagnosticsDropped int64 `json:"diagnostics_not_kept"`
}

// fileDiagnostic is a reader diagnostic with its file.
type fileDiagnostic struct {
	File string `json:"file"`
	maillog.Diagnostic
}

// Run runs the explain subcommand (args without the subcommand name) and returns its
// exit status; it leaves the process's memory limit alone (see RunProcess).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return RunProcess(ctx, args, stdin, stdout, stderr, nil)
}

// MemoryBound is the memory explain needs with -max-destinations n: the reader's fixed
// caps and buffers, and about 1 KiB per destination kept, twice over for the garbage
// collector's headroom.
func MemoryBound(n int) int64 { return 28<<20 + int64(n)*2<<10 }

// RunProcess is Run for the postfixtls process: once the flags are read, setLimit (when
// not nil) is given MemoryBound of -max-destinations, for the Go runtime's soft memory
// limit (runtime/debug.SetMemoryLimit), so that the heap stays near what explain keeps
// instead of growing to twice it.
func RunProcess(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, setLimit func(int64)) int {
	fs := flag.NewFlagSet("postfixtls explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg cli.Config
	cfg.Register(fs, "")
	configDir, version := &cfg.Dir, &cfg.Version
	asJSON := fs.Bool("json", false, "print JSON")
	all := fs.Bool("all", false, "also list destinations whose deliveries all succeeded")
	maxDest := fs.Int("max-destinations", 10000, "destinations kept and shown; the rest are counted")
	if code, ok := cli.Parse(fs, args, Usage, stderr); !ok {
		return code
	}
	ew := cleanWriter{stderr}
	if err := cfg.Check("postfixtls explain", ew); err != nil {
		fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
		return exitUsage
	}
	if *maxDest <= 0 {
		fmt.Fprintf(ew, "postfixtls explain: -max-destinations %d: must be at least 1\n", *maxDest)
		return exitUsage
	}
	if setLimit != nil {
		setLimit(MemoryBound(*maxDest))
	}
	em, err := pickVersion(ctx, *version, *configDir)
	if err != nil {
		fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
		return exitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	var inputs []*maillog.Input
	defer func() {
		for _, in := range inputs {
			in.Close()
		}
	}()
	for _, f := range files {
		in, err := maillog.OpenInput(f, stdin)
		if err != nil {
			fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
			return exitUsage
		}
		inputs = append(inputs, in)
	}
	maillog.SortInputs(inputs)
	var settings *policy.Settings
	var emulated *emulation
	if *configDir != "" {
		s, err := policy.Load(ctx, policy.LoadOptions{Version: em.Version, ConfigDir: *configDir, Overrides: cfg.Overrides})
		if err != nil {
			fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
			return exitUsage
		}
		cli.WarnOverrides(s, stderr)
		settings, emulated = s, &em
	}
	c := maillog.NewCollector(maillog.ExplainOptions{Settings: settings, All: *all, MaxDestinations: *maxDest})
	var diags []fileDiagnostic
	var n counts
	logVersion := ""
	var seq int64
	for _, in := range inputs {
		r := maillog.NewReader(in.R, maillog.Options{})
		for {
			d, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close() // its read-ahead stops before the input is closed
				fmt.Fprintf(ew, "postfixtls explain: %s: %v\n", in.Display(), err)
				return exitUsage
			}
			seq++
			d.Seq = seq // one order across the inputs
			c.Add(ctx, d)
		}
		st := r.Stats()
		if st.Lines > 0 && st.Postfix == 0 {
			fmt.Fprintf(ew, "postfixtls explain: no Postfix log lines found in %s\n", in.Display())
			return exitUsage
		}
		n.Lines += st.Lines
		n.PostfixLines += st.Postfix
		n.Deliveries += st.Deliveries
		n.EvictedQueueIDs += st.EvictedQueueIDs
		n.EvictedProcesses += st.EvictedProcesses
		n.RetiredQueueIDs += st.RetiredQueueIDs
		n.RetiredProcesses += st.RetiredProcesses
		n.Diagnostics += st.Diagnostics
		n.DiagnosticsDropped += st.DiagnosticsDropped
		for _, d := range r.Diagnostics() {
			diags = append(diags, fileDiagnostic{in.Display(), d})
		}
		if v := r.Version(); v != "" {
			logVersion = v
		}
	}
	if emulated != nil && emulated.From != fromFlag && logVersion != "" {
		emulated.logVersion = logVersion
		if v, err := policy.ParseVersion(logVersion); err == nil {
			if v.String() != emulated.Version.String() {
				s, err := policy.Load(ctx, policy.LoadOptions{Version: v, ConfigDir: *configDir, Overrides: cfg.Overrides})
				if err != nil {
					fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
					return exitUsage
				}
				c.SetSettings(s)
			}
			emulated.Version, emulated.From = v, fromLog
		}
	}
	n.CollectorStats = c.Stats()
	code := exitOK
	if n.FailedDeliveriesDropped > 0 {
		code = exitFailed
	}
	failed := func(e *maillog.Explanation) {
		if e.Deliveries > e.Statuses["sent"] {
			code = exitFailed
		}
	}
	// The explanations are explained and written one at a time (Collector.Each).
	bw := bufio.NewWriterSize(stdout, 64<<10)
	if *asJSON {
		err := writeJSON(ctx, bw, c, logVersion, emulated, n, diags, failed)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
			return exitUsage
		}
		return code
	}
	w := cleanWriter{bw}
	if emulated != nil {
		// Only the configuration (-C) is read as a release reads it; without it nothing
		// depends on the release, and nothing is said.
		fmt.Fprintf(w, "postfix      %s  from %s\n", emulated.Version, emulated.describe())
		fmt.Fprintln(w)
	}
	shown := 0
	err = c.Each(ctx, func(e *maillog.Explanation) error {
		failed(e)
		if shown > 0 {
			fmt.Fprintln(w)
		}
		shown++
		printText(w, *e)
		return nil
	})
	if err == nil && shown == 0 {
		if n.FailedDeliveriesDropped > 0 {
			fmt.Fprintln(w, "no failed deliveries among the destinations shown")
		} else {
			fmt.Fprintln(w, "no failed deliveries found")
		}
	}
	printCounts(w, n, *all)
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(ew, "postfixtls explain: %v\n", err)
		return exitUsage
	}
	if len(diags) > 0 {
		lines := "lines"
		if n.Diagnostics == 1 {
			lines = "line"
		}
		where := ""
		if len(inputs) > 1 {
			where = diags[0].File + " "
		}
		fmt.Fprintf(ew, "postfixtls explain: %d %s skipped or not understood (first: %sline %d: %s)\n", n.Diagnostics, lines, where, diags[0].Line, diags[0].Text)
	}
	return code
}

// writeJSON writes the -json object, the explanations one at a time.
func writeJSON(ctx context.Context, w *bufio.Writer, c *maillog.Collector, logVersion string, emulated *emulation, n counts, diags []fileDiagnostic, seen func(*maillog.Explanation)) error {
	field := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %q: %s,\n", name, b)
		return nil
	}
	w.WriteString("{\n")
	if logVersion != "" {
		if err := field("log_version", logVersion); err != nil {
			return err
		}
	}
	if emulated != nil {
		if err := field("emulated", emulated); err != nil {
			return err
		}
	}
	w.WriteString(`  "explanations": [`)
	i := 0
	err := c.Each(ctx, func(e *maillog.Explanation) error {
		seen(e)
		b, err := json.MarshalIndent(e, "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			w.WriteString(",")
		}
		i++
		w.WriteString("\n    ")
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if i > 0 {
		w.WriteString("\n  ")
	}
	w.WriteString("],\n")
	b, err := json.MarshalIndent(n, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  \"counts\": %s", b)
	if len(diags) > 0 {
		b, err := json.MarshalIndent(diags, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, ",\n  \"diagnostics\": %s", b)
	}
	_, err = w.WriteString("\n}\n")
	return err
}

// printCounts says what the caps left out, when they left out anything.
func printCounts(w io.Writer, n counts, all bool) {
	if n.DestinationsDropped > 0 || n.EvictedQueueIDs > 0 || n.EvictedProcesses > 0 || n.DiagnosticsDropped > 0 || n.DestinationsEvicted > 0 {
		fmt.Fprintln(w)
	}
	if n.DestinationsDropped > 0 {
		atLeast := ""
		if n.DestinationsAtLeast {
			atLeast = "at least "
		}
		fmt.Fprintf(w, "not shown: %s%d destinations (more than -max-destinations %d); %d of their %d deliveries failed\n",
			atLeast, n.DestinationsDropped, n.MaxDestinations, n.FailedDeliveriesDropped, n.DeliveriesDropped)
	}
	if n.DestinationsEvicted > 0 && !all {
		fmt.Fprintf(w, "not kept: %d destinations whose deliveries all succeeded, to make room for failing ones\n", n.DestinationsEvicted)
	}
	if n.EvictedQueueIDs > 0 {
		fmt.Fprintf(w, "evicted: %d queue IDs with connection lines and no status line yet (more than the reader keeps at once); their deliveries lack those lines\n", n.EvictedQueueIDs)
	}
	if n.EvictedProcesses > 0 {
		fmt.Fprintf(w, "evicted: %d smtp/lmtp processes with connection lines no queue ID had claimed (more than the reader keeps at once)\n", n.EvictedProcesses)
	}
	if n.DiagnosticsDropped > 0 {
		fmt.Fprintf(w, "not kept: %d diagnostics of further kinds (only counted)\n", n.DiagnosticsDropped)
	}
}

// Where the emulated release came from (emulation.From).
const (
	fromFlag      = "-version"  // the -version flag
	fromLog       = "log"       // the log's "daemon started -- version X" line
	fromInstalled = "installed" // postconf -c dir -h mail_version
	fromLatest    = "latest"    // none of them: the newest release known
)

// emulation is the Postfix release whose rules read the configuration, and where that
// choice came from (fromFlag, fromLog, fromInstalled or fromLatest).
type emulation struct {
	Version policy.Version `json:"version"`
	From    string         `json:"from"`
	// how says where an installed release came from, in check's words; logVersion is the
	// version the log showed, as logged.
	how, logVersion string
}

// describe says where the release came from, in check's words ("-version").
func (e emulation) describe() string {
	switch e.From {
	case fromLog:
		return "the log (master: daemon started -- version " + e.logVersion + ")"
	case fromInstalled:
		if e.logVersion != "" {
			return fmt.Sprintf("%s; the log's version %q is not one this library reads", e.how, e.logVersion)
		}
		return e.how
	case fromLatest:
		if e.logVersion != "" {
			return fmt.Sprintf("newest release known (the log's version %q is not one this library reads; use -version)", e.logVersion)
		}
		return "newest release known (the log shows no \"daemon started -- version\" line and no installed Postfix answered; use -version)"
	}
	return e.From
}

// pickVersion chooses the release before the log is read: -version, else (with -C) the
// installed Postfix's, else the newest known. A bad -version is an error. The log's version,
// known once it is read, replaces the last two.
func pickVersion(ctx context.Context, flagValue, configDir string) (emulation, error) {
	if flagValue != "" {
		v, err := policy.ParseKnownVersion(flagValue)
		if err != nil {
			return emulation{}, fmt.Errorf("-version: %w", err) // err quotes the value
		}
		return emulation{Version: v, From: fromFlag}, nil
	}
	if configDir != "" {
		if v, how, ok := release.Installed(ctx, configDir); ok {
			return emulation{Version: v, From: fromInstalled, how: how}, nil
		}
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
	if e.LastLogged != "" {
		fmt.Fprintf(w, "   last: %s\n", e.LastLogged)
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
	plain := true // printable ASCII (and the line end): written as it is
	body := b
	if len(body) > 0 && body[len(body)-1] == '\n' {
		body = body[:len(body)-1]
	}
	for _, x := range body {
		if x-' ' > '~'-' ' { // below ' ' or above '~' (x-' ' wraps around below ' ')
			plain = false
			break
		}
	}
	if plain {
		if _, err := c.w.Write(b); err != nil {
			return 0, err
		}
		return len(b), nil
	}
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
