package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/release"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// Exit statuses.
const (
	exitDeliver = 0 // Postfix would deliver
	exitFail    = 1 // Postfix would defer or bounce
	exitUsage   = 2 // usage or configuration error
)

// defaultConfigDir is Postfix's default config_directory.
const defaultConfigDir = "/etc/postfix"

// defaultResolvConf is where the resolvers come from without -resolver.
const defaultResolvConf = "/etc/resolv.conf"

func main() {
	// One check allocates a few megabytes and exits: collecting garbage would only cost time
	// (about a millisecond of a ten-millisecond run). The limit brings the collector back for
	// huge inputs (a CApath with thousands of certificates).
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(256 << 20)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// listFlag is a flag that may be repeated (-o, -tlsa).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// options are the command line, parsed.
type options struct {
	configDir   string
	configGiven bool
	overrides   listFlag
	service     string
	resolver    string
	version     string
	json        bool
	cert        string
	tlsa        listFlag
	mx          string
	sender      string
	deadline    time.Duration
	probeRcpt   bool
	destination string
}

// usageError is a command-line mistake: exit status 2 with the usage line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

const usageText = `usage: check [-C dir] [-o name=value]... [-service name] [-sender addr] [-deadline d] [-probe-rcpt] [-resolver addr] [-version v] [-json] DESTINATION
       check [-C dir] [-o name=value]... [-sender addr] -cert chain.pem [-tlsa 'RR']... [-mx host] [-version v] [-json] DESTINATION

DESTINATION is user@domain, domain, [host] or [host]:port; -probe-rcpt needs user@domain.
Exit status: 0 deliver, 1 defer or bounce, 2 usage or configuration error.
`

// parseArgs reads the command line. Flags may follow the destination.
func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.configDir, "C", "", "Postfix configuration `dir`ectory (default /etc/postfix when it has a main.cf)")
	fs.Var(&o.overrides, "o", "override a main.cf parameter: `name=value` (repeatable)")
	fs.StringVar(&o.service, "service", "", "master.cf service `name` whose -o overrides apply (explicit next hops only)")
	fs.StringVar(&o.resolver, "resolver", "", "validating DNS resolver `host:port` (default: /etc/resolv.conf)")
	fs.StringVar(&o.version, "version", "", "Postfix release to emulate, e.g. 3.7.11 (default: installed, else newest)")
	fs.BoolVar(&o.json, "json", false, "print the verdict as JSON")
	fs.StringVar(&o.cert, "cert", "", "offline mode: PEM `file` with the server's chain, leaf first")
	fs.Var(&o.tlsa, "tlsa", "offline mode: a TLSA record of the server, e.g. '3 1 1 ab12...' (repeatable)")
	fs.StringVar(&o.mx, "mx", "", "offline mode: the MX `host` name the chain belongs to (default: no MX, the domain itself)")
	fs.DurationVar(&o.deadline, "deadline", smtpclient.DefaultDeadline, "bound for the whole live check of the destination, on top of Postfix's own timeouts (0: none)")
	fs.StringVar(&o.sender, "sender", "", "envelope sender `address` for sender_dependent_relayhost_maps and sender_dependent_default_transport_maps (default: the null sender <>)")
	fs.BoolVar(&o.probeRcpt, "probe-rcpt", false, "live mode: after the TLS part, ask each server about the recipient (MAIL FROM:<-sender>, RCPT TO, RSET, QUIT; never DATA) and judge its replies as Postfix does")
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, usageText)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		rest = rest[1:]
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "C" {
			o.configGiven = true
		}
	})
	switch len(pos) {
	case 0:
		return nil, &usageError{"missing DESTINATION"}
	case 1:
		o.destination = pos[0]
	default:
		return nil, &usageError{fmt.Sprintf("one DESTINATION expected, got %d: %s", len(pos), strings.Join(pos, " "))}
	}
	if strings.TrimSpace(o.destination) == "" {
		return nil, &usageError{"empty DESTINATION"}
	}
	if o.cert == "" && (len(o.tlsa) > 0 || o.mx != "") {
		return nil, &usageError{"-tlsa and -mx belong to offline mode and need -cert"}
	}
	if o.probeRcpt && o.cert != "" {
		return nil, &usageError{"-probe-rcpt asks the server: it is for live checks, not offline mode (-cert)"}
	}
	if o.probeRcpt && !strings.Contains(o.destination, "@") {
		return nil, &usageError{fmt.Sprintf("-probe-rcpt needs a recipient address (user@domain) as DESTINATION, not %q", o.destination)}
	}
	if o.cert != "" && o.resolver != "" {
		return nil, &usageError{"-resolver is for live checks; offline mode (-cert) makes no DNS queries"}
	}
	for _, ov := range o.overrides {
		if name, _, ok := strings.Cut(ov, "="); !ok || strings.TrimSpace(name) == "" {
			return nil, &usageError{fmt.Sprintf("-o %q: expected name=value", ov)}
		}
	}
	if o.service != "" {
		if strings.ContainsAny(o.service, ": \t,=") {
			return nil, &usageError{fmt.Sprintf("-service %q: expected a master.cf service name", o.service)}
		}
		if !explicitNextHop(o.destination) {
			return nil, &usageError{fmt.Sprintf("-service is not supported yet for %q: it is honoured only for explicit next hops "+
				"([host] or [host]:port), which Postfix hands to default_transport; for a domain or an address the "+
				"transport comes from transport_maps, relay_domains and default_transport in main.cf", o.destination)}
		}
	}
	return o, nil
}

// explicitNextHop reports a "[host]", "[host]:port" or "host:port" destination, which Postfix
// routes through default_transport (policy.Settings.Route).
func explicitNextHop(d string) bool {
	d = strings.TrimSpace(d)
	return strings.HasPrefix(d, "[") || (!strings.Contains(d, "@") && strings.Contains(d, ":"))
}

// run is the whole program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitDeliver
		}
		fmt.Fprintf(stderr, "check: %v\n%s", err, usageText)
		return exitUsage
	}
	rep, err := check(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "check: %s\n", explain(err))
		return exitUsage
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		// The contract's object, plus what Postfix would warn about while reading main.cf and
		// master.cf (fields may be added, never renamed).
		out := struct {
			*smtpclient.Verdict
			Diagnostics []string `json:"config_diagnostics,omitempty"`
		}{rep.verdict, rep.diagnostics}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "check: %v\n", err)
			return exitUsage
		}
	} else {
		rep.print(stdout)
	}
	if rep.verdict.Outcome == verdict.OutcomeDeliver {
		return exitDeliver
	}
	return exitFail
}

// liveDeadline maps the -deadline flag to CheckOptions.Deadline: 0 on the command line means
// no deadline.
func liveDeadline(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
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

// check loads the configuration and answers, live or offline.
func check(ctx context.Context, o *options) (*report, error) {
	rep := &report{offline: o.cert != "", probed: o.probeRcpt}
	dir := o.configDir
	switch {
	case o.configGiven:
		if st, err := os.Stat(dir); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is said once, after -C
			}
			return nil, fmt.Errorf("%w: -C %s: %w", policy.ErrConfig, dir, err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("%w: -C %s: not a directory", policy.ErrConfig, dir)
		}
		rep.configFrom = dir
	default:
		if _, err := os.Stat(defaultConfigDir + "/main.cf"); err == nil {
			dir = defaultConfigDir
			rep.configFrom = dir
		} else {
			rep.configFrom = "Postfix's built-in defaults (no " + defaultConfigDir + "/main.cf; use -C)"
		}
	}
	v, from, err := pickVersion(ctx, o.version, dir)
	if err != nil {
		return nil, err
	}
	rep.versionFrom = from
	overrides := append([]string(nil), o.overrides...)
	if o.service != "" {
		overrides = append(overrides, "default_transport="+o.service)
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: v, ConfigDir: dir, Overrides: overrides})
	if err != nil {
		return nil, err
	}
	for _, d := range s.Diagnostics() {
		rep.diagnostics = append(rep.diagnostics, d.Text())
	}
	rt, err := s.RouteFor(ctx, o.destination, policy.RouteOptions{Sender: o.sender})
	if err != nil {
		return nil, err
	}
	rep.route = rt
	if o.cert != "" {
		rep.verdict, err = offline(ctx, s, o)
	} else {
		var r dnssec.Resolver
		r, rep.resolverFrom, err = resolver(o.resolver)
		if err != nil {
			return nil, err
		}
		rep.verdict, err = smtpclient.Check(ctx, s, o.destination, smtpclient.CheckOptions{Resolver: r, Sender: o.sender,
			ProbeRecipient: o.probeRcpt, Deadline: liveDeadline(o.deadline)})
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// pickVersion chooses the emulated release: -version, else the installed Postfix's, else the
// newest known. It says where the choice came from.
func pickVersion(ctx context.Context, flagValue, dir string) (policy.Version, string, error) {
	if flagValue != "" {
		v, err := policy.ParseKnownVersion(flagValue)
		if err != nil {
			return policy.Version{}, "", &usageError{"-version: " + err.Error()} // err quotes the value
		}
		return v, "-version", nil
	}
	v, from := release.Default(ctx, dir)
	return v, from, nil
}

// resolver builds the DNS client: -resolver, else /etc/resolv.conf.
func resolver(addr string) (dnssec.Resolver, string, error) {
	if addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			if ip := net.ParseIP(strings.Trim(addr, "[]")); ip == nil {
				return nil, "", &usageError{fmt.Sprintf("-resolver %q: expected host:port or an address", addr)}
			}
			addr = net.JoinHostPort(strings.Trim(addr, "[]"), "53")
		}
		return &dnssec.Client{Servers: []string{addr}}, "-resolver " + addr, nil
	}
	f, err := os.Open(defaultResolvConf)
	if err != nil {
		return nil, "", fmt.Errorf("%w: no -resolver given and %w", policy.ErrConfig, err)
	}
	defer f.Close()
	rc, err := dnssec.ParseResolvConf(f)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", policy.ErrConfig, defaultResolvConf, err)
	}
	if len(rc.Nameservers) == 0 {
		return nil, "", fmt.Errorf("%w: %s lists no nameserver; use -resolver host:port", policy.ErrConfig, defaultResolvConf)
	}
	return rc.Client(), defaultResolvConf + " (" + strings.Join(rc.Nameservers, ", ") + ")", nil
}
