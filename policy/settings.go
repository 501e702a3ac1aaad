package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/maincf"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// ErrConfig is wrapped by every configuration error that would stop Postfix's SMTP client
// (a fatal error in Postfix's log), such as an invalid smtp_tls_security_level.
var ErrConfig = errors.New("postfix configuration error")

// LoadOptions says which configuration to read and which Postfix to emulate.
type LoadOptions struct {
	// Version is the Postfix release to emulate. The zero Version means Latest(); see
	// DetectVersion to use the installed Postfix's.
	Version Version
	// ConfigDir is Postfix's configuration directory (the -C / -c argument). main.cf is read
	// from it, and master.cf when present. Empty: no files, built-in defaults only.
	ConfigDir string
	// Overrides are "name=value" settings that win over main.cf and master.cf, like
	// postconf -o.
	Overrides []string
	// MyHostname is $myhostname when main.cf does not set it. Empty: the system's host
	// name, as Postfix would take it.
	MyHostname string
	// CommandLine, when not empty, is a policy given on a tool's command line, written as
	// the value of a smtp_tls_policy_maps entry ("secure match=nexthop:dot-nexthop
	// protocols=>=TLSv1.2"). It replaces the configured policy of every next hop, as
	// posttls-finger's -l, -m and -p do; the policy's Source has Kind FromCommandLine and
	// Raw this text. A TLS-Required: no header still lowers it.
	CommandLine string
	// Tables controls how lookup tables are opened (base directory, file system,
	// socketmap dialer). FoldFixed and UTF8 are set per table as smtp(8) sets them.
	Tables tables.Options
}

// Settings is a Postfix configuration as the emulated release sees it: built-in defaults for
// that release and compatibility_level, main.cf, and explicit overrides. master.cf service
// overrides are applied per transport (see Resolve). A Settings is safe for concurrent use.
type Settings struct {
	version Version
	dir     string
	main    *maincf.File
	master  *maincf.Master
	over    maincf.Layer
	conf    *maincf.Config
	opt     LoadOptions
	myhost  string

	// Set by With: main.cf as loaded when main is an edited copy (for Diagnostics), the
	// table row edits, the FixFile and postmap overlay; shared are the opened tables,
	// common to a Settings and every Settings With derives from it.
	diagMain   *maincf.File
	edits      *settingsEdits
	files      *overlayFS
	shared     *sharedTables
	paramsMain bool // NewSettings: the Overrides are the main.cf values

	mu    sync.Mutex
	views map[viewKey]*clientView // per transport and client, with their opened tables
}

// viewKey names one transport's client process.
type viewKey struct {
	transport string
	client    Client
}

// Load reads DIR/main.cf and DIR/master.cf (when ConfigDir is set) and returns the Settings.
// A malformed main.cf or master.cf line is an error naming file and line, in Postfix's words.
func Load(ctx context.Context, o LoadOptions) (*Settings, error) {
	s := &Settings{version: o.Version, dir: o.ConfigDir, opt: o}
	if s.version == (Version{}) {
		s.version = Latest()
	}
	if o.ConfigDir != "" {
		// Postfix's config_directory is absolute; $config_directory in main.cf names it.
		if abs, err := filepath.Abs(o.ConfigDir); err == nil {
			o.ConfigDir = abs
			s.dir = abs
		}
		f, err := maincf.ParseFile(ctx, filepath.Join(o.ConfigDir, "main.cf"))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.main = f
		mp := filepath.Join(o.ConfigDir, "master.cf")
		if _, err := os.Stat(mp); err == nil {
			m, err := maincf.ParseMasterFile(ctx, mp)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
			s.master = m
		}
	}
	return s.finish(o)
}

// NewSettings builds Settings from main.cf-style values (name → raw value, "$name"
// references allowed) without reading files. It is handy in tests and for callers that keep
// their configuration elsewhere.
func NewSettings(v Version, params map[string]string) (*Settings, error) {
	o := LoadOptions{Version: v}
	for name, value := range params {
		o.Overrides = append(o.Overrides, name+"="+value)
	}
	return (&Settings{version: v, opt: o, paramsMain: true}).finish(o)
}

// ParseSettings reads main.cf (and optionally master.cf) text from readers; either may be nil.
func ParseSettings(v Version, mainCF, masterCF io.Reader) (*Settings, error) {
	s := &Settings{version: v}
	if mainCF != nil {
		f, err := maincf.Parse(mainCF, "main.cf")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.main = f
	}
	if masterCF != nil {
		m, err := maincf.ParseMaster(masterCF, "master.cf")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.master = m
	}
	return s.finish(LoadOptions{Version: v})
}

func (s *Settings) finish(o LoadOptions) (*Settings, error) {
	if s.version == (Version{}) {
		s.version = Latest()
	}
	s.opt = o
	s.opt.Version = s.version
	over, err := maincf.OverrideLayer(o.Overrides...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.over = over
	s.myhost = o.MyHostname
	if s.myhost == "" {
		if h, err := os.Hostname(); err == nil {
			s.myhost = h
		} else {
			s.myhost = "localhost.localdomain"
		}
	}
	s.conf = s.config(nil)
	s.shared = newSharedTables(s.opt.Tables)
	return s, nil
}

// config layers defaults, main.cf, an optional master.cf service and the overrides.
func (s *Settings) config(svc *maincf.Service) *maincf.Config {
	layers := []maincf.Layer{maincf.MainLayer(s.main)}
	if svc != nil {
		layers = append(layers, maincf.ServiceLayer(svc))
	}
	layers = append(layers, s.over)
	feat := maincf.FeaturesOf(s.version.Major, s.version.Minor)
	return maincf.NewConfigWithOptions(maincf.Options{Features: &feat}, maincf.DefaultsFunc(s.builtin), layers...)
}

// builtin is the Defaults callback: the release's built-in defaults plus the host-dependent
// ones (myhostname, mydomain).
func (s *Settings) builtin(name string) (string, bool) {
	switch name {
	case "myhostname":
		return s.myhost, true
	case "mydomain":
		if i := strings.IndexByte(s.myhost, '.'); i > 0 && i+1 < len(s.myhost) {
			return s.myhost[i+1:], true
		}
		return "localdomain", true
	case "mail_version":
		return s.version.String(), true
	case "config_directory":
		if s.dir != "" {
			return s.dir, true // postconf -c DIR / MAIL_CONFIG=DIR
		}
	}
	return BuiltinDefault(s.version, name)
}

// Version returns the emulated Postfix release.
func (s *Settings) Version() Version { return s.version }

// Param is one parameter's value as the emulated Postfix sees it.
type Param struct {
	// Name is the parameter name.
	Name string `json:"name"`
	// Value is the expanded value.
	Value string `json:"value"`
	// Raw is the value before $name expansion.
	Raw string `json:"raw"`
	// Origin says where it was set; it prints (and marshals) as "/etc/postfix/main.cf:12",
	// "master.cf:30 (service relay/unix)", "override", or "default".
	Origin maincf.Origin `json:"origin"`
}

// String renders "name = value (origin)".
func (p Param) String() string {
	return fmt.Sprintf("%s = %s (%s)", p.Name, p.Value, p.Origin)
}

// Param returns a parameter from main.cf, the overrides or the built-in defaults, expanded
// as Postfix expands it. An expansion error (a $name loop, a syntax error) is returned
// wrapping ErrConfig.
func (s *Settings) Param(name string) (Param, error) { return paramOf(s.conf, name) }

func paramOf(c *maincf.Config, name string) (Param, error) {
	raw, _ := c.Raw(name)
	p := Param{Name: name, Raw: raw.Raw, Origin: raw.Origin}
	v, err := c.Expand(name)
	if err != nil {
		return p, fmt.Errorf("%w: %s: %w", ErrConfig, name, err)
	}
	p.Value = v
	return p, nil
}

// Duration returns a time parameter as mail_conf_time.c reads it (conv_time): a number
// with an optional unit s, m, h, d or w, the unit of the built-in default when none is
// given. A bad value is Postfix's fatal "parameter NAME: bad time value or unit", wrapping
// ErrConfig.
func (s *Settings) Duration(name string) (time.Duration, error) {
	p, err := s.Param(name)
	if err != nil {
		return 0, err
	}
	unit := byte('s')
	if def, ok := BuiltinDefault(s.version, name); ok {
		if n := len(def); n > 0 && (def[n-1] < '0' || def[n-1] > '9') {
			unit = def[n-1]
		}
	}
	d, err := pfutil.Duration(name, p.Value, unit)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return d, nil
}

// Int returns a numerical parameter as mail_conf_int.c reads it (a decimal number, no
// sign, no trailing text); anything else is Postfix's fatal "bad numerical configuration",
// wrapping ErrConfig.
func (s *Settings) Int(name string) (int, error) {
	p, err := s.Param(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(p.Value)
	if err != nil || n < 0 || (p.Value != "" && (p.Value[0] == '+' || p.Value[0] == '-')) {
		return 0, fmt.Errorf("%w: bad numerical configuration: %s = %s", ErrConfig, name, p.Value)
	}
	return n, nil
}

// DetectVersion asks the installed Postfix for its version (postconf -h mail_version). The
// configDir is passed with -c when not empty. It fails when postconf is not installed.
func DetectVersion(ctx context.Context, configDir string) (Version, error) {
	bin, err := PostconfPath()
	if err != nil {
		return Version{}, err
	}
	return DetectVersionWith(ctx, bin, configDir)
}

// PostconfPath finds the installed postconf command: on PATH, else /usr/sbin/postconf or
// /usr/local/sbin/postconf.
func PostconfPath() (string, error) {
	bin, err := exec.LookPath("postconf")
	if err == nil {
		return bin, nil
	}
	for _, p := range []string{"/usr/sbin/postconf", "/usr/local/sbin/postconf"} {
		if _, e := os.Stat(p); e == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("detect Postfix version: postconf not found: %w", err)
}

// DetectVersionWith runs the postconf command bin (postconf [-c configDir] -h
// mail_version) and parses the release it prints.
func DetectVersionWith(ctx context.Context, bin, configDir string) (Version, error) {
	args := []string{"-h", "mail_version"}
	if configDir != "" {
		args = append([]string{"-c", configDir}, args...)
	}
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return Version{}, fmt.Errorf("detect Postfix version: %s %s: %w", bin, strings.Join(args, " "), err)
	}
	return ParseVersion(strings.TrimSpace(string(out)))
}

// ParamError is a configuration error of one parameter that stops Postfix's SMTP or LMTP
// client at startup ("fatal: <Text>" in Postfix's log), such as an invalid
// smtp_tls_security_level or a boolean that is neither "yes" nor "no". It wraps ErrConfig
// (and the underlying error, when there is one).
type ParamError struct {
	// Param is the parameter, with its value and where it was set.
	Param Param
	// Text is Postfix's message after "fatal: ", e.g. `Invalid TLS level "secrue"` or
	// "bad boolean configuration: smtp_enforce_tls = true".
	Text string
	// Err is the underlying error (such as pfutil's bad-boolean error), or nil.
	Err error
}

// Error returns Postfix's text after the ErrConfig prefix.
func (e *ParamError) Error() string { return ErrConfig.Error() + ": " + e.Text }

// Unwrap returns ErrConfig and the underlying error.
func (e *ParamError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrConfig, e.Err}
	}
	return []error{ErrConfig}
}

// GlobalLevel returns the client's global security level as smtp(8) (or lmtp(8)) computes it
// at startup from main.cf and the overrides (without master.cf -o settings):
// smtp_tls_security_level, or when that is empty the obsolete smtp_enforce_tls,
// smtp_tls_enforce_peername and smtp_use_tls booleans. An invalid level or boolean is a
// *ParamError and no level is derived (LevelNotSet).
func (s *Settings) GlobalLevel(c Client) (Level, Source, error) {
	v, err := s.client("", c)
	if err != nil {
		return LevelNotSet, Source{}, err
	}
	return v.globalLevel()
}

// DANEProblem returns the warning smtp(8)'s dane_init() logs when the client's DNS settings
// cannot support DANE for the next hop key at level (dane or dane-only): "KEY: dane
// configured with dnssec lookups disabled" (dns_support_level is not dnssec, or host_lookup
// does not say dns), "… with MX lookup errors ignored" (ignore_mx_lookup_error = yes, SMTP
// only), or "… dns resolver options incompatible with dane TLS" (res_defnames or res_dnsrch
// in dns_resolver_options). It is "" when DANE can work, or when the client does not start.
// Postfix then uses may at dane and defers at dane-only (§6.1 item 3).
func (s *Settings) DANEProblem(c Client, key string, level Level) string {
	v, err := s.client("", c)
	if err != nil {
		return ""
	}
	st := v.static()
	if st.err != nil || st.daneProblemFmt == "" {
		return ""
	}
	return fmt.Sprintf(st.daneProblemFmt, key, level)
}

// StartupError returns the first fatal configuration error the client (smtp(8) or lmtp(8),
// configured by main.cf and the overrides) stops with at startup, or nil: an invalid global
// level or boolean, an invalid dns_support_level or tls_dane_insecure_mx_policy, an empty
// certificate match list. Errors tied to one parameter are *ParamError.
func (s *Settings) StartupError(c Client) error {
	v, err := s.client("", c)
	if err != nil {
		return err
	}
	return v.static().err
}

// Bool reads a boolean parameter as Postfix's mail_conf_bool() does: "yes" or "no" in any
// ASCII case, anything else a *ParamError ("bad boolean configuration: NAME = VALUE"). def
// is the answer when the emulated release does not know the parameter at all.
func (s *Settings) Bool(name string, def bool) (bool, error) {
	v, err := s.client("", SMTP)
	if err != nil {
		return false, err
	}
	return v.boolParamDefault(name, def)
}

// Expand expands text as Postfix expands a main.cf value ($name references against main.cf,
// the overrides and the defaults), for example a master.cf "-o name=$value" setting. An
// expansion error wraps ErrConfig.
func (s *Settings) Expand(text string) (string, error) {
	v, err := s.conf.ExpandString(text)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return v, nil
}

// Services returns the master.cf services, in file order (nil without master.cf). They are
// shared with the Settings and must not be modified.
func (s *Settings) Services() []*maincf.Service {
	if s.master == nil {
		return nil
	}
	return s.master.Services()
}

// Diagnostics returns what Postfix would warn about while reading main.cf and master.cf
// (duplicate parameters, text that starts with whitespace, bad master.cf options), each with
// its file and line, followed by the daemon options of each master.cf service that the
// daemon would reject (maincf.Service.Problems). (postconf's undefined/unused parameter
// check is not included: it needs the defaults of every Postfix parameter, and this module
// knows only the TLS-related ones.)
func (s *Settings) Diagnostics() []finding.Diagnostic {
	out := append([]finding.Diagnostic(nil), s.mainDiagnostics()...)
	if s.master != nil {
		out = append(out, s.master.Diagnostics...)
		for _, svc := range s.master.Services() {
			out = append(out, svc.Problems...)
		}
	}
	return out
}
