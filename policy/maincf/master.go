package maincf

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
)

// Override is one parameter setting a master.cf service passes to its daemon:
// "-o name=value", "-o { name = value }" (3.0+), or the "-i"/"-m" shorthands for
// max_idle and max_use.
type Override struct {
	Name  string
	Value string
	File  string
	Line  int    // physical line of the option
	Arg   string // the option argument as the daemon receives it (braces removed)
}

// Service is one master.cf entry.
type Service struct {
	Name         string // service name column, e.g. "smtp", "relay", "127.0.0.1:10025"
	Type         string // inet, unix, unix-dgram, fifo or pass
	Private      string // raw column text; "-" means the default
	Unprivileged string
	Chroot       string
	Wakeup       string
	MaxProc      string
	Command      string   // command name, e.g. "smtp"
	Args         []string // daemon arguments after the command, braces removed like master(8)
	File         string
	Line         int // first physical line of the entry
	LastLine     int
	Overrides    []Override   // parameter settings in command-line order (the last one wins)
	Problems     []Diagnostic // options the daemon would reject at start-up
	serviceName  string
}

// Key returns "name/type", the form postconf -M and -P use.
func (s *Service) Key() string { return s.Name + "/" + s.Type }

// ProcessName is the value the daemon gives the read-only process_name parameter:
// the base name of the command.
func (s *Service) ProcessName() string { return path.Base(s.Command) }

// ServiceName is the value of the read-only service_name parameter: the service
// name column, or the argument of a "-n" option.
func (s *Service) ServiceName() string { return s.serviceName }

// Master is a parsed master.cf.
type Master struct {
	name        string
	services    []*Service
	Diagnostics []Diagnostic
}

// Name returns the file name given to ParseMaster.
func (m *Master) Name() string { return m.name }

// Services returns all entries in file order.
func (m *Master) Services() []*Service {
	if m == nil {
		return nil
	}
	return append([]*Service(nil), m.services...)
}

// Service returns the entry for name and type. With duplicates it returns the last one,
// which is the one master(8) uses.
func (m *Master) Service(name, typ string) (*Service, bool) {
	if m == nil {
		return nil, false
	}
	for i := len(m.services) - 1; i >= 0; i-- {
		if s := m.services[i]; s.Name == name && s.Type == typ {
			return s, true
		}
	}
	return nil, false
}

// With returns a copy of m with each service of add appended, replacing an entry with the
// same name and type (as an administrator editing master.cf would). m may be nil.
func (m *Master) With(add ...*Service) *Master {
	c := &Master{}
	if m != nil {
		c.name, c.Diagnostics = m.name, m.Diagnostics
	}
	for _, s := range m.Services() {
		if !replaced(s, add) {
			c.services = append(c.services, s)
		}
	}
	c.services = append(c.services, add...)
	return c
}

func replaced(s *Service, add []*Service) bool {
	for _, a := range add {
		if a.Name == s.Name && a.Type == s.Type {
			return true
		}
	}
	return false
}

// ParseMasterFile reads master.cf from path.
func ParseMasterFile(ctx context.Context, path string) (*Master, error) {
	data, err := readFileCtx(ctx, path)
	if err != nil {
		return nil, err
	}
	return parseMasterBytes(data, path)
}

// ParseMaster reads master.cf text the way master(8) (master/master_ent.c) does.
// filename is used in messages. Errors that make master(8) exit are *SyntaxError values in
// master(8)'s words; problems that only stop one daemon from starting are Diagnostics.
func ParseMaster(r io.Reader, filename string) (*Master, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	return parseMasterBytes(data, filename)
}

type token struct {
	text string
	off  int
}

// nextToken is mystrtok() over CHARS_SPACE, or mystrtokq() with {} grouping.
func nextToken(s string, i *int, braces bool) (token, bool) {
	for *i < len(s) && isBlank(s[*i]) {
		*i++
	}
	if *i >= len(s) {
		return token{}, false
	}
	start := *i
	level := 0
	for *i < len(s) {
		c := s[*i]
		if braces && c == '{' {
			level++
		} else if braces && level > 0 && c == '}' {
			level--
		} else if level == 0 && isBlank(c) {
			break
		}
		*i++
	}
	return token{s[start:*i], start}, true
}

func parseMasterBytes(data []byte, filename string) (*Master, error) {
	m := &Master{name: filename}
	lr := &lineReader{data: data, file: filename}
	seen := map[string]*Service{}
	for {
		ll, ok := lr.next()
		if !ok {
			break
		}
		s, err := parseService(&ll, filename)
		if err != nil {
			m.Diagnostics = append(m.Diagnostics, lr.diags...)
			return nil, err
		}
		if s == nil {
			continue
		}
		key := internalName(s)
		if old, dup := seen[key]; dup {
			m.Diagnostics = append(m.Diagnostics, Diagnostic{
				Code: CodeDuplicateService, File: filename, Line: s.Line,
				Message: fmt.Sprintf("duplicate master.cf entry for service \"%s\" (%s) -- using the last entry", old.Name, key),
			})
		}
		seen[key] = s
		m.services = append(m.services, s)
		lr.diags = append(lr.diags, s.Problems...)
	}
	m.Diagnostics = append(m.Diagnostics, lr.diags...)
	return m, nil
}

// internalName approximates master(8)'s internal service name: "private/x" or
// "public/x" for local IPC; for inet the name column (master(8) canonicalises the
// port through getaddrinfo, which this package does not do).
func internalName(s *Service) string {
	if s.Type == "inet" {
		return s.Name
	}
	class := "private/"
	if s.Private == "n" {
		class = "public/"
	}
	return class + s.Name
}

func parseService(ll *logicalLine, filename string) (*Service, error) {
	text := cstr(ll.text)
	fail := func(format string, args ...any) (*Service, error) {
		return nil, &SyntaxError{File: filename, Line: ll.first, Reason: fmt.Sprintf(format, args...), Text: text, master: true}
	}
	i := 0
	nameTok, ok := nextToken(text, &i, false)
	if !ok {
		return nil, nil
	}
	s := &Service{Name: nameTok.text, File: filename, Line: ll.first, LastLine: ll.last}
	s.serviceName = s.Name
	field := func(name string, hasDefault bool) (string, error) {
		t, ok := nextToken(text, &i, false)
		if !ok {
			_, err := fail("missing \"%s\" field", name)
			return "", err
		}
		if t.text == "-" && !hasDefault {
			_, err := fail("field \"%s\" has no default value", name)
			return "", err
		}
		return t.text, nil
	}
	boolField := func(name string) (string, error) {
		v, err := field(name, true)
		if err == nil && v != "-" && v != "y" && v != "n" {
			_, err = fail("field \"%s\": bad value: \"%s\"", name, v)
		}
		return v, err
	}
	intField := func(name string) (string, error) {
		v, err := field(name, true)
		if err == nil && v != "-" && (!isDigit(v[0]) || atoi(v) < 0) {
			_, err = fail("field \"%s\": bad value: \"%s\"", name, v)
		}
		return v, err
	}
	var err error
	if s.Type, err = field("transport type", false); err != nil {
		return nil, err
	}
	switch s.Type {
	case "inet", "unix", "unix-dgram", "fifo", "pass":
	default:
		return fail("bad transport type: %s", s.Type)
	}
	if s.Private, err = boolField("private"); err != nil {
		return nil, err
	}
	if s.Type == "inet" && s.Private != "n" {
		return fail("inet service cannot be private")
	}
	if s.Unprivileged, err = boolField("unprivileged"); err != nil {
		return nil, err
	}
	if s.Chroot, err = boolField("chroot"); err != nil {
		return nil, err
	}
	if s.Wakeup, err = intField("wakeup_time"); err != nil {
		return nil, err
	}
	if s.MaxProc, err = intField("max_proc"); err != nil {
		return nil, err
	}
	if s.Command, err = field("command", false); err != nil {
		return nil, err
	}
	var offs []int
	for {
		t, ok := nextToken(text, &i, true)
		if !ok {
			break
		}
		arg := t.text
		if arg[0] == '{' {
			var reason string
			if arg, reason = extpar(arg); reason != "" {
				return fail("%s", reason)
			}
		}
		s.Args = append(s.Args, arg)
		offs = append(offs, t.off)
	}
	s.daemonOptions(ll, offs)
	return s, nil
}

// atoi is C atoi() for a string that starts with a digit: the leading digits, saturated.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<30 {
			return 1 << 30
		}
	}
	return n
}

// extpar is util/extpar.c with EXTPAR_FLAG_STRIP for a token that starts with '{'.
func extpar(tok string) (string, string) {
	level := 0
	end := -1
	for i := 0; i < len(tok); i++ {
		if tok[i] == '{' {
			level++
		} else if tok[i] == '}' {
			level--
			if level == 0 {
				end = i
				break
			}
		}
	}
	if end < 0 {
		return "", fmt.Sprintf("missing '}' in \"%s\"", tok)
	}
	if end != len(tok)-1 {
		return "", fmt.Sprintf("syntax error after '}' in \"%s\"", tok)
	}
	return strings.TrimFunc(tok[1:end], func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }), ""
}

// daemonOptions applies the daemon's getopt("+cdDi:lm:n:o:r:s:St:uvVz") to Args, as
// single_server(3) (which smtp(8) uses) does: options end at the first non-option or "--".
func (s *Service) daemonOptions(ll *logicalLine, offs []int) {
	const noArg, withArg = "cdDlSuvVz", "imnorst"
	problem := func(line int, format string, args ...any) {
		s.Problems = append(s.Problems, Diagnostic{
			Code: CodeBadDaemonOption, File: s.File, Line: line,
			Message: fmt.Sprintf(format, args...),
		})
	}
	for idx := 0; idx < len(s.Args); idx++ {
		a := s.Args[idx]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return
		}
		line := ll.lineAt(offs[idx])
		for j := 1; j < len(a); j++ {
			c := a[j]
			if strings.IndexByte(noArg, c) >= 0 {
				continue
			}
			if strings.IndexByte(withArg, c) < 0 {
				problem(line, "invalid option: %c", c)
				continue
			}
			var optarg string
			argLine := line
			if j+1 < len(a) {
				optarg = a[j+1:]
			} else if idx+1 < len(s.Args) {
				idx++
				optarg = s.Args[idx]
				argLine = ll.lineAt(offs[idx])
			} else {
				problem(line, "invalid option: %c", c)
				break
			}
			switch c {
			case 'o':
				name, value, reason := splitNameval(optarg)
				if reason != "" {
					problem(argLine, "invalid \"-o %s\" option value: %s", optarg, reason)
				} else {
					s.Overrides = append(s.Overrides, Override{Name: name, Value: value, File: s.File, Line: line, Arg: optarg})
				}
			case 'i':
				s.Overrides = append(s.Overrides, Override{Name: "max_idle", Value: optarg, File: s.File, Line: line, Arg: optarg})
			case 'm':
				s.Overrides = append(s.Overrides, Override{Name: "max_use", Value: optarg, File: s.File, Line: line, Arg: optarg})
			case 'n':
				s.serviceName = optarg
			}
			break
		}
	}
}
