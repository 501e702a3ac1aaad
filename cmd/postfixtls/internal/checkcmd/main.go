package checkcmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/cli"
	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// Exit statuses.
const (
	exitDeliver = 0 // Postfix would deliver to every destination
	exitFail    = 1 // Postfix would defer or bounce for at least one destination
	exitUsage   = 2 // usage or configuration error, or a destination that could not be checked
)

// defaultTimeout is -timeout's default.
const defaultTimeout = 60 * time.Second

// options are the command line, parsed.
type options struct {
	cfg        cli.Config
	service    string
	resolver   string
	json       bool
	cert       string
	tlsa       cli.ListFlag
	mx         string
	sender     string
	timeout    time.Duration
	probeRcpt  bool
	level      string
	match      string
	caFile     string
	caPath     string
	protocols  string
	file       string
	jobs       int
	shard      string
	shardI     int
	shardN     int
	dests      []string
	givenFlags map[string]bool
}

// Usage is the usage text of the check subcommand.
const Usage = `usage: postfixtls check [-c config_dir] [-o name=value]... [-l level] [-m match] [-F CAfile] [-P CApath] [-p protocols]
                        [-service name] [-sender addr] [-timeout d] [-probe-rcpt] [-resolver addr] [-version v]
                        [-json] [-j N] [-shard i/n] [-f FILE] DESTINATION...
       postfixtls check [-c config_dir] [-o name=value]... -cert chain.pem [-tlsa 'RR']... [-mx host] [-version v] [-json] DESTINATION...

DESTINATION is user@domain, domain, [host] or [host]:port; -probe-rcpt needs user@domain.
Destinations come from the arguments, from -f FILE (one a line, "#" comments; "-" is
standard input), or from standard input when there are no arguments and it is not a
terminal. -l, -m and -p replace the configured policy for every destination, as
posttls-finger's do (the policy's source is "command line"); -F and -P set
smtp_tls_CAfile and smtp_tls_CApath. -json prints one JSON object per line, in input order.
With several destinations, a summary line goes to standard error at the end
(and a progress line while checking, when it is a terminal).

Exit status: 0 Postfix would deliver to every destination, 1 it would defer or bounce for
at least one, 2 usage or configuration error, or a destination that could not be checked.
`

// parseArgs reads the command line. Flags may follow destinations.
func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{givenFlags: map[string]bool{}}
	fs := flag.NewFlagSet("postfixtls check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.cfg.Register(fs, cli.DefaultConfigDir)
	fs.StringVar(&o.service, "service", "", "master.cf service `name` whose -o overrides apply (explicit next hops only)")
	fs.StringVar(&o.resolver, "resolver", "", "validating DNS resolver `host:port` (default: /etc/resolv.conf)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per destination and line (JSONL), in input order")
	fs.StringVar(&o.cert, "cert", "", "offline mode: PEM `file` with the server's chain, leaf first")
	fs.Var(&o.tlsa, "tlsa", "offline mode: a TLSA record of the server, e.g. '3 1 1 ab12...' (repeatable)")
	fs.StringVar(&o.mx, "mx", "", "offline mode: the MX `host` name the chain belongs to (default: no MX, the domain itself)")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "bound for the whole check of one destination, on top of Postfix's own timeouts (0: none)")
	fs.DurationVar(&o.timeout, "deadline", defaultTimeout, "deprecated alias of -timeout")
	fs.StringVar(&o.sender, "sender", "", "envelope sender `address` for sender_dependent_relayhost_maps and sender_dependent_default_transport_maps (default: the null sender <>)")
	fs.BoolVar(&o.probeRcpt, "probe-rcpt", false, "live mode: after the TLS part, ask each server about the recipient (MAIL FROM, RCPT TO, RSET, QUIT; never DATA)")
	fs.StringVar(&o.level, "l", "", "policy override: the security `level` for every destination, as posttls-finger -l")
	fs.StringVar(&o.match, "m", "", "policy override: the `match` list (colon separated, as posttls-finger -m); needs -l")
	fs.StringVar(&o.caFile, "F", "", "the `CAfile` (smtp_tls_CAfile), as posttls-finger -F")
	fs.StringVar(&o.caPath, "P", "", "the `CApath` (smtp_tls_CApath), as posttls-finger -P")
	fs.StringVar(&o.protocols, "p", "", "policy override: the TLS `protocols`, e.g. '>=TLSv1.2', as posttls-finger -p; needs -l")
	fs.StringVar(&o.file, "f", "", "read destinations from `FILE`, one a line (\"-\": standard input)")
	fs.IntVar(&o.jobs, "j", smtpclient.DefaultBatchConcurrency, "check `N` destinations at once")
	fs.StringVar(&o.shard, "shard", "", "check only shard `i/n` of the destinations (i from 1 to n): every n-th, starting with the i-th")
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, Usage)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				return nil, err
			}
			return nil, &cli.UsageError{Msg: err.Error()}
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		rest = rest[1:]
	}
	fs.Visit(func(f *flag.Flag) { o.givenFlags[f.Name] = true })
	if err := o.cfg.Check("postfixtls check", stderr); err != nil {
		return nil, err
	}
	o.dests = pos
	for _, d := range o.dests {
		if strings.TrimSpace(d) == "" {
			return nil, cli.Usagef("empty DESTINATION")
		}
	}
	if o.file != "" && len(pos) > 0 {
		return nil, cli.Usagef("-f %s and DESTINATION arguments: give one or the other", o.file)
	}
	if o.jobs < 1 {
		return nil, cli.Usagef("-j %d: must be at least 1", o.jobs)
	}
	if o.shard != "" {
		i, n, err := ParseShard(o.shard)
		if err != nil {
			return nil, err
		}
		o.shardI, o.shardN = i, n
	}
	if o.cert == "" && (len(o.tlsa) > 0 || o.mx != "") {
		return nil, cli.Usagef("-tlsa and -mx belong to offline mode and need -cert")
	}
	if o.probeRcpt && o.cert != "" {
		return nil, cli.Usagef("-probe-rcpt asks the server: it is for live checks, not offline mode (-cert)")
	}
	if o.cert != "" && o.resolver != "" {
		return nil, cli.Usagef("-resolver is for live checks; offline mode (-cert) makes no DNS queries")
	}
	if o.timeout < 0 {
		return nil, cli.Usagef("-timeout %s: must not be negative", o.timeout)
	}
	if o.level != "" {
		if _, ok := policy.ParseLevel(o.level); !ok {
			return nil, cli.Usagef("-l %q: not a security level (none, may, encrypt, dane, dane-only, fingerprint, verify, secure)", o.level)
		}
	} else if o.match != "" || o.protocols != "" {
		return nil, cli.Usagef("-m and -p are attributes of a policy: give the level with -l")
	}
	for name, v := range map[string]string{"l": o.level, "m": o.match, "p": o.protocols} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, cli.Usagef("-%s: the value must be one line", name)
		}
	}
	if o.service != "" && strings.ContainsAny(o.service, ": \t,=") {
		return nil, cli.Usagef("-service %q: expected a master.cf service name", o.service)
	}
	return o, nil
}

// ParseShard reads -shard "i/n": 1 <= i <= n.
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, cli.Usagef("-shard %q: expected i/n with 1 <= i <= n", s)
	}
	return i, n, nil
}

// Shard returns the destinations of shard i of n (1-based): the i-th, the (i+n)-th, ...
// Every destination is in exactly one shard, and the shards keep the input order.
func Shard(dests []string, i, n int) []string {
	var out []string
	for k := i - 1; k < len(dests); k += n {
		out = append(out, dests[k])
	}
	return out
}

// commandLinePolicy is the policy of -l, -m and -p as a policy table entry value
// (policy.LoadOptions.CommandLine); "" without -l.
func (o *options) commandLinePolicy() string {
	if o.level == "" {
		return ""
	}
	e := o.level
	if o.match != "" {
		e += " match=" + o.match
	}
	if o.protocols != "" {
		// A table entry separates attributes by white space: the list's own separators
		// become colons, which Postfix also accepts.
		p := strings.Join(strings.FieldsFunc(o.protocols, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ':' }), ":")
		e += " protocols=" + p
	}
	return e
}

// explicitNextHop reports a "[host]", "[host]:port" or "host:port" destination, which Postfix
// routes through default_transport (policy.Settings.Route).
func explicitNextHop(d string) bool {
	d = strings.TrimSpace(d)
	return strings.HasPrefix(d, "[") || (!strings.Contains(d, "@") && strings.Contains(d, ":"))
}

// Run is the check subcommand: it returns the exit status. stdin may be nil.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitDeliver
		}
		fmt.Fprintf(stderr, "postfixtls check: %v\n%s", err, Usage)
		return exitUsage
	}
	if err := o.readDestinations(stdin); err != nil {
		return usage(stderr, err)
	}
	if len(o.dests) == 0 {
		return usage(stderr, cli.Usagef("missing DESTINATION"))
	}
	if err := o.checkDestinations(); err != nil {
		return usage(stderr, err)
	}
	total := len(o.dests)
	if o.shardN > 0 {
		o.dests = Shard(o.dests, o.shardI, o.shardN)
	}
	env, err := setup(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "postfixtls check: %s\n", explain(err))
		return exitUsage
	}
	bw := bufio.NewWriter(stdout)
	prog := newProgress(stderr, len(o.dests))
	sum := summary{}
	started := time.Now()
	code := exitDeliver
	opt := env.checkOptions(o)
	err = smtpclient.CheckBatch(ctx, env.settings, o.dests, opt, smtpclient.BatchOptions{Concurrency: o.jobs,
		Check: func(ctx context.Context, d string) (*smtpclient.Verdict, error) { return env.check(ctx, o, d, opt) }},
		func(r smtpclient.BatchResult) error {
			prog.clear()
			if r.Err != nil {
				sum.errors++
				code = exitUsage
				msg := explain(r.Err)
				if o.json {
					if err := writeJSONLine(bw, struct {
						Destination string `json:"destination"`
						Error       string `json:"error"`
					}{r.Destination, msg}); err != nil {
						return err
					}
				}
				fmt.Fprintf(stderr, "postfixtls check: %s: %s\n", r.Destination, msg)
			} else {
				sum.add(r.Verdict.Outcome)
				if r.Verdict.Outcome != verdict.OutcomeDeliver && code == exitDeliver {
					code = exitFail
				}
				if o.json {
					// The contract's object, plus what Postfix would warn about while reading
					// main.cf and master.cf (fields may be added, never renamed).
					if err := writeJSONLine(bw, struct {
						*smtpclient.Verdict
						Diagnostics []string `json:"config_diagnostics,omitempty"`
					}{r.Verdict, env.diagnostics}); err != nil {
						return err
					}
				} else {
					if r.Index > 0 {
						fmt.Fprintln(bw)
					}
					env.report(o, r.Verdict).print(bw)
				}
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			prog.done()
			return nil
		})
	prog.clear()
	if err != nil {
		fmt.Fprintf(stderr, "postfixtls check: %s\n", explain(err))
		return exitUsage
	}
	shard := ""
	if o.shardN > 0 {
		shard = fmt.Sprintf(" (shard %d/%d of %d)", o.shardI, o.shardN, total)
	}
	if total > 1 {
		fmt.Fprintf(stderr, "postfixtls check: %d destinations%s in %s: %s\n", len(o.dests), shard,
			time.Since(started).Round(time.Millisecond), sum)
	}
	return code
}

func usage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "postfixtls check: %v\n%s", err, Usage)
	return exitUsage
}

// writeJSONLine writes v as one line.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// readDestinations reads -f FILE, or standard input when no destination is given and it is
// not a terminal.
func (o *options) readDestinations(stdin io.Reader) error {
	var r io.Reader
	name := o.file
	switch {
	case o.file == "-":
		r, name = stdin, "standard input"
	case o.file != "":
		f, err := os.Open(o.file)
		if err != nil {
			return fmt.Errorf("-f: %w", err)
		}
		defer f.Close()
		r = f
	case len(o.dests) == 0 && stdin != nil && !isTerminal(stdin):
		r, name = stdin, "standard input"
	}
	if r == nil {
		return nil
	}
	more, err := cli.ReadDestinations(r)
	o.dests = append(o.dests, more...)
	if err != nil {
		return fmt.Errorf("%w: reading destinations from %s: %w", policy.ErrConfig, name, err)
	}
	return nil
}

// checkDestinations applies the rules that depend on the destinations.
func (o *options) checkDestinations() error {
	for _, d := range o.dests {
		if o.probeRcpt && !strings.Contains(d, "@") {
			return cli.Usagef("-probe-rcpt needs a recipient address (user@domain) as DESTINATION, not %q", d)
		}
		if o.service != "" && !explicitNextHop(d) {
			return cli.Usagef("-service is not supported yet for %q: it is honoured only for explicit next hops "+
				"([host] or [host]:port), which Postfix hands to default_transport; for a domain or an address the "+
				"transport comes from transport_maps, relay_domains and default_transport in main.cf", d)
		}
	}
	return nil
}

// isTerminal reports whether r is a character device (a terminal).
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// summary counts the outcomes.
type summary struct{ deliver, deferred, bounce, errors int }

func (s *summary) add(o verdict.Outcome) {
	switch o {
	case verdict.OutcomeDeliver:
		s.deliver++
	case verdict.OutcomeBounce:
		s.bounce++
	default:
		s.deferred++
	}
}

func (s summary) String() string {
	return fmt.Sprintf("deliver %d, defer %d, bounce %d, error %d", s.deliver, s.deferred, s.bounce, s.errors)
}

// progress is the "done/total, rate, ETA" line on a terminal's standard error.
type progress struct {
	w           io.Writer
	on          bool
	total, n    int
	start       time.Time
	shownLength int
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, on: isTerminal(w) && total > 1, total: total, start: time.Now()}
}

// done counts one destination and redraws the line.
func (p *progress) done() {
	p.n++
	if !p.on {
		return
	}
	el := time.Since(p.start).Seconds()
	rate := float64(p.n) / el
	eta := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
	line := fmt.Sprintf("%d/%d done, %.1f/s, ETA %s", p.n, p.total, rate, eta)
	fmt.Fprintf(p.w, "\r%s", line)
	p.shownLength = len(line)
}

// clear removes the line before other output.
func (p *progress) clear() {
	if p.on && p.shownLength > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shownLength))
		p.shownLength = 0
	}
}

// env is what is loaded once and shared by every destination.
type env struct {
	settings     *policy.Settings
	versionFrom  string
	configFrom   string
	resolver     dnssec.Resolver
	resolverFrom string
	chain        []byte
	diagnostics  []string
}

// setup loads the configuration, the resolver and the offline chain once.
func setup(ctx context.Context, o *options, stderr io.Writer) (*env, error) {
	e := &env{}
	if err := o.cfg.StatDir(); err != nil {
		return nil, err
	}
	dir := o.cfg.Dir
	switch {
	case o.cfg.Given:
		e.configFrom = dir
	default:
		if _, err := os.Stat(dir + "/main.cf"); err == nil {
			e.configFrom = dir
		} else {
			dir = ""
			e.configFrom = "Postfix's built-in defaults (no " + cli.DefaultConfigDir + "/main.cf; use -c)"
		}
	}
	v, from, err := cli.PickVersion(ctx, o.cfg.Version, dir)
	if err != nil {
		return nil, err
	}
	e.versionFrom = from
	overrides := append([]string(nil), o.cfg.Overrides...)
	if o.service != "" {
		overrides = append(overrides, "default_transport="+o.service)
	}
	if o.caFile != "" {
		overrides = append(overrides, "smtp_tls_CAfile="+o.caFile, "lmtp_tls_CAfile="+o.caFile)
	}
	if o.caPath != "" {
		overrides = append(overrides, "smtp_tls_CApath="+o.caPath, "lmtp_tls_CApath="+o.caPath)
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: v, ConfigDir: dir, Overrides: overrides, CommandLine: o.commandLinePolicy()})
	if err != nil {
		return nil, err
	}
	cli.WarnOverrides(s, stderr)
	e.settings = s
	for _, d := range s.Diagnostics() {
		e.diagnostics = append(e.diagnostics, d.Text())
	}
	if o.cert != "" {
		if e.chain, err = os.ReadFile(o.cert); err != nil {
			return nil, fmt.Errorf("%w: -cert: %w", verdict.ErrObservation, err)
		}
		return e, nil
	}
	e.resolver, e.resolverFrom, err = cli.Resolver(o.resolver)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// checkOptions are the options of every live check.
func (e *env) checkOptions(o *options) smtpclient.CheckOptions {
	d := o.timeout
	if d == 0 {
		d = -1 // 0 on the command line means none
	}
	return smtpclient.CheckOptions{Resolver: e.resolver, Sender: o.sender, ProbeRecipient: o.probeRcpt, Deadline: d,
		TrustCache: &smtpclient.TrustCache{}} // one load of the CA files for every destination
}

// check answers for one destination, live or offline.
func (e *env) check(ctx context.Context, o *options, dest string, opt smtpclient.CheckOptions) (*smtpclient.Verdict, error) {
	if o.cert != "" {
		return smtpclient.CheckOffline(ctx, e.settings, dest, smtpclient.OfflineInput{Chain: e.chain, ChainName: o.cert,
			TLSA: o.tlsa, MXHost: o.mx}, smtpclient.CheckOptions{Sender: o.sender})
	}
	return smtpclient.Check(ctx, e.settings, dest, opt)
}

// report gathers what print shows for one verdict.
func (e *env) report(o *options, v *smtpclient.Verdict) *report {
	rep := &report{verdict: v, versionFrom: e.versionFrom, configFrom: e.configFrom, offline: o.cert != "",
		diagnostics: e.diagnostics, resolverFrom: e.resolverFrom, probed: o.probeRcpt}
	if rt, err := e.settings.RouteFor(context.Background(), v.Destination, policy.RouteOptions{Sender: o.sender}); err == nil {
		rep.route = rt
	}
	return rep
}

// report is what check found, ready to print.
type report struct {
	verdict      *smtpclient.Verdict
	versionFrom  string
	configFrom   string
	route        *policy.Route
	offline      bool
	diagnostics  []string
	resolverFrom string
	// probed is -probe-rcpt: the recipient line is printed even when not tested.
	probed bool
}

// explain turns an error into the one-line message for stderr, saying what kind it is.
func explain(err error) string {
	switch {
	case errors.Is(err, policy.ErrConfig):
		if msg := err.Error(); strings.HasPrefix(msg, policy.ErrConfig.Error()) {
			return msg // "postfix configuration error: ..." says it already
		}
		return "configuration error: " + err.Error()
	case errors.Is(err, policy.ErrNotSMTP):
		return "not an SMTP delivery: " + err.Error()
	case errors.Is(err, policy.ErrNextHop):
		if msg := err.Error(); strings.HasPrefix(msg, policy.ErrNextHop.Error()) {
			return msg
		}
		return "bad destination: " + err.Error()
	case errors.Is(err, smtpclient.ErrNoRecipient):
		return "bad destination: " + err.Error()
	case errors.Is(err, verdict.ErrObservation):
		return "offline input: " + err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "interrupted: " + err.Error()
	}
	return err.Error()
}
