// Package cli holds what the postfixtls subcommands share: Postfix's configuration flags
// (-c config_dir, -o name=value, -version), exit statuses and the message for an error.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"net"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/release"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// DefaultConfigDir is Postfix's default config_directory.
const DefaultConfigDir = "/etc/postfix"

// ListFlag is a flag that may be repeated (-o, -tlsa).
type ListFlag []string

// String joins the values.
func (l *ListFlag) String() string { return strings.Join(*l, " ") }

// Set adds a value.
func (l *ListFlag) Set(s string) error { *l = append(*l, s); return nil }

// UsageError is a command-line mistake: exit status 2 with the usage line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef makes a UsageError.
func Usagef(format string, a ...any) error { return &UsageError{fmt.Sprintf(format, a...)} }

// Config are the flags that say which Postfix configuration is read, as postconf has them:
// -c config_dir and -o name=value (repeatable), and the release emulated, -version.
type Config struct {
	// Dir is -c (or the deprecated -C); Given says one of them was on the command line.
	Dir   string
	Given bool
	// Deprecated is set when -C was used.
	Deprecated bool
	// Overrides are the -o settings.
	Overrides ListFlag
	// Version is -version as given.
	Version string
}

// Register adds -c, -C (a deprecated alias), -o and -version to fs. defaultDir is the -c
// default shown in the help ("" for none).
func (c *Config) Register(fs *flag.FlagSet, defaultDir string) {
	c.Dir = defaultDir
	fs.Func("c", "Postfix configuration `config_dir`ectory, as postconf -c (default "+orNone(defaultDir)+")", func(s string) error {
		c.Dir, c.Given = s, true
		return nil
	})
	fs.Func("C", "deprecated alias of -c", func(s string) error {
		c.Dir, c.Given, c.Deprecated = s, true, true
		return nil
	})
	fs.Var(&c.Overrides, "o", "override a main.cf parameter, as postconf -o: `name=value` (repeatable)")
	fs.StringVar(&c.Version, "version", "", "Postfix release to emulate, e.g. 3.7.11 (default: the installed one, else the newest known)")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Check validates the -o settings and warns on stderr about -C.
func (c *Config) Check(prog string, stderr io.Writer) error {
	if c.Deprecated {
		fmt.Fprintf(stderr, "%s: warning: -C is deprecated; use -c config_dir, as postconf does\n", prog)
	}
	for _, ov := range c.Overrides {
		if name, _, ok := strings.Cut(ov, "="); !ok || strings.TrimSpace(name) == "" {
			return Usagef("-o %q: expected name=value", ov)
		}
	}
	return nil
}

// StatDir checks that an explicit -c names a directory: a configuration error otherwise.
func (c *Config) StatDir() error {
	if !c.Given {
		return nil
	}
	st, err := os.Stat(c.Dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, after -c
		}
		return fmt.Errorf("%w: -c %s: %w", policy.ErrConfig, c.Dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: -c %s: not a directory", policy.ErrConfig, c.Dir)
	}
	return nil
}

// PickVersion chooses the emulated release: -version, else the installed Postfix's for dir,
// else the newest known. It says where the choice came from.
func PickVersion(ctx context.Context, flagValue, dir string) (policy.Version, string, error) {
	if flagValue != "" {
		v, err := policy.ParseKnownVersion(flagValue)
		if err != nil {
			return policy.Version{}, "", &UsageError{"-version: " + err.Error()} // err quotes the value
		}
		return v, "-version", nil
	}
	v, from := release.Default(ctx, dir)
	return v, from, nil
}

// WarnOverrides prints postconf's warning for each -o parameter Postfix does not know:
// "postfixtls: warning: /etc/postfix/main.cf: unused parameter: name=value".
func WarnOverrides(s *policy.Settings, stderr io.Writer) {
	PrintWarnings(s.OverrideWarnings(), stderr)
}

// PrintWarnings prints warnings as postconf does, "postfixtls: warning: ...".
func PrintWarnings(warnings []string, stderr io.Writer) {
	for _, w := range warnings {
		fmt.Fprintf(stderr, "postfixtls: warning: %s\n", w)
	}
}

// Resolver builds the DNS client: -resolver, else /etc/resolv.conf.
func Resolver(addr string) (dnssec.Resolver, string, error) {
	if addr == "" {
		r, err := smtpclient.SystemResolver()
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", policy.ErrConfig, err)
		}
		return r, "/etc/resolv.conf", nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		if ip := net.ParseIP(strings.Trim(addr, "[]")); ip == nil {
			return nil, "", Usagef("-resolver %q: expected host:port or an address", addr)
		}
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), "53")
	}
	return &dnssec.Client{Servers: []string{addr}}, "-resolver " + addr, nil
}

// Parse parses a subcommand's flags, with usage and the flags' defaults as its help. ok is
// false when the command is done: -h was asked for (exit status 0) or a flag is wrong (2,
// after the flag package's message and the help).
func Parse(fs *flag.FlagSet, args []string, usage string, stderr io.Writer) (exit int, ok bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// ReadDestinations reads destinations one a line; blank lines and "#" comments are skipped.
func ReadDestinations(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
