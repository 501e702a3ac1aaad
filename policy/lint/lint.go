package lint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/finding"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/maincf"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// DefaultChunkSize is the number of bytes of table text read per chunk when
// Options.ChunkSize is 0.
const DefaultChunkSize = 64 << 10

// mxTimeout bounds one MX lookup.
const mxTimeout = 5 * time.Second

// Options say what to lint and how.
type Options struct {
	// ConfigDir is Postfix's configuration directory. When set, DIR/main.cf must be readable;
	// it and DIR/master.cf (when present) are checked, and every file-backed table named by
	// smtp_tls_policy_maps, lmtp_tls_policy_maps and master.cf -o overrides of them is
	// linted: texthash: tables and the source files of hash:, btree:, lmdb:, cdb:, dbm: and
	// sdbm: tables. Relative table and tafile= paths are relative to queue_directory, as
	// for Postfix. Pattern tables (regexp:, pcre:, ...) are opened for Postfix's warnings
	// only. Empty: built-in defaults (and Overrides) only.
	ConfigDir string
	// Version is the Postfix release to emulate; the zero Version means policy.Latest().
	Version policy.Version
	// Overrides are "name=value" settings that win over main.cf, like postconf -o.
	Overrides []string
	// Tables are more tables to lint, after the configured ones: "type:name"
	// ("hash:/etc/postfix/tls_policy") or a plain path, read as a texthash: source file.
	// Relative paths are relative to the working directory; their keys are not compared
	// with the configured next hops.
	Tables []string
	// LookupMX, when not nil, looks up the MX hosts of secure rows (with the default match
	// list) to warn when the match list excludes them; net.DefaultResolver.LookupMX asks the
	// system resolver. Each lookup gets a context with a 5 s timeout. Nil: no DNS lookups.
	LookupMX func(ctx context.Context, name string) ([]*net.MX, error)
	// MaxAdvice is the number of advice findings passed on per file and code; the rest
	// are counted in one CodeMoreFindings note. 0 passes on all. Errors are never limited.
	MaxAdvice int
	// ChunkSize is the number of bytes of table text read and parsed at once (whole logical
	// lines); 0 means DefaultChunkSize.
	ChunkSize int
}

// Run lints what o names and passes every finding to emit, in report order: errors as they
// are found, then the advice, then the CodeMoreFindings notes. emit is called on the
// goroutine that called Run; an error from emit stops the run and is returned (wrapped).
//
// Run returns an error, without findings, when lint cannot run at all: Options out of range,
// an unreadable main.cf, or a configuration policy.Load rejects other than by a syntax error
// (a main.cf or master.cf syntax error is a CodeMainCFSyntax finding, after which nothing
// else can be judged). A cancelled ctx stops the run with ctx's error.
func Run(ctx context.Context, o Options, emit func(Finding) error) (Summary, error) {
	if o.MaxAdvice < 0 || o.ChunkSize < 0 {
		return Summary{}, fmt.Errorf("lint: MaxAdvice (%d) and ChunkSize (%d) must not be negative", o.MaxAdvice, o.ChunkSize)
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.Version == (policy.Version{}) {
		o.Version = policy.Latest()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &linter{ctx: ctx, o: o, v: o.Version, taCache: map[string]error{}, reported: map[string]bool{}, mxCache: map[string]mxAnswer{},
		global: map[policy.Client]policy.Level{}, globalParam: map[policy.Client]policy.Param{},
		secureMatch: map[policy.Client][]string{}, fpMatch: map[policy.Client][]string{}, daneProblem: map[policy.Client]map[policy.Level]string{}, stsPattern: map[policy.Client]bool{},
		digest: map[policy.Client]string{}, digestSize: map[policy.Client]int{},
		hops: map[string][]configuredHop{}, hopKey: map[string]bool{}, proofs: map[proofKey]proofAnswer{}, taFixCache: map[string]error{}}

	// Read the configuration before reporting anything: an unreadable main.cf means lint
	// cannot run.
	if o.ConfigDir != "" {
		f, err := os.Open(filepath.Join(o.ConfigDir, "main.cf"))
		if err != nil {
			return Summary{}, fmt.Errorf("cannot read Postfix configuration: %w", err)
		}
		f.Close()
		l.haveConfig = true
	}
	var fatal *maincf.SyntaxError
	s, err := policy.Load(ctx, policy.LoadOptions{Version: o.Version, ConfigDir: o.ConfigDir, Overrides: o.Overrides})
	if err != nil && !errors.As(err, &fatal) {
		return Summary{}, fmt.Errorf("lint: %w", err)
	}
	l.rep = newReporter(emit, o.MaxAdvice, o.Version, cancel)
	if fatal != nil {
		// Postfix refuses to start: nothing else can be judged.
		code, fix := CodeMainCFSyntax, "write every main.cf entry as \"name = value\"; a continuation line must start with whitespace"
		if filepath.Base(fatal.File) == "master.cf" {
			code, fix = CodeMasterCFSyntax, "write every master.cf service on one line of 8 fields (service type private unpriv chroot wakeup maxproc command) plus arguments; a continuation line must start with whitespace"
		}
		l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: fatal.File, Line: fatal.Line, Severity: SeverityError, Code: code, Message: fatal.Error()}, Text: fatal.Text, Fix: fix})
		return l.rep.finish()
	}
	l.s = s
	l.settings()
	if l.haveConfig {
		l.configDiagnostics()
	}
	if l.haveConfig || len(o.Overrides) > 0 {
		l.configAdvice()
	}
	// The tables: those configured, then those given as arguments.
	n := 0
	done := map[string]bool{}
	if l.haveConfig {
		for _, c := range []policy.Client{policy.SMTP, policy.LMTP} {
			title := string(c) + "_tls_policy_maps"
			p := l.param(title)
			for _, spec := range tables.SplitMapNames(p.Value) {
				if !done[spec] {
					done[spec] = true
					l.lintTable(spec, title, c, true)
				}
				n++
			}
		}
		// Tables that only a master.cf service names (-o smtp_tls_policy_maps=...).
		for _, ov := range l.masterMaps() {
			for _, spec := range tables.SplitMapNames(ov.value) {
				if !done[spec] {
					done[spec] = true
					l.lintTable(spec, ov.title, ov.client, true)
				}
				n++
			}
		}
		if n == 0 && len(o.Tables) == 0 {
			file, line := originPos(l.param("smtp_tls_policy_maps").Origin)
			if file == "" {
				file = filepath.Join(o.ConfigDir, "main.cf")
			}
			l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityNote, Code: CodeNoPolicyTables, Message: "smtp_tls_policy_maps is empty: every destination gets the global level " + levelWord(l.global[policy.SMTP])}, Fix: "nothing to do unless some destinations need a different level"})
		}
	}
	for _, arg := range o.Tables {
		l.lintTable(tableSpec(arg), policy.DefaultMapsTitle, policy.SMTP, false)
	}
	sum, err := l.rep.finish()
	if err != nil {
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("lint: %w", err)
	}
	return sum, nil
}

// configuredHop is a next hop the configuration hands to the SMTP client, and where it was
// configured.
type configuredHop struct {
	key    string // smtp_tls_policy_maps lookup key
	origin string // "relayhost = [x]:587 (main.cf:3)"
}

// linter holds what every table check needs: the emulated settings and the facts derived
// from them. It is built once per run.
type linter struct {
	ctx context.Context
	o   Options
	rep *reporter
	s   *policy.Settings
	v   policy.Version

	haveConfig bool
	queueDir   string
	tableOpt   tables.Options
	utf8       bool

	// per client ("smtp", "lmtp")
	global      map[policy.Client]policy.Level
	globalParam map[policy.Client]policy.Param
	globalErr   map[policy.Client]error
	secureMatch map[policy.Client][]string
	fpMatch     map[policy.Client][]string                // *_tls_fingerprint_cert_match
	daneProblem map[policy.Client]map[policy.Level]string // Settings.DANEProblem per client and DANE level
	stsPattern  map[policy.Client]bool                    // *_tls_enforce_sts_mx_patterns = yes
	digest      map[policy.Client]string
	digestSize  map[policy.Client]int

	hops   map[string][]configuredHop // next-hop domain -> configured keys
	hopKey map[string]bool

	taCache    map[string]error // tafile= path -> policy.CheckTrustAnchorFile's answer (producer goroutine only)
	reported   map[string]bool  // configuration error messages already reported
	mxCache    map[string]mxAnswer
	bad        []error                  // bad booleans met while deriving the settings, reported by configAdvice
	proofs     map[proofKey]proofAnswer // fixes proven (consumer goroutine only)
	taFixCache map[string]error         // loadTrustAnchorsFix's answers (consumer goroutine only)
}

type mxAnswer struct {
	hosts []string
	err   error
}

type masterMap struct {
	title, value string
	client       policy.Client
}

// masterMaps returns the policy-maps settings of master.cf services ("-o
// smtp_tls_policy_maps=..."), expanded against main.cf.
func (l *linter) masterMaps() []masterMap {
	var out []masterMap
	for _, svc := range l.s.Services() {
		for _, ov := range svc.Overrides {
			c := policy.SMTP
			switch ov.Name {
			case "smtp_tls_policy_maps":
			case "lmtp_tls_policy_maps":
				c = policy.LMTP
			default:
				continue
			}
			v, err := l.s.Expand(ov.Value) // $name refers to main.cf
			if err != nil {
				continue
			}
			out = append(out, masterMap{title: ov.Name, value: v, client: c})
		}
	}
	return out
}

// tableFile returns the file name part of a table specification.
func tableFile(spec string) string {
	_, name, _ := strings.Cut(strings.TrimPrefix(spec, "proxy:"), ":")
	return name
}

// tableSpec turns an Options.Tables element into a table specification: "type:name" stays,
// a plain path is a texthash: source file.
func tableSpec(arg string) string {
	typ, _, ok := strings.Cut(arg, ":")
	if ok && typ != "" && strings.Trim(typ, "abcdefghijklmnopqrstuvwxyz0123456789") == "" && !strings.Contains(typ, "/") {
		return arg
	}
	return "texthash:" + arg
}

// param returns a parameter as the Settings expand it; an expansion error is reported once.
func (l *linter) param(name string) policy.Param {
	p, err := l.s.Param(name)
	if err != nil && !l.reported[err.Error()] {
		l.reported[err.Error()] = true
		l.rep.add(Finding{Diagnostic: finding.Diagnostic{Severity: SeverityError, Code: CodeMainCF, Message: err.Error()}, Text: p.Name + " = " + p.Raw, Fix: "fix the $name expansion; Postfix stops with \"macro processing error\""})
	}
	return p
}

// boolean reads a boolean parameter through the Settings (mail_conf_bool.c); a bad value is
// kept for configAdvice to report and reads as def.
func (l *linter) boolean(name string, def bool) bool {
	b, err := l.s.Bool(name, def)
	if err != nil {
		l.bad = append(l.bad, err)
		return def
	}
	return b
}

// settings derives the facts the checks need.
func (l *linter) settings() {
	l.queueDir = l.param("queue_directory").Value
	if l.queueDir == "" {
		l.queueDir = "/var/spool/postfix"
	}
	l.utf8 = l.boolean("smtputf8_enable", false)
	// lint judges the source files (what postmap reads), not the compiled files smtp(8) reads.
	l.tableOpt = tables.Options{FoldFixed: true, UTF8: l.utf8, BaseDir: l.queueDir, ReadSource: true}
	l.globalErr = map[policy.Client]error{}
	for _, c := range []policy.Client{policy.SMTP, policy.LMTP} {
		p := string(c) + "_"
		l.globalParam[c] = l.param(p + "tls_security_level")
		// The global level as smtp(8) computes it (§2.4 item 4: with the level empty, the
		// obsolete booleans decide). An invalid level or boolean stops the client: no level.
		lv, _, err := l.s.GlobalLevel(c)
		if err != nil {
			lv = policy.LevelNotSet
			l.globalErr[c] = err
		}
		l.global[c] = lv
		l.stsPattern[c] = l.boolean(p+"tls_enforce_sts_mx_patterns", true)
		l.daneProblem[c] = map[policy.Level]string{
			policy.Dane:     l.s.DANEProblem(c, "<destination>", policy.Dane),
			policy.DaneOnly: l.s.DANEProblem(c, "<destination>", policy.DaneOnly),
		}
		l.secureMatch[c] = splitList(l.param(p+"tls_secure_cert_match").Value, ", \t\r\n:")
		l.fpMatch[c] = splitList(l.param(p+"tls_fingerprint_cert_match").Value, ", \t\r\n|")
		d := l.param(p + "tls_fingerprint_digest").Value
		if cd, err := fingerprint.CanonicalDigest(d); err == nil {
			l.digest[c] = cd
			l.digestSize[c], _ = fingerprint.DigestSize(cd)
		}
	}
}

func splitList(s, seps string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
}

func levelWord(lv policy.Level) string {
	if lv == policy.LevelNotSet {
		return "(invalid)"
	}
	return "\"" + lv.String() + "\""
}

// configurable lists the security levels a table or main.cf may name, weakest first.
func configurable() []string {
	var out []string
	for lv := policy.None; lv <= policy.Secure; lv++ {
		if _, ok := policy.ParseLevel(lv.String()); ok {
			out = append(out, lv.String())
		}
	}
	return out
}

// originPos splits a Param origin ("/etc/postfix/main.cf:12", "master.cf:30 (service
// relay/unix)", "override", "default") into file and line.
func originPos(o maincf.Origin) (string, int) {
	switch o.Kind {
	case maincf.KindDefault:
		return "", 0
	case maincf.KindOverride:
		return "(-o)", 0
	}
	if o.File == "" {
		return o.Kind.String(), 0
	}
	return o.File, o.Line
}

// tlsRelated reports whether a main.cf/master.cf message concerns a parameter that matters
// to the SMTP client's TLS decisions or its next hops.
func tlsRelated(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"tls", "relayhost", "transport", "smtp_dns", "lmtp_dns", "smtp_host_lookup",
		"fallback_relay", "compatibility_level", "smtputf8", "relay_domains"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// configDiagnostics reports main.cf and master.cf warnings in Postfix's words.
func (l *linter) configDiagnostics() {
	seen := map[string]bool{}
	for _, d := range l.s.Diagnostics() {
		k := d.File + "\x00" + strconv.Itoa(d.Line) + "\x00" + d.Message
		if seen[k] {
			continue
		}
		seen[k] = true
		f := Finding{Diagnostic: finding.Diagnostic{File: d.File, Line: d.Line, Message: d.Message, Severity: SeverityError, Code: CodeMainCF}}
		switch d.Code {
		case maincf.CodeDuplicateParameter:
			f.Fix = "keep one setting; the last one wins"
		case maincf.CodeLeadingWhitespace:
			f.Fix = "start the entry at column 1; text that starts with whitespace continues the previous line"
		case maincf.CodeBadDaemonOption:
			f.Fix = "write -o name=value (or -o { name = value } on Postfix 3.0+)"
		default:
			f.Fix = "see postconf(5)"
		}
		if !tlsRelated(d.Message) {
			f.Severity, f.Code = SeverityNote, CodeMainCFOther
		}
		l.rep.add(f)
	}
}

// fatal reports a configuration error the client stops with at startup (a *policy.ParamError
// names the parameter, and so file and line), once.
func (l *linter) fatal(c policy.Client, err error) {
	var pe *policy.ParamError
	if !errors.As(err, &pe) {
		if !l.reported[err.Error()] {
			l.reported[err.Error()] = true
			l.rep.add(Finding{Diagnostic: finding.Diagnostic{Severity: SeverityError, Code: CodeMainCF, Message: err.Error()}, Fix: fmt.Sprintf("fix the setting (Postfix's %s client exits with a fatal error)", c)})
		}
		return
	}
	if l.reported[pe.Text] {
		return
	}
	l.reported[pe.Text] = true
	file, line := originPos(pe.Param.Origin)
	f := Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityError, Code: CodeMainCF, Message: pe.Text}, Text: pe.Param.Name + " = " + pe.Param.Raw}
	exits := " (Postfix's " + string(c) + " client exits with a fatal error)"
	name := pe.Param.Name
	var prose, value string // value: the setting meant, when the word says it
	w := strings.ToLower(strings.TrimSpace(pe.Param.Value))
	switch {
	case errors.Is(err, pfutil.ErrBadBoolean):
		prose = name + " = yes or no: Postfix reads no other word as a boolean (not \"true\", \"1\" or \"on\")" + exits
		switch w {
		case "true", "1", "on", "y":
			value = "yes"
		case "false", "0", "off", "n":
			value = "no"
		}
	case strings.HasSuffix(name, "_tls_security_level"):
		prose = name + " = one of " + strings.Join(configurable(), ", ") + exits
		best, bd := "", 3
		for _, n := range configurable() {
			if d := pfutil.EditDistance(w, n); d < bd {
				best, bd = n, d
			}
		}
		value = best
	case strings.HasSuffix(name, "_dns_support_level"):
		prose = name + " = disabled, enabled or dnssec, in lower case" + exits
		if w == "disabled" || w == "enabled" || w == "dnssec" {
			value = w
		}
	case strings.HasSuffix(name, "_tls_dane_insecure_mx_policy"):
		prose = name + " = may, encrypt or dane" + exits
		if w == "may" || w == "encrypt" || w == "dane" {
			value = w
		}
	default:
		prose = "fix " + name + exits
	}
	var edits []finding.Fix
	if value != "" && pe.Param.Origin.Kind != maincf.KindOverride && pe.Param.Origin.Kind != maincf.KindMasterCF {
		// Proven to let the client start (StartupError) with a valid policy.
		edits = l.prove(c, checkHop, policy.LevelNotSet, setFix(name, value, ""))
	}
	f.withEdits(prose, edits, "")
	l.rep.add(f)
}

// configAdvice checks main.cf settings: obsolete parameters, fingerprint digests, the fatal
// startup errors, dane without DNSSEC, "hostname" in the secure match list, and collects the
// next hops.
func (l *linter) configAdvice() {
	for _, c := range []policy.Client{policy.SMTP, policy.LMTP} {
		p := string(c) + "_"
		for _, name := range []string{"use_tls", "enforce_tls", "tls_enforce_peername", "tls_per_site"} {
			par := l.param(p + name)
			file, line := originPos(par.Origin)
			if par.Origin.Kind == maincf.KindDefault {
				continue
			}
			f := Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityWarning, Code: CodeLegacyParameter}, Text: par.Name + " = " + par.Raw}
			gp := l.globalParam[c]
			switch name {
			case "tls_per_site":
				f.Message = par.Name + " is obsolete: it is ignored when " + p + "tls_policy_maps is set, and it has no parent-domain matching"
				f.Fix = "move its rows to " + p + "tls_policy_maps (NONE -> none, MAY -> may, MUST_NOPEERMATCH -> encrypt, MUST -> verify) and remove " + par.Name
			default:
				f.Message = par.Name + " is obsolete"
				switch {
				case gp.Value != "":
					f.Message += "; it is ignored because " + gp.Name + " = " + gp.Value + " is set"
				case l.global[c] == policy.LevelNotSet:
					f.Message += "; with " + p + "tls_security_level empty it still decides the global level (no level here: smtp(8) stops at the bad boolean reported as an error)"
				default:
					f.Message += "; with " + p + "tls_security_level empty it still decides the global level (" + levelWord(l.global[c]) + ")"
				}
				// The level said explicitly, the boolean removed with it: proven to keep the
				// global level the booleans give now.
				lv := nonEmpty(l.global[c].String(), "may")
				fx := setFix(p+"tls_security_level", lv, "the level said explicitly")
				fx.Requires = []finding.Fix{setFix(par.Name, "", "")}
				prose := "set " + p + "tls_security_level = " + lv + " and remove " + par.Name
				if gp.Value != "" {
					// The level is set: removing the boolean changes nothing.
					fx = setFix(par.Name, "", "it is ignored: "+gp.Name+" = "+gp.Value+" decides")
					prose = "remove " + par.Name
				}
				f.withEdits("", l.prove(c, checkHop, l.global[c], fx), prose)
			}
			l.rep.add(f)
		}

		// Fingerprint digest (§5.1).
		dp := l.param(p + "tls_fingerprint_digest")
		if _, err := fingerprint.CanonicalDigest(dp.Value); err != nil {
			file, line := originPos(dp.Origin)
			f := Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityError, Code: CodeUnknownDigest, Message: err.Error()}, Text: dp.Name + " = " + dp.Raw}
			f.withEdits("", l.prove(c, checkHop, policy.LevelNotSet, setFix(dp.Name, "sha256", "until then Postfix disables TLS: may runs in plaintext, stronger levels defer")), dp.Name+" = sha256 (Postfix disables TLS: may runs in plaintext, stronger levels defer)")
			l.rep.add(f)
		} else if d := l.digest[c]; d == "md5" || d == "sha1" {
			file, line := originPos(dp.Origin)
			text := dp.Name + " = " + dp.Raw
			why := ""
			if file == "" {
				cp := l.param("compatibility_level")
				file, line = originPos(cp.Origin)
				text = cp.Name + " = " + cp.Raw
				why = " (the default below compatibility_level 3.6)"
			}
			if file != "" { // only report what the configuration chose
				f := Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityWarning, Code: CodeWeakFingerprintDigest, Message: fmt.Sprintf("%s is %s%s: fingerprints made with %s can be forged by collision attacks", dp.Name, d, why, fingerprint.DisplayName(d))}, Text: text}
				f.withEdits("", l.prove(c, checkHop, l.global[c], setFix(dp.Name, "sha256", "and re-pin every fingerprint with SHA-256 values (openssl x509 -noout -fingerprint -sha256)")),
					dp.Name+" = sha256, and re-pin every fingerprint with SHA-256 values (openssl x509 -noout -fingerprint -sha256)")
				l.rep.add(f)
			}
		}
		if fm := l.param(p + "tls_fingerprint_cert_match"); fm.Value != "" {
			file, line := originPos(fm.Origin)
			for _, v := range splitList(fm.Value, ", \t\r\n") {
				l.checkPinLength(c, v, file, line, fm.Name+" = "+fm.Raw)
			}
		}

		// §1.4: fatal startup errors stop the client: the global level and the booleans
		// lint read, then the first one smtp(8) meets among the others.
		if err := l.globalErr[c]; err != nil {
			l.fatal(c, err)
		}
		for _, err := range l.bad {
			l.fatal(c, err)
		}
		if err := l.s.StartupError(c); err != nil {
			l.fatal(c, err)
		}
		gp := l.globalParam[c]
		gfile, gline := originPos(gp.Origin)
		if lv := l.global[c]; lv.IsDANE() && gfile != "" {
			if f, ok := l.daneFinding(c, lv, gfile, gline, gp.Name+" = "+gp.Raw, "global level", checkHop, lv); ok {
				l.rep.add(f)
			}
		}
		sm := l.param(p + "tls_secure_cert_match")
		if sf, sl := originPos(sm.Origin); sf != "" && containsFold(l.secureMatch[c], "hostname") {
			f := Finding{Diagnostic: finding.Diagnostic{File: sf, Line: sl, Severity: SeverityWarning, Code: CodeHostnameInSecure, Message: "\"hostname\" in the secure match list accepts any certificate for the MX host name, which comes from an MX lookup without DNSSEC: an attacker who forges the MX answer picks the name"}, Text: sm.Name + " = " + sm.Raw}
			// "hostname" removed from the list (the built-in default when nothing is left).
			rest := strings.Join(withoutWord(l.secureMatch[c], "hostname"), ", ")
			f.withEdits("", l.prove(c, checkHop, l.global[c], setFix(sm.Name, rest, "\"hostname\" removed (use verify, or dane, where the MX name is all you can check)")),
				sm.Name+" = nexthop, dot-nexthop (use verify, or dane, where the MX name is all you can check)")
			l.rep.add(f)
		}
	}
	l.collectHops()
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func containsFold(list []string, w string) bool {
	for _, s := range list {
		if pfutil.StrcaseEq(s, w) {
			return true
		}
	}
	return false
}

// daneFinding reports a dane or dane-only level that the client's DNS settings cannot
// support, with the warning dane_init() logs (Settings.DANEProblem, the policy's own rule);
// ok is false when DANE can work. The main.cf fixes are proven for the next hop key: they
// must give it at least want (LevelNotSet: no bound, for a row no configured table holds).
func (l *linter) daneFinding(c policy.Client, lv policy.Level, file string, line int, text, what, key string, want policy.Level) (Finding, bool) {
	problem := l.daneProblem[c][lv]
	if problem == "" {
		return Finding{}, false
	}
	p := string(c) + "_"
	var fx finding.Fix
	var prose string
	switch {
	case strings.Contains(problem, "MX lookup errors ignored"):
		fx = setFix("ignore_mx_lookup_error", "no", "MX lookup errors defer the mail instead of falling back to A records")
		prose = "ignore_mx_lookup_error = no"
	case strings.Contains(problem, "resolver options"):
		opts := splitList(l.param(p+"dns_resolver_options").Value, ", \t\r\n")
		fx = setFix(p+"dns_resolver_options", strings.Join(withoutWord(withoutWord(opts, "res_defnames"), "res_dnsrch"), ", "), "remove res_defnames and res_dnsrch from "+p+"dns_resolver_options")
		prose = fx.Note
	default:
		fx = setFix(p+"dns_support_level", "dnssec", "with a DNSSEC-validating resolver in /etc/resolv.conf")
		if hl := l.param(p + "host_lookup"); !containsFold(splitList(hl.Value, ", \t\r\n"), "dns") {
			fx.Requires = append(fx.Requires, setFix(p+"host_lookup", "dns", "DANE needs DNS lookups"))
		}
		prose = p + "dns_support_level = dnssec (with a DNSSEC-validating resolver in /etc/resolv.conf), and " + p + "host_lookup including dns"
	}
	f := Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityWarning, Code: CodeDANEWithoutDNSSEC}, Text: text}
	f.withEdits("", l.prove(c, key, want, fx), prose)
	if lv == policy.DaneOnly {
		f.Code = CodeDANEOnlyWithoutDNSSEC
		f.Message = fmt.Sprintf("%s dane-only, but Postfix warns \"%s\" and defers every message with \"client TLS configuration problem\"", what, problem)
	} else {
		f.Message = fmt.Sprintf("%s dane, but Postfix warns \"%s\" and silently uses may", what, problem)
	}
	return f, true
}

// checkPinLength reports a fingerprint whose length does not fit the digest in force
// (§5.2: Postfix logs "unusable TLSA RR" at handshake time and, when no pin is usable,
// fails verification).
func (l *linter) checkPinLength(c policy.Client, v, file string, line int, text string) {
	size := l.digestSize[c]
	if size == 0 {
		return
	}
	m, bad := fingerprint.CheckSize(v, l.digest[c])
	if !bad {
		return
	}
	msg := fmt.Sprintf("fingerprint %s has %d bytes but %s_tls_fingerprint_digest is %s (%d bytes): Postfix logs \"unusable TLSA RR\" and never matches it", shorten(v), m.Bytes, c, l.digest[c], size)
	fix := fmt.Sprintf("replace it with the %s fingerprint of the certificate or public key", fingerprint.DisplayName(l.digest[c]))
	if m.LooksLike != "" {
		msg += " (it looks like " + m.LooksLikeWithArticle() + " fingerprint)"
	}
	l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityWarning, Code: CodeFingerprintLengthMismatch, Message: msg}, Text: text, Fix: fix})
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:21] + "..."
	}
	return s
}

// collectHops gathers the next hops the configuration names explicitly: relayhost,
// smtp_fallback_relay, default_transport and relay_transport next hops, and the next hops of
// file-backed transport_maps.
func (l *linter) collectHops() {
	add := func(value, origin, file string, line int) {
		for _, e := range policy.SplitNextHopList(value) {
			h, err := policy.ParseNextHop(policy.SMTP, e, policy.NextHopOptions{DefaultService: "smtp"})
			if err != nil {
				l.rep.add(Finding{Diagnostic: finding.Diagnostic{File: file, Line: line, Severity: SeverityError, Code: CodeNextHopSyntax, Message: strings.TrimPrefix(err.Error(), policy.ErrNextHop.Error()+": ")}, Text: origin, Fix: "write the next hop as domain, [host], [host]:port or host:port"})
				continue
			}
			d := strings.ToLower(h.Domain)
			l.hops[d] = append(l.hops[d], configuredHop{key: strings.ToLower(h.Key), origin: origin})
			l.hopKey[strings.ToLower(h.Key)] = true
		}
	}
	for _, name := range []string{"relayhost", "smtp_fallback_relay"} {
		p := l.param(name)
		if p.Value != "" {
			file, line := originPos(p.Origin)
			add(p.Value, fmt.Sprintf("%s = %s (%s)", name, p.Value, p.Origin), file, line)
		}
	}
	for _, name := range []string{"default_transport", "relay_transport"} {
		p := l.param(name)
		if _, nh, ok := strings.Cut(p.Value, ":"); ok && nh != "" {
			file, line := originPos(p.Origin)
			add(nh, fmt.Sprintf("%s = %s (%s)", name, p.Value, p.Origin), file, line)
		}
	}
	tm := l.param("transport_maps")
	for _, spec := range tables.SplitMapNames(tm.Value) {
		t, err := tables.Open(l.ctx, spec, tables.Options{FoldFixed: true, BaseDir: l.queueDir, ReadSource: true})
		if err != nil {
			continue
		}
		st, ok := t.(*tables.SourceTable)
		if !ok {
			continue
		}
		for _, e := range st.Entries() {
			tr, nh, ok := strings.Cut(e.Value, ":")
			if !ok || nh == "" || strings.HasPrefix(tr, "local") || tr == "error" || tr == "discard" {
				continue
			}
			add(nh, fmt.Sprintf("transport_maps %s:%d: %s", spec, e.Line, e.Raw), tableFile(spec), e.Line)
		}
	}
}

// maxTACache bounds the trust-anchor answers kept.
const maxTACache = 10000

// loadTrustAnchors checks a tafile= file as Postfix loads it while parsing the entry (§6.5),
// with the library's loader; relative paths are relative to the queue directory. It runs on
// the producer goroutine of the table being read, which alone uses taCache.
func (l *linter) loadTrustAnchors(path string) error { return l.cachedTrustAnchors(l.taCache, path) }

// loadTrustAnchorsFix is loadTrustAnchors for the parses the fixes make on the goroutine
// that lints (and proves) the entries, with its own cache.
func (l *linter) loadTrustAnchorsFix(path string) error {
	return l.cachedTrustAnchors(l.taFixCache, path)
}

// cachedTrustAnchors checks a tafile= file, keeping the answer in cache (bounded).
func (l *linter) cachedTrustAnchors(cache map[string]error, path string) error {
	if err, ok := cache[path]; ok {
		return err
	}
	err := policy.CheckTrustAnchorFile(l.ctx, nil, l.queueDir, path)
	if len(cache) < maxTACache {
		cache[path] = err
	}
	return err
}

// taReason says what was wrong with a tafile= file that made an entry invalid without a
// warning of Postfix's own ("" when it is not known). Producer goroutine only.
func (l *linter) taReason(file string) string {
	var te *dane.TrustAnchorError
	if err := l.taCache[file]; err != nil && errors.As(err, &te) {
		return te.Reason
	}
	return ""
}

// lookupMX asks Options.LookupMX for a domain's MX hosts.
func (l *linter) lookupMX(domain string) mxAnswer {
	if a, ok := l.mxCache[domain]; ok {
		return a
	}
	ctx, cancel := context.WithTimeout(l.ctx, mxTimeout)
	defer cancel()
	mx, err := l.o.LookupMX(ctx, domain)
	var a mxAnswer
	if err != nil {
		a.err = err
	}
	for _, m := range mx {
		a.hosts = append(a.hosts, strings.ToLower(strings.TrimSuffix(m.Host, ".")))
	}
	if len(l.mxCache) < 10000 {
		l.mxCache[domain] = a
	}
	return a
}
