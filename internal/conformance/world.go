package conformance

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// Addresses inside a case's private network namespace.
const (
	ResolverAddr      = "127.0.53.1" // validating unbound
	AuthoritativeAddr = "127.0.53.2" // nsd for test., insecure.test. and bogus.test.
)

// ErrWorld is wrapped by every failure to build a case's world (DNS, servers, Postfix).
var ErrWorld = errors.New("conformance: cannot build the case's world")

// RunWorld builds the world of c and runs both sides in it. It must run inside fresh
// network, mount and pid namespaces, as root (it binds port 53 and 25, bind-mounts
// /etc/resolv.conf and /etc/postfix, and starts Postfix). work is a private directory
// readable by the postfix user; certs is the directory of NewCerts. rel is the Postfix that
// runs (its commands, daemons, shipped configuration files and compatibility level); the
// library emulates rel.Version.
func RunWorld(ctx context.Context, c Case, work, certs string, rel Release) Result {
	t0 := time.Now()
	res := Result{Case: c.Name, Release: rel.Version}
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			if p.Process != nil {
				_ = p.Process.Kill()
				_ = p.Wait()
			}
		}
	}()
	fail := func(err error) Result {
		res.Error = err.Error()
		res.Millis = time.Since(t0).Milliseconds()
		return res
	}
	mark := func(phase string) {
		if res.Phases == nil {
			res.Phases = map[string]int64{}
		}
		res.Phases[phase] = time.Since(t0).Milliseconds()
	}
	if rel.Dir != "" {
		// The tree's commands first (postfix-script runs postconf, postsuper... by name); its
		// binaries find their daemons through their built-in daemon_directory.
		_ = os.Setenv("PATH", filepath.Join(rel.Dir, "usr", "sbin")+":"+filepath.Join(rel.Dir, "usr", "bin")+":"+os.Getenv("PATH"))
	}
	if out, err := exec.CommandContext(ctx, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("%w: ip link set lo up: %v: %s", ErrWorld, err, out))
	}
	if c.MTASTS != nil {
		c.Zone = append(append([]string{}, c.Zone...), c.mtastsZone()...)
	}
	ps, err := startDNS(ctx, c, filepath.Join(work, "dns"))
	procs = append(procs, ps...)
	if err != nil {
		return fail(err)
	}
	mark("dns")
	if c.MTASTS != nil {
		w, cmd, err := startMTASTS(ctx, c, filepath.Join(work, "mta-sts"), certs)
		if cmd != nil {
			procs = append(procs, cmd)
		}
		if err != nil {
			return fail(err)
		}
		defer w.stop()
		c.MainCF = append(append([]string{}, c.MainCF...), "smtp_tls_policy_maps = "+c.policyMaps(w.table))
		mark("mta-sts")
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, s := range c.Servers {
		cfg := smtpd.Config{Addr: s.Addr, NoSTARTTLS: s.Cert == "", STARTTLSReply: s.STARTTLSReply,
			MailReply: s.MailReply, RcptReply: s.RcptReply, Hostname: "smtpd.test", IdleTimeout: 60 * time.Second}
		if s.Cert != "" {
			file := s.Cert + ".chain.pem"
			switch s.Send {
			case "leaf":
				file = s.Cert + ".crt"
			case "full":
				file = s.Cert + ".full.pem"
			case "cross":
				file = s.Cert + ".cross.pem"
			case "expired-copy":
				file = s.Cert + ".expired-copy.pem"
			}
			kp, err := tls.LoadX509KeyPair(filepath.Join(certs, file), filepath.Join(certs, s.Cert+".key"))
			if err != nil {
				return fail(fmt.Errorf("%w: server %s: %v", ErrWorld, s.Addr, err))
			}
			cfg.Certificates = []tls.Certificate{kp}
		}
		srv, err := smtpd.Start(sctx, cfg)
		if err != nil {
			return fail(fmt.Errorf("%w: server %s: %v", ErrWorld, s.Addr, err))
		}
		defer srv.Close()
	}
	etc := filepath.Join(work, "pf", "etc")
	if err := writePostfix(ctx, c, filepath.Join(work, "pf"), certs, rel); err != nil {
		return fail(err)
	}
	if err := syscall.Mount(etc, "/etc/postfix", "", syscall.MS_BIND, ""); err != nil {
		return fail(fmt.Errorf("%w: bind-mount /etc/postfix: %v", ErrWorld, err))
	}
	if rel.Dir != "" {
		// A release tree's binaries read their built-in config_directory: the case's
		// configuration goes there too.
		if err := syscall.Mount(etc, rel.configDir(), "", syscall.MS_BIND, ""); err != nil {
			return fail(fmt.Errorf("%w: bind-mount %s: %v", ErrWorld, rel.configDir(), err))
		}
	}
	mark("config")
	res.Postfix = runPostfix(ctx, c, filepath.Join(work, "pf"), rel, mark)
	mark("postfix-stop")
	res.Library, res.FirstFix = runLibrary(ctx, c, rel)
	mark("library")
	res.Millis = time.Since(t0).Milliseconds()
	return res
}

func run(ctx context.Context, dir string, stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s %s: %v: %s", ErrWorld, name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// zoneOf says which of the served zones an owner name belongs to.
func zoneOf(owner string) string {
	o := strings.ToLower(owner)
	switch {
	case o == "insecure.test." || strings.HasSuffix(o, ".insecure.test."):
		return "insecure.test."
	case o == "bogus.test." || strings.HasSuffix(o, ".bogus.test."):
		return "bogus.test."
	}
	return "test."
}

func soa(origin string) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ IN SOA ns.test. hostmaster.test. 1 3600 900 604800 300\n@ IN NS ns.test.\n", origin)
}

// startDNS signs the zones (test. signed, insecure.test. unsigned and undelegated-secure,
// bogus.test. signed under a parent DS that names an unrelated key), starts nsd and a
// validating unbound on port 53 and points /etc/resolv.conf at unbound with trust-ad.
func startDNS(ctx context.Context, c Case, dir string) ([]*exec.Cmd, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWorld, err)
	}
	keys, err := dnskit.GenerateKeys(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorld, err)
	}
	zones := map[string]*strings.Builder{"test.": {}, "insecure.test.": {}, "bogus.test.": {}}
	for origin, b := range zones {
		b.WriteString(soa(origin))
	}
	zones["test."].WriteString("ns IN A " + AuthoritativeAddr + "\ninsecure IN NS ns.test.\nbogus IN NS ns.test.\n")
	zones["test."].WriteString(keys.UnrelatedDS)
	zones["test."].WriteString("\n")
	for _, rr := range c.Zone {
		f := strings.Fields(rr)
		if len(f) == 0 {
			continue
		}
		owner := f[0]
		if !strings.HasSuffix(owner, ".") {
			owner += ".test."
		}
		b := zones[zoneOf(owner)]
		b.WriteString(owner + " " + strings.Join(f[1:], " ") + "\n")
	}
	for origin, b := range zones {
		if err := os.WriteFile(filepath.Join(dir, origin+"zone"), []byte(b.String()), 0o644); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWorld, err)
		}
	}
	if err := dnskit.SignZones(ctx, dir, keys); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorld, err)
	}
	if err := corruptRRSIGs(filepath.Join(dir, "test.zone.signed"), c.BogusRRSIG); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorld, err)
	}
	anchor, err := os.ReadFile(filepath.Join(dir, keys.KSK+".key"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWorld, err)
	}
	nsdConf := dnskit.NSDConfig(AuthoritativeAddr, 53, dir)
	ubConf := fmt.Sprintf(`server:
  interface: %[1]s
  port: 53
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "%[2]s"
  pidfile: "%[2]s/unbound.pid"
  use-syslog: no
  logfile: "%[2]s/unbound.log"
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  trust-anchor-file: "%[2]s/anchor.key"
  local-zone: "test." nodefault
  num-threads: 1
  so-reuseport: no
  qname-minimisation: no
  harden-referral-path: no
  target-fetch-policy: "0 0 0 0 0"
remote-control:
  control-enable: no
stub-zone:
  name: "test."
  stub-addr: %[3]s@53
`, ResolverAddr, dir, AuthoritativeAddr)
	files := map[string]string{"nsd.conf": nsdConf, "unbound.conf": ubConf, "anchor.key": string(anchor),
		"resolv.conf": "nameserver " + ResolverAddr + "\noptions trust-ad\n"}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWorld, err)
		}
	}
	// nsd must answer before unbound starts: unbound primes the test. trust anchor at once,
	// and a failed priming (nsd still loading the zone on a loaded machine) is cached as
	// bogus for val-bogus-ttl, longer than any wait here.
	var procs []*exec.Cmd
	start := func(args ...string) error {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrWorld, args[0], err)
		}
		procs = append(procs, cmd)
		return nil
	}
	if err := syscall.Mount(filepath.Join(dir, "resolv.conf"), "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		return procs, fmt.Errorf("%w: bind-mount /etc/resolv.conf: %v", ErrWorld, err)
	}
	if err := start("nsd", "-d", "-c", filepath.Join(dir, "nsd.conf")); err != nil {
		return procs, err
	}
	if err := waitDNS(ctx, AuthoritativeAddr+":53", false); err != nil {
		return procs, fmt.Errorf("%w: nsd: %v", ErrWorld, err)
	}
	if err := start("unbound", "-d", "-c", filepath.Join(dir, "unbound.conf")); err != nil {
		return procs, err
	}
	if err := waitDNS(ctx, ResolverAddr+":53", true); err != nil {
		return procs, fmt.Errorf("%w: unbound: %v", ErrWorld, err)
	}
	return procs, nil
}

// corruptRRSIGs changes one base64 character in the signature of the RRSIG covering each
// "owner TYPE" of bogus in the signed zone file, so that validation of that RRset fails.
func corruptRRSIGs(file string, bogus []string) error {
	if len(bogus) == 0 {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range bogus {
		w := strings.Fields(strings.ToLower(want))
		if len(w) != 2 {
			return fmt.Errorf("BogusRRSIG %q: want \"owner TYPE\"", want)
		}
		found := false
		for i, l := range lines {
			f := strings.Fields(l)
			// owner TTL IN RRSIG covered alg labels ttl expiry inception tag signer sig...
			if len(f) < 13 || strings.ToLower(f[0]) != w[0] || f[3] != "RRSIG" || strings.ToLower(f[4]) != w[1] {
				continue
			}
			sig := []byte(f[len(f)-1])
			k := len(sig) / 2
			if sig[k] == 'A' {
				sig[k] = 'B'
			} else {
				sig[k] = 'A'
			}
			f[len(f)-1] = string(sig)
			lines[i] = strings.Join(f, "\t")
			found = true
		}
		if !found {
			return fmt.Errorf("BogusRRSIG %q: no RRSIG for it in %s", want, file)
		}
	}
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
}

// waitDNS polls server for the SOA of test. until it answers (and, with ad, until the
// answer is validated).
func waitDNS(ctx context.Context, server string, ad bool) error {
	cl := &dns.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion("test.", dns.TypeSOA)
		m.SetEdns0(1232, true)
		m.RecursionDesired = ad
		r, _, err := cl.ExchangeContext(ctx, m, server)
		switch {
		case err != nil:
			last = err
		case r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0:
			last = fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
		case ad && !r.AuthenticatedData:
			last = errors.New("answer not validated")
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return last
}

const masterCF = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// baseMainCF is the private instance's main.cf before the case's MainCF lines replace
// settings in it. compat is the release's own compatibility level ("" writes no line, as
// Postfix before 3.0 ships none).
func baseMainCF(pf, certs, compat string) string {
	level := ""
	if compat != "" {
		level = "compatibility_level = " + compat + "\n"
	}
	return level + fmt.Sprintf(`queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
mail_owner = postfix
setgid_group = postdrop
myhostname = client.conformance.test
mydomain = conformance.test
myorigin = $myhostname
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
biff = no
notify_classes =
smtp_dns_support_level = dnssec
dnssec_probe = ns:test
smtp_tls_security_level = may
smtp_tls_CAfile = %[2]s/rootca.pem
smtp_tls_loglevel = 1
smtp_tls_policy_maps = texthash:/etc/postfix/tls_policy
transport_maps = texthash:/etc/postfix/transport
smtp_connect_timeout = 5s
`, pf, certs)
}

// treeDirParams are the directory parameters that a release tree's postfix-install wrote into
// its main.cf; the case's main.cf repeats them (as the oracle's run-case --postfix does).
var treeDirParams = regexp.MustCompile(`^(command_directory|daemon_directory|meta_directory|shlib_directory|sendmail_path|newaliases_path|mailq_path|manpage_directory|html_directory|readme_directory) = `)

// writePostfix prepares the private instance in pf: etc (configuration, tables), queue, data.
// The configuration directory starts as a copy of the release's (postfix-files,
// dynamicmaps.cf, postfix-script... of the package or the tree).
func writePostfix(ctx context.Context, c Case, pf, certs string, rel Release) error {
	etc := filepath.Join(pf, "etc")
	for _, d := range []string{etc, filepath.Join(pf, "queue"), filepath.Join(pf, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("%w: %v", ErrWorld, err)
		}
	}
	if u, err := user.Lookup("postfix"); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		_ = os.Chown(filepath.Join(pf, "data"), uid, -1)
	}
	// The package's own files (postfix-files, dynamicmaps.cf, postfix-script...).
	if _, err := run(ctx, "", nil, "cp", "-a", rel.configDir()+"/.", etc+"/"); err != nil {
		return err
	}
	mainCF := baseMainCF(pf, certs, rel.Compat)
	if rel.Dir != "" {
		out, err := run(ctx, "", nil, rel.bin("postconf"), "-c", rel.configDir(), "-n")
		if err != nil {
			return err
		}
		mainCF += "# install tree of Postfix " + rel.Version + "\n"
		for _, l := range strings.Split(out, "\n") {
			if treeDirParams.MatchString(l) {
				mainCF += l + "\n"
			}
		}
	}
	master := masterCF
	if rel.Dir != "" && rel.minor() < 304 {
		// postlogd (and maillog_file) exist only in Postfix 3.4 and later.
		master = regexp.MustCompile(`(?m)^postlog .*\n`).ReplaceAllString(master, "")
	}
	files := map[string]string{
		"main.cf":    mainCF,
		"master.cf":  master,
		"tls_policy": strings.Join(c.Policy, "\n") + "\n",
		"transport":  strings.Join(c.Transport, "\n") + "\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(etc, n), []byte(s), 0o644); err != nil {
			return fmt.Errorf("%w: %v", ErrWorld, err)
		}
	}
	for _, l := range c.MainCF {
		if _, err := run(ctx, "", nil, rel.bin("postconf"), "-c", etc, "-e", l); err != nil {
			return err
		}
	}
	for name, content := range c.Files {
		rel, ok := strings.CutPrefix(filepath.Clean(name), "/etc/postfix/")
		if !ok || rel == "" || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("%w: file %s is not under /etc/postfix/", ErrWorld, name)
		}
		p := filepath.Join(etc, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("%w: %v", ErrWorld, err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("%w: %v", ErrWorld, err)
		}
		_ = os.Chtimes(p, time.Now().Add(-time.Minute), time.Now().Add(-time.Minute))
	}
	// Postfix waits for a configuration file younger than a second to settle: backdate them.
	old := time.Now().Add(-time.Minute)
	for _, n := range []string{"main.cf", "master.cf", "tls_policy", "transport"} {
		_ = os.Chtimes(filepath.Join(etc, n), old, old)
	}
	return nil
}

// runPostfix starts the private instance, injects one message with sendmail and waits for its
// delivery status in the maillog. For a release tree the maillog must show that master of
// that version ran ("daemon started -- version V,"), else the outcome is an error.
func runPostfix(ctx context.Context, c Case, pf string, rel Release, mark func(string)) (o Outcome) {
	if rel.Dir != "" {
		defer func() {
			b, _ := os.ReadFile(filepath.Join(pf, "maillog"))
			if o.Outcome != "error" && !strings.Contains(string(b), "daemon started -- version "+rel.Version+",") {
				o = Outcome{Outcome: "error", Reason: "the maillog has no \"daemon started -- version " + rel.Version + ",\": another Postfix ran"}
			}
		}()
	}
	if out, err := run(ctx, "", nil, rel.bin("postfix"), "start"); err != nil {
		return Outcome{Outcome: "error", Reason: "postfix start: " + out}
	}
	mark("postfix-start")
	defer func() {
		_, _ = run(context.Background(), "", nil, rel.bin("postfix"), "stop")
		// wait for master to exit so that nothing writes the maillog any more
		pidFile := filepath.Join(pf, "queue", "pid", "master.pid")
		for i := 0; i < 100; i++ {
			b, err := os.ReadFile(pidFile)
			if err != nil {
				return
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if pid <= 0 || !alive(pid) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	msg := fmt.Sprintf("From: <%s>\nTo: <%s>\nSubject: conformance %s\n\nconformance test message\n", c.sender(), c.Rcpt, c.Name)
	if out, err := run(ctx, "", []byte(msg), rel.bin("sendmail"), "-f", c.sender(), "--", c.Rcpt); err != nil {
		return Outcome{Outcome: "error", Reason: "sendmail: " + out}
	}
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(pf, "maillog"))
		if o := ParseMaillog(string(b)); o.Outcome != "" {
			mark("postfix-status")
			return o
		}
		select {
		case <-ctx.Done():
			return Outcome{Outcome: "error", Reason: ctx.Err().Error()}
		case <-time.After(50 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(filepath.Join(pf, "maillog"))
	o = ParseMaillog(string(b))
	o.Outcome = "timeout"
	return o
}

// alive reports that pid is a running process. Orphans of the namespace (the daemonised
// master) are reparented to the suite's PID 1, which does not reap them, so a zombie counts
// as gone.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// runLibrary asks the library the same question: policy.Load of the same configuration
// directory, smtpclient.Check against the same servers through the same resolver. It also
// returns the library's first proposed fix (the first fix of the first finding that has one)
// when the library does not deliver.
func runLibrary(ctx context.Context, c Case, rel Release) (Outcome, *finding.Fix) {
	ver, err := policy.ParseVersion(rel.Version)
	if err != nil {
		return Outcome{Outcome: "error", Reason: "policy.ParseVersion: " + err.Error()}, nil
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: ver, ConfigDir: "/etc/postfix"})
	if err != nil {
		return Outcome{Outcome: "error", Reason: "policy.Load: " + err.Error()}, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := smtpclient.Check(cctx, s, c.Rcpt, smtpclient.CheckOptions{Sender: c.sender(),
		ProbeRecipient: c.probesRecipient()})
	if err != nil {
		return Outcome{Outcome: "error", Reason: "smtpclient.Check: " + err.Error()}, nil
	}
	var first *finding.Fix
	if v.Outcome != "deliver" {
		for _, f := range v.Findings {
			if len(f.Fixes) > 0 {
				fx := f.Fixes[0]
				first = &fx
				break
			}
		}
	}
	o := Outcome{Outcome: string(v.Outcome), DSN: string(v.DSN), Reason: v.Reason}
	if v.Trust != nil {
		o.Trust = string(*v.Trust)
	}
	for _, a := range v.Attempts {
		o.Log = append(o.Log, a.Log...)
	}
	o.Log = append(o.Log, v.Warnings...)
	for _, f := range v.Findings {
		o.Findings = append(o.Findings, strings.Join(append([]string{string(f.Code) + ": " + f.Summary}, f.Details...), " | "))
	}
	return o, first
}
