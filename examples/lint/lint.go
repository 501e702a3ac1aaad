package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/maincf"
	"github.com/postfixtls/postfixtls/policy/tables"
)

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
	o   options
	rep *reporter
	s   *policy.Settings
	v   policy.Version

	haveConfig bool
	queueDir   string
	tableOpt   tables.Options
	utf8       bool
	stsPattern bool // smtp_tls_enforce_sts_mx_patterns = yes

	// per client ("smtp", "lmtp")
	global      map[policy.Client]policy.Level
	globalParam map[policy.Client]policy.Param
	dnssec      map[policy.Client]bool
	secureMatch map[policy.Client][]string
	digest      map[policy.Client]string
	digestSize  map[policy.Client]int

	hops   map[string][]configuredHop // next-hop domain -> configured keys
	hopKey map[string]bool

	taCache  map[string]error
	paramErr map[string]bool
	mxCache  map[string]mxAnswer
}

type mxAnswer struct {
	hosts []string
	err   error
}

// lint runs everything and returns the exit status. An error means lint could not run.
func lint(ctx context.Context, o options, stdout io.Writer) (int, error) {
	l := &linter{ctx: ctx, o: o, v: o.version, taCache: map[string]error{}, paramErr: map[string]bool{}, mxCache: map[string]mxAnswer{},
		global: map[policy.Client]policy.Level{}, globalParam: map[policy.Client]policy.Param{},
		dnssec: map[policy.Client]bool{}, secureMatch: map[policy.Client][]string{},
		digest: map[policy.Client]string{}, digestSize: map[policy.Client]int{},
		hops: map[string][]configuredHop{}, hopKey: map[string]bool{}}

	// Read the configuration before writing anything: an unreadable main.cf is a usage error.
	var fatal *maincf.SyntaxError
	if o.dir != "" {
		mainPath := filepath.Join(o.dir, "main.cf")
		f, err := os.Open(mainPath)
		if err != nil {
			return exitUsage, fmt.Errorf("cannot read Postfix configuration: %w", err)
		}
		f.Close()
		l.haveConfig = true
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: o.version, ConfigDir: o.dir, Overrides: o.overrides})
	if err != nil && !errors.As(err, &fatal) {
		return exitUsage, err
	}
	l.rep = newReporter(stdout, o.json, o.max, o.version.String())
	if fatal != nil {
		// Postfix refuses to start: nothing else can be judged.
		l.rep.add(Finding{File: fatal.File, Line: fatal.Line, Severity: sevError, Code: codeMainCFSyntax,
			Message: fatal.Error(), Text: fatal.Text,
			Fix: "write every main.cf entry as \"name = value\"; a continuation line must start with whitespace"})
		return l.rep.finish()
	}
	l.s = s
	l.settings()
	if l.haveConfig {
		l.configDiagnostics()
	}
	if l.haveConfig || len(o.overrides) > 0 {
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
		if n == 0 && len(o.tables) == 0 {
			file, line := originPos(l.param("smtp_tls_policy_maps").Origin)
			if file == "" {
				file = filepath.Join(o.dir, "main.cf")
			}
			l.rep.add(Finding{File: file, Line: line, Severity: sevNote, Code: codeNoTablesConfigured,
				Message: "smtp_tls_policy_maps is empty: every destination gets the global level " + levelWord(l.global[policy.SMTP]),
				Fix:     "nothing to do unless some destinations need a different level"})
		}
	}
	for _, arg := range o.tables {
		l.lintTable(tableSpec(arg), policy.DefaultMapsTitle, policy.SMTP, false)
	}
	return l.rep.finish()
}

type masterMap struct {
	title, value string
	client       policy.Client
}

// masterMaps returns the policy-maps settings of master.cf services ("-o
// smtp_tls_policy_maps=..."), expanded against main.cf.
func (l *linter) masterMaps() []masterMap {
	mp := filepath.Join(l.o.dir, "master.cf")
	if _, err := os.Stat(mp); err != nil {
		return nil
	}
	m, err := maincf.ParseMasterFile(l.ctx, mp)
	if err != nil {
		return nil
	}
	var out []masterMap
	for _, svc := range m.Services() {
		for _, ov := range svc.Overrides {
			c := policy.SMTP
			switch ov.Name {
			case "smtp_tls_policy_maps":
			case "lmtp_tls_policy_maps":
				c = policy.LMTP
			default:
				continue
			}
			v := ov.Value
			if strings.Contains(v, "$") {
				// $name refers to main.cf; expand it with a throw-away setting.
				s, err := policy.Load(l.ctx, policy.LoadOptions{Version: l.v, ConfigDir: l.o.dir, Overrides: append(append([]string(nil), l.o.overrides...), "lint_master_value="+v)})
				if err != nil {
					continue
				}
				p, err := s.Param("lint_master_value")
				if err != nil {
					continue
				}
				v = p.Value
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

// tableSpec turns a command-line argument into a table specification: "type:name" stays,
// a plain path is a texthash: source file.
func tableSpec(arg string) string {
	typ, _, ok := strings.Cut(arg, ":")
	if ok && typ != "" && strings.Trim(typ, "abcdefghijklmnopqrstuvwxyz0123456789") == "" && !strings.Contains(typ, "/") {
		return arg
	}
	return "texthash:" + arg
}

func (l *linter) param(name string) policy.Param {
	p, err := l.s.Param(name)
	if err != nil && !l.paramErr[name] {
		l.paramErr[name] = true
		l.rep.add(Finding{Severity: sevError, Code: codeMainCF, Message: err.Error(), Text: p.Name + " = " + p.Raw,
			Fix: "fix the $name expansion; Postfix stops with \"macro processing error\""})
	}
	return p
}

func yes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "on":
		return true
	}
	return false
}

// settings derives the facts the checks need.
func (l *linter) settings() {
	l.queueDir = l.param("queue_directory").Value
	if l.queueDir == "" {
		l.queueDir = "/var/spool/postfix"
	}
	u := l.param("smtputf8_enable").Value
	l.utf8 = u == "" || yes(u)
	if v := l.param("smtp_tls_enforce_sts_mx_patterns").Value; v != "" {
		l.stsPattern = yes(v)
	} else {
		l.stsPattern = true
	}
	l.tableOpt = tables.Options{FoldFixed: true, UTF8: l.utf8, BaseDir: l.queueDir}
	for _, c := range []policy.Client{policy.SMTP, policy.LMTP} {
		p := string(c) + "_"
		gp := l.param(p + "tls_security_level")
		l.globalParam[c] = gp
		lv, ok := policy.ParseLevel(gp.Value)
		if !ok {
			lv = policy.LevelNotSet
			if gp.Value == "" {
				// The obsolete booleans decide (§2.4 item 4).
				switch {
				case yes(l.param(p + "enforce_tls").Value):
					lv = policy.Encrypt
					if yes(l.param(p + "tls_enforce_peername").Value) {
						lv = policy.Verify
					}
				case yes(l.param(p + "use_tls").Value):
					lv = policy.May
				default:
					lv = policy.None
				}
			}
		}
		l.global[c] = lv
		dl := l.param(p + "dns_support_level").Value // case-sensitive in Postfix
		hl := strings.ToLower(l.param(p + "host_lookup").Value)
		l.dnssec[c] = dl == "dnssec" && (hl == "" || strings.Contains(hl, "dns"))
		l.secureMatch[c] = splitList(l.param(p+"tls_secure_cert_match").Value, ", \t\r\n:")
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

// originPos splits a Param origin ("/etc/postfix/main.cf:12", "master.cf:30 (service
// relay/unix)", "override", "default") into file and line.
func originPos(origin string) (string, int) {
	if origin == "default" || origin == "" {
		return "", 0
	}
	if origin == "override" {
		return "(-o)", 0
	}
	if i := strings.Index(origin, " ("); i >= 0 {
		origin = origin[:i]
	}
	if i := strings.LastIndexByte(origin, ':'); i >= 0 {
		if n, err := strconv.Atoi(origin[i+1:]); err == nil {
			return origin[:i], n
		}
	}
	return origin, 0
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
	var diags []maincf.Diagnostic
	if f, err := maincf.ParseFile(l.ctx, filepath.Join(l.o.dir, "main.cf")); err == nil {
		diags = append(diags, f.Diagnostics...)
	}
	mp := filepath.Join(l.o.dir, "master.cf")
	if _, err := os.Stat(mp); err == nil {
		if m, err := maincf.ParseMasterFile(l.ctx, mp); err == nil {
			diags = append(diags, m.Diagnostics...)
			for _, svc := range m.Services() {
				diags = append(diags, svc.Problems...)
			}
		}
	}
	seen := map[string]bool{}
	for _, d := range diags {
		k := d.File + "\x00" + strconv.Itoa(d.Line) + "\x00" + d.Message
		if seen[k] {
			continue
		}
		seen[k] = true
		f := Finding{File: d.File, Line: d.Line, Message: d.Message, Severity: sevError, Code: codeMainCF}
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
			f.Severity, f.Code = sevNote, codeMainCFOther
		}
		l.rep.add(f)
	}
}

// configAdvice checks main.cf settings: obsolete parameters, fingerprint digests, dane
// without DNSSEC, "hostname" in the secure match list, and collects the next hops.
func (l *linter) configAdvice() {
	for _, c := range []policy.Client{policy.SMTP, policy.LMTP} {
		p := string(c) + "_"
		for _, name := range []string{"use_tls", "enforce_tls", "tls_enforce_peername", "tls_per_site"} {
			par := l.param(p + name)
			file, line := originPos(par.Origin)
			if par.Origin == "default" || par.Origin == "" {
				continue
			}
			f := Finding{File: file, Line: line, Severity: sevWarning, Code: codeLegacyParameter,
				Text: par.Name + " = " + par.Raw}
			gp := l.globalParam[c]
			switch name {
			case "tls_per_site":
				f.Message = par.Name + " is obsolete (§2.4): it is ignored when " + p + "tls_policy_maps is set, and it has no parent-domain matching"
				f.Fix = "move its rows to " + p + "tls_policy_maps (NONE -> none, MAY -> may, MUST_NOPEERMATCH -> encrypt, MUST -> verify) and remove " + par.Name
			default:
				f.Message = par.Name + " is obsolete (§2.4)"
				if gp.Value != "" {
					f.Message += "; it is ignored because " + gp.Name + " = " + gp.Value + " is set"
				} else {
					f.Message += "; with " + p + "tls_security_level empty it still decides the global level (" + levelWord(l.global[c]) + ")"
				}
				f.Fix = "set " + p + "tls_security_level = " + nonEmpty(l.global[c].String(), "may") + " and remove " + par.Name
			}
			l.rep.add(f)
		}

		// Fingerprint digest (§5.1).
		dp := l.param(p + "tls_fingerprint_digest")
		if _, err := fingerprint.CanonicalDigest(dp.Value); err != nil {
			file, line := originPos(dp.Origin)
			l.rep.add(Finding{File: file, Line: line, Severity: sevError, Code: codeUnknownDigest,
				Message: err.Error(), Text: dp.Name + " = " + dp.Raw,
				Fix: dp.Name + " = sha256 (Postfix disables TLS: may runs in plaintext, stronger levels defer)"})
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
				l.rep.add(Finding{File: file, Line: line, Severity: sevWarning, Code: codeWeakDigest,
					Message: fmt.Sprintf("%s is %s%s: fingerprints made with %s can be forged by collision attacks", dp.Name, d, why, fingerprint.DisplayName(d)),
					Text:    text,
					Fix:     dp.Name + " = sha256, and re-pin every fingerprint with SHA-256 values (openssl x509 -noout -fingerprint -sha256)"})
			}
		}
		if fm := l.param(p + "tls_fingerprint_cert_match"); fm.Value != "" {
			file, line := originPos(fm.Origin)
			for _, v := range splitList(fm.Value, ", \t\r\n") {
				l.checkPinLength(c, v, file, line, fm.Name+" = "+fm.Raw)
			}
		}

		gp := l.globalParam[c]
		gfile, gline := originPos(gp.Origin)
		// §1.4: invalid global settings stop the SMTP client (fatal errors).
		if _, ok := policy.ParseLevel(gp.Value); !ok && strings.TrimSpace(gp.Value) != "" {
			l.rep.add(Finding{File: gfile, Line: gline, Severity: sevError, Code: codeMainCF,
				Message: fmt.Sprintf("Invalid TLS level \"%s\"", gp.Value), Text: gp.Name + " = " + gp.Raw,
				Fix: gp.Name + " = one of none, may, encrypt, fingerprint, dane, dane-only, verify, secure (Postfix's " + string(c) + " client exits with a fatal error)"})
		}
		if ds := l.param(p + "dns_support_level"); ds.Value != "" && ds.Value != "disabled" && ds.Value != "enabled" && ds.Value != "dnssec" {
			// name_code() without NAME_CODE_FLAG_NONE folding: the value is case-sensitive.
			file, line := originPos(ds.Origin)
			l.rep.add(Finding{File: file, Line: line, Severity: sevError, Code: codeMainCF,
				Message: fmt.Sprintf("invalid %s: \"%s\"", ds.Name, ds.Value), Text: ds.Name + " = " + ds.Raw,
				Fix: ds.Name + " = disabled, enabled or dnssec, in lower case (Postfix's " + string(c) + " client exits with a fatal error)"})
		}
		if ip := l.param(p + "tls_dane_insecure_mx_policy"); c == policy.SMTP && ip.Origin != "default" && ip.Origin != "" {
			switch strings.ToLower(ip.Value) {
			case "may", "encrypt", "dane":
			default:
				file, line := originPos(ip.Origin)
				l.rep.add(Finding{File: file, Line: line, Severity: sevError, Code: codeMainCF,
					Message: fmt.Sprintf("invalid %s: \"%s\"", ip.Name, ip.Value), Text: ip.Name + " = " + ip.Raw,
					Fix: ip.Name + " = may, encrypt or dane (Postfix's " + string(c) + " client exits with a fatal error)"})
			}
		}
		if lv := l.global[c]; lv.IsDANE() && !l.dnssec[c] && gfile != "" {
			l.rep.add(l.daneFinding(c, lv, gfile, gline, gp.Name+" = "+gp.Raw, "global level"))
		}
		sm := l.param(p + "tls_secure_cert_match")
		if sf, sl := originPos(sm.Origin); sf != "" && containsFold(l.secureMatch[c], "hostname") {
			l.rep.add(Finding{File: sf, Line: sl, Severity: sevWarning, Code: codeHostnameInSecure,
				Message: "\"hostname\" in the secure match list accepts any certificate for the MX host name, which comes from an MX lookup without DNSSEC: an attacker who forges the MX answer picks the name (§4.1)",
				Text:    sm.Name + " = " + sm.Raw,
				Fix:     sm.Name + " = nexthop, dot-nexthop (use verify, or dane, where the MX name is all you can check)"})
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
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

func (l *linter) daneFinding(c policy.Client, lv policy.Level, file string, line int, text, what string) Finding {
	p := string(c) + "_"
	f := Finding{File: file, Line: line, Severity: sevWarning, Code: codeDANENoDNSSEC, Text: text,
		Fix: p + "dns_support_level = dnssec (with a DNSSEC-validating resolver in /etc/resolv.conf)"}
	if lv == policy.DaneOnly {
		f.Code = codeDANEOnlyNoDNSSEC
		f.Message = fmt.Sprintf("%s dane-only while %sdns_support_level is not dnssec: Postfix warns \"<destination>: dane-only configured with dnssec lookups disabled\" and defers every message with \"client TLS configuration problem\" (§6.1)", what, p)
	} else {
		f.Message = fmt.Sprintf("%s dane while %sdns_support_level is not dnssec: Postfix warns \"<destination>: dane configured with dnssec lookups disabled\" and silently uses may (§6.1, §9.68)", what, p)
	}
	return f
}

// checkPinLength reports a fingerprint whose length does not fit the digest in force
// (§5.2: Postfix logs "unusable TLSA RR" at handshake time and, when no pin is usable,
// fails verification).
func (l *linter) checkPinLength(c policy.Client, v, file string, line int, text string) {
	size := l.digestSize[c]
	if size == 0 {
		return
	}
	b, ok := fingerprint.DecodeHex(v)
	if !ok || len(b) == 0 || len(b) == size {
		return
	}
	fits := ""
	for _, d := range fingerprint.Digests() {
		if n, _ := fingerprint.DigestSize(d); n == len(b) {
			fits = fingerprint.DisplayName(d)
			break
		}
	}
	msg := fmt.Sprintf("fingerprint %s has %d bytes but %s_tls_fingerprint_digest is %s (%d bytes): Postfix logs \"unusable TLSA RR\" and never matches it", shorten(v), len(b), c, l.digest[c], size)
	fix := fmt.Sprintf("replace it with the %s fingerprint of the certificate or public key", fingerprint.DisplayName(l.digest[c]))
	if fits != "" {
		article := "a "
		if strings.HasPrefix(fits, "MD") {
			article = "an "
		}
		msg += " (it looks like " + article + fits + " fingerprint)"
	}
	l.rep.add(Finding{File: file, Line: line, Severity: sevWarning, Code: codeFingerprintLength, Message: msg, Text: text, Fix: fix})
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
				l.rep.add(Finding{File: file, Line: line, Severity: sevError, Code: codeNextHopSyntax,
					Message: strings.TrimPrefix(err.Error(), policy.ErrNextHop.Error()+": "), Text: origin,
					Fix: "write the next hop as domain, [host], [host]:port or host:port"})
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
		t, err := tables.Open(l.ctx, spec, tables.Options{FoldFixed: true, BaseDir: l.queueDir})
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

// loadTrustAnchors checks a tafile= file as Postfix loads it while parsing the entry
// (§6.5): it must open, and it must hold at least one PEM object.
func (l *linter) loadTrustAnchors(path string) error {
	if err, ok := l.taCache[path]; ok {
		return err
	}
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.queueDir, p)
	}
	var err error
	data, rerr := os.ReadFile(p)
	switch {
	case rerr != nil:
		err = fmt.Errorf("error opening trust anchor file: %s: %s", path, errnoText(rerr))
	default:
		if b, _ := pem.Decode(data); b == nil {
			err = errors.New("")
		}
	}
	l.taCache[path] = err
	return err
}

// errnoText renders an error as strerror() would ("No such file or directory").
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// lookupMX asks the system resolver for a domain's MX hosts (only with -dns).
func (l *linter) lookupMX(domain string) mxAnswer {
	if a, ok := l.mxCache[domain]; ok {
		return a
	}
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	defer cancel()
	lookup := l.o.lookupMX
	if lookup == nil {
		lookup = net.DefaultResolver.LookupMX
	}
	mx, err := lookup(ctx, domain)
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
