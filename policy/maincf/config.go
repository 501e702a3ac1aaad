package maincf

import (
	"fmt"
	"sort"
	"strings"
)

// Defaults supplies Postfix's built-in parameter defaults (postconf -d) for the release
// being emulated. ok is false for a name Postfix does not know.
type Defaults interface {
	Default(name string) (raw string, ok bool)
}

// RawNames may be implemented by a Defaults value that knows Postfix's "raw"
// parameters (smtpd_expansion_filter, smtpd_reject_footer, mailbox_command, ...): the
// daemons read them without $name expansion (get_mail_conf_raw), so Expand returns
// them unchanged. A $name reference to a raw parameter is still expanded recursively,
// as mail_conf_eval() does.
type RawNames interface {
	IsRaw(name string) bool
}

// DefaultNames may be implemented by a Defaults value that can list its parameter
// names. Check then also scans the default values that are in effect, as postconf
// does: a name referenced only from a default (often a legacy name kept for backwards
// compatibility) is not "unused".
type DefaultNames interface {
	Names() []string
}

// DefaultsFunc adapts a function to Defaults.
type DefaultsFunc func(name string) (string, bool)

// Default calls f.
func (f DefaultsFunc) Default(name string) (string, bool) { return f(name) }

// DefaultsMap is a fixed table of defaults.
type DefaultsMap map[string]string

// Default looks name up in the map.
func (m DefaultsMap) Default(name string) (string, bool) {
	v, ok := m[name]
	return v, ok
}

// Names lists the map's names (DefaultNames).
func (m DefaultsMap) Names() []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Kind says which layer a value comes from.
type Kind int

// Layer kinds, in Postfix's precedence order (lowest first).
const (
	KindDefault  Kind = iota // built-in default
	KindMainCF               // main.cf
	KindMasterCF             // master.cf daemon option of one service
	KindOverride             // explicit override (postconf -o, a tool's -o)
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindDefault:
		return "default"
	case KindMainCF:
		return "main.cf"
	case KindMasterCF:
		return "master.cf"
	case KindOverride:
		return "override"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Origin says where a raw value was set.
type Origin struct {
	Kind    Kind
	File    string // main.cf or master.cf path; "" for defaults and overrides
	Line    int
	Service string // "name/type" for KindMasterCF
}

// String renders the origin as "file:line", "file:line (service name/type)", "default"
// or "override".
func (o Origin) String() string {
	switch o.Kind {
	case KindMainCF:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	case KindMasterCF:
		if o.File == "" {
			return fmt.Sprintf("master.cf (service %s)", o.Service)
		}
		return fmt.Sprintf("%s:%d (service %s)", o.File, o.Line, o.Service)
	}
	return o.Kind.String()
}

// MarshalText renders the origin as String does, so that it marshals as that string.
func (o Origin) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Value is a parameter's raw (unexpanded) value and its origin.
type Value struct {
	Name   string
	Raw    string
	Origin Origin
}

// Layer is one set of name = value settings. Build layers with MainLayer,
// ServiceLayer and OverrideLayer.
type Layer struct {
	values []Value
}

// MainLayer makes a layer from main.cf.
func MainLayer(f *File) Layer {
	l := Layer{}
	if f == nil {
		return l
	}
	for _, p := range f.Params() {
		l.values = append(l.values, Value{Name: p.Name, Raw: p.Value, Origin: Origin{Kind: KindMainCF, File: p.File, Line: p.Line}})
	}
	return l
}

// ServiceLayer makes a layer from a master.cf service: its -o (and -i/-m) settings in
// order, then the read-only process_name and service_name that the daemon sets after
// reading its options.
func ServiceLayer(s *Service) Layer {
	l := Layer{}
	if s == nil {
		return l
	}
	key := s.Key()
	for _, o := range s.Overrides {
		l.values = append(l.values, Value{Name: o.Name, Raw: o.Value, Origin: Origin{Kind: KindMasterCF, File: o.File, Line: o.Line, Service: key}})
	}
	ro := Origin{Kind: KindMasterCF, File: s.File, Line: s.Line, Service: key}
	l.values = append(l.values,
		Value{Name: "process_name", Raw: s.ProcessName(), Origin: ro},
		Value{Name: "service_name", Raw: s.ServiceName(), Origin: ro})
	return l
}

// OverrideLayer makes a layer from "name=value" strings (split like postconf -o: spaces
// around '=' are allowed). A malformed setting is an error in postconf's words:
// `invalid parameter override: <arg>: <reason>`.
func OverrideLayer(settings ...string) (Layer, error) {
	l := Layer{}
	for _, s := range settings {
		name, value, reason := splitNameval(cstr(s))
		if reason != "" {
			return Layer{}, fmt.Errorf("invalid parameter override: %s: %s: %w", s, reason, ErrSyntax)
		}
		l.values = append(l.values, Value{Name: name, Raw: value, Origin: Origin{Kind: KindOverride}})
	}
	return l, nil
}

// Options tune a Config.
type Options struct {
	Features *Features // expansion grammar; nil means LatestFeatures()
	Limits   Limits    // zero fields take the documented defaults
}

// Config is a layered Postfix parameter namespace: defaults, then the given layers in
// order (later layers win), evaluated like mail_conf_eval(). It is safe for concurrent
// use once built.
type Config struct {
	defaults Defaults
	values   map[string]Value // effective non-default values
	order    []string
	opts     Options
}

// NewConfig builds a Config from defaults (may be nil) and layers, lowest precedence
// first. Postfix daemons use MainLayer, then ServiceLayer; a tool's explicit overrides
// go last. (postconf itself applies -o to the main.cf layer, below master.cf.)
func NewConfig(d Defaults, layers ...Layer) *Config {
	return NewConfigWithOptions(Options{}, d, layers...)
}

// NewConfigWithOptions is NewConfig with explicit Options.
func NewConfigWithOptions(o Options, d Defaults, layers ...Layer) *Config {
	feat := LatestFeatures()
	if o.Features != nil {
		feat = *o.Features
	}
	o.Features = &feat
	o.Limits = o.Limits.withDefaults()
	c := &Config{defaults: d, values: map[string]Value{}, opts: o}
	for _, l := range layers {
		for _, v := range l.values {
			if _, ok := c.values[v.Name]; !ok {
				c.order = append(c.order, v.Name)
			}
			c.values[v.Name] = v
		}
	}
	return c
}

// Raw returns the raw value of name from the highest layer that sets it, else the
// default. ok is false when the parameter is undefined (it then expands to "").
func (c *Config) Raw(name string) (Value, bool) {
	if v, ok := c.values[name]; ok {
		return v, true
	}
	if c.defaults != nil {
		if d, ok := c.defaults.Default(name); ok {
			return Value{Name: name, Raw: d, Origin: Origin{Kind: KindDefault}}, true
		}
	}
	return Value{}, false
}

func (c *Config) lookup(name string) (string, bool) {
	v, ok := c.Raw(name)
	return v.Raw, ok
}

// Names returns every name set by a layer (not defaults), sorted.
func (c *Config) Names() []string {
	out := append([]string(nil), c.order...)
	sort.Strings(out)
	return out
}

// Expand returns the value of parameter name with $name references expanded
// recursively, as mail_conf_eval() does. An undefined parameter expands to "".
func (c *Config) Expand(name string) (string, error) {
	v, _ := c.Raw(name)
	if rn, ok := c.defaults.(RawNames); ok && rn.IsRaw(name) {
		return cstr(v.Raw), nil
	}
	out, err := c.ExpandString(v.Raw)
	if err != nil {
		if ee, ok := err.(*ExpandError); ok {
			ee.Param = name
		}
		return "", err
	}
	return out, nil
}

// ExpandString expands $name references in s against the configuration.
func (c *Config) ExpandString(s string) (string, error) {
	x, err := c.ExpandReport(s)
	return x.Value, err
}

// Expansion is the result of ExpandReport.
type Expansion struct {
	Value string
	// Undefined lists, in order and with repeats, the names whose value was needed
	// ($name outside a ?/: test) but that have neither a value nor a default: each
	// contributed "" (mac_expand's MAC_PARSE_UNDEF, which Postfix ignores).
	Undefined []string
}

// ExpandReport is ExpandString that also reports the undefined names it met.
func (c *Config) ExpandReport(s string) (Expansion, error) {
	e := &engine{lookup: c.lookup, recurse: true, feat: *c.opts.Features, lim: c.opts.Limits}
	var b strings.Builder
	e.expand(&b, s)
	if e.err != nil {
		return Expansion{Undefined: e.undef}, e.err
	}
	return Expansion{Value: b.String(), Undefined: e.undef}, nil
}

// References returns the parameter names that s refers to, in every branch of every
// conditional, without expanding them (mac_expand's scan mode, used by postconf for
// its checks), each name once in order of first appearance. Syntax errors are
// reported like ExpandString's.
func References(s string, f Features) ([]string, error) {
	all, err := scanRefs(s, f)
	var names []string
	seen := map[string]bool{}
	for _, n := range all {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, err
}

// scanRefs returns every reference occurrence, as postconf's scan sees them.
func scanRefs(s string, f Features) ([]string, error) {
	var names []string
	e := &engine{
		lookup: func(n string) (string, bool) {
			names = append(names, n)
			return "", false
		},
		scan: true, feat: f, lim: Limits{}.withDefaults(),
	}
	e.expand(nil, s)
	if e.err != nil {
		return names, e.err
	}
	return names, nil
}

// Check returns the warnings postconf prints about this namespace:
// `<dir>/main.cf: undefined parameter: <name>` for each $name occurrence (like postconf,
// once per occurrence) with neither a value nor a default, and `<dir>/main.cf: unused parameter: <name>=<value>` for a name that is
// neither a known Postfix parameter (per Defaults) nor referenced as $name anywhere.
// dir is the configuration directory as postconf prints it. Without Defaults no
// parameter counts as known, so Check is only meaningful with a complete default table.
// Expansion syntax errors are not reported here: Expand returns them.
func (c *Config) Check(dir string) []Diagnostic {
	known := func(n string) bool {
		if c.defaults == nil {
			return false
		}
		_, ok := c.defaults.Default(n)
		return ok
	}
	referenced := map[string]bool{}
	var diags []Diagnostic
	scan := func(v Value) {
		refs, _ := scanRefs(v.Raw, *c.opts.Features)
		for _, r := range refs {
			referenced[r] = true
			if _, ok := c.values[r]; ok || known(r) {
				continue
			}
			file := "main.cf"
			if v.Origin.Kind == KindMasterCF {
				file = "master.cf"
			}
			if v.Origin.Kind == KindDefault {
				v.Origin.File, v.Origin.Line = "", 0
			}
			diags = append(diags, Diagnostic{
				Code: CodeUndefinedParameter, File: v.Origin.File, Line: v.Origin.Line,
				Message: fmt.Sprintf("%s/%s: undefined parameter: %s", dir, file, r),
			})
		}
	}
	if dn, ok := c.defaults.(DefaultNames); ok {
		names := dn.Names()
		sort.Strings(names)
		for _, n := range names {
			if _, set := c.values[n]; set {
				continue
			}
			if rn, ok := c.defaults.(RawNames); ok && rn.IsRaw(n) {
				continue
			}
			if v, ok := c.Raw(n); ok {
				scan(v)
			}
		}
	}
	for _, n := range c.Names() {
		if rn, ok := c.defaults.(RawNames); ok && rn.IsRaw(n) {
			continue
		}
		scan(c.values[n])
	}
	if rc, ok := c.Raw("smtpd_restriction_classes"); ok {
		if ev, err := c.ExpandString(rc.Raw); err == nil {
			for _, f := range strings.FieldsFunc(ev, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' }) {
				referenced[f] = true
			}
		}
	}
	var unused []Diagnostic
	for _, n := range c.Names() {
		v := c.values[n]
		if known(n) || referenced[n] || v.Origin.Kind == KindOverride {
			continue
		}
		if v.Origin.Kind == KindMasterCF && (n == "process_name" || n == "service_name") {
			continue
		}
		file := "main.cf"
		if v.Origin.Kind == KindMasterCF {
			file = "master.cf"
		}
		unused = append(unused, Diagnostic{
			Code: CodeUnusedParameter, File: v.Origin.File, Line: v.Origin.Line,
			Message: fmt.Sprintf("%s/%s: unused parameter: %s=%s", dir, file, n, v.Raw),
		})
	}
	return append(diags, unused...)
}
