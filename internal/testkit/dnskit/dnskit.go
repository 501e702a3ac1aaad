// Package dnskit runs a real DNSSEC test DNS for integration tests: an authoritative nsd
// serving the zone "test." signed with ldns-signzone, an unsigned child "insecure.test." (no DS
// in the parent, so validation proves it insecure) and a child "bogus.test." whose parent DS
// names an unrelated key (so validation fails and the resolver answers SERVFAIL), with a
// validating unbound in front whose only trust anchor is the KSK of "test.".
//
// Both servers listen on 127.0.0.1 on ports picked at run time, keep their configuration,
// pid and work files in t.TempDir(), and are killed by PID in t.Cleanup. Nothing leaves
// loopback: unbound refuses every name outside "test.".
//
// When nsd, unbound or the ldns tools are missing, Start skips the test (naming the Debian
// packages to install), or fails it when the environment variable CI is "true".
package dnskit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The zones served.
const (
	Zone         = "test."          // signed; its KSK is the resolver's trust anchor
	InsecureZone = "insecure.test." // unsigned child, provably insecure
	BogusZone    = "bogus.test."    // signed child whose parent DS matches no key: bogus
)

// Config lists the records to serve.
type Config struct {
	// Records are zone-file lines. An owner without a trailing dot is relative to "test.";
	// absolute owners must lie in "test.". Records owned by names in insecure.test. or
	// bogus.test. go to that child zone. "@" is "test." itself.
	Records []string
}

// Server is a running nsd + unbound pair.
type Server struct {
	// Resolver is the validating unbound's address, "127.0.0.1:<port>".
	Resolver string
	// Authoritative is nsd's address.
	Authoritative string
	// Dir holds the zone files, keys, configurations and logs.
	Dir string
	// TrustAnchor is the DNSKEY record of the KSK of "test." (the resolver's trust anchor).
	TrustAnchor string
}

// Tools are the programs Start needs, with the Debian packages that provide them.
var tools = [...][2]string{
	{"nsd", "nsd"}, {"unbound", "unbound"}, {"ldns-keygen", "ldnsutils"}, {"ldns-signzone", "ldnsutils"},
}

// Missing returns an error naming the missing programs and their packages, or nil.
func Missing() error {
	var miss []string
	for _, t := range tools {
		if _, err := lookPath(t[0]); err != nil {
			miss = append(miss, fmt.Sprintf("%s (apt-get install %s)", t[0], t[1]))
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("dnskit: missing %s", strings.Join(miss, ", "))
	}
	return nil
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// unavailable skips, or fails in CI.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("dnskit: DNS test servers cannot run in CI: %v", err)
	}
	t.Skipf("dnskit: %v", err)
}

// Start signs the zones, starts nsd and unbound and waits until unbound validates "test.".
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if err := Missing(); err != nil {
		unavailable(t, err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(t, cfg)
		if err == nil {
			return s
		}
		lastErr = err
		if errors.Is(err, errConfig) {
			break
		}
	}
	if errors.Is(lastErr, errConfig) {
		t.Fatalf("dnskit: %v", lastErr)
	}
	unavailable(t, lastErr)
	return nil
}

var errConfig = errors.New("bad dnskit configuration")

// runContext runs name (found by lookPath) in dir and returns its trimmed standard output.
func runContext(ctx context.Context, dir, name string, args ...string) (string, error) {
	p, err := lookPath(name)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Dir = dir
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1 at the time of the call.
func freePort() (int, error) {
	for i := 0; i < 20; i++ {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("no free port")
}

func soa(origin string) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ IN SOA ns.test. hostmaster.test. 1 3600 900 604800 300\n@ IN NS ns.test.\n", origin)
}

func start(t testing.TB, cfg Config) (*Server, error) {
	dir := t.TempDir()
	s := &Server{Dir: dir}
	keys, err := GenerateKeys(context.Background(), dir)
	if err != nil {
		return nil, err
	}
	nsdPort, err := freePort()
	if err != nil {
		return nil, err
	}
	ubPort, err := freePort()
	if err != nil {
		return nil, err
	}
	if ubPort == nsdPort {
		return nil, errors.New("port collision")
	}
	zones := map[string]*strings.Builder{Zone: {}, InsecureZone: {}, BogusZone: {}}
	for z, b := range zones {
		b.WriteString(soa(z))
	}
	zones[Zone].WriteString("ns IN A 127.0.0.1\ninsecure IN NS ns.test.\nbogus IN NS ns.test.\n")
	zones[Zone].WriteString(stripComments(keys.UnrelatedDS) + "\n")
	for _, line := range cfg.Records {
		l := strings.TrimSpace(line)
		if l == "" || l[0] == ';' {
			continue
		}
		f := strings.Fields(l)
		owner := f[0]
		switch {
		case owner == "@":
			owner = Zone
		case !strings.HasSuffix(owner, "."):
			owner += "." + Zone
		}
		lc := strings.ToLower(owner)
		var z string
		switch {
		case lc == InsecureZone || strings.HasSuffix(lc, "."+InsecureZone):
			z = InsecureZone
		case lc == BogusZone || strings.HasSuffix(lc, "."+BogusZone):
			z = BogusZone
		case lc == Zone || strings.HasSuffix(lc, "."+Zone):
			z = Zone
		default:
			return nil, fmt.Errorf("%w: record outside %s: %s", errConfig, Zone, l)
		}
		fmt.Fprintf(zones[z], "%s %s\n", owner, strings.Join(f[1:], " "))
	}
	for z, b := range zones {
		if err := os.WriteFile(filepath.Join(dir, z+"zone"), []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
	}
	if err := SignZones(context.Background(), dir, keys); err != nil {
		return nil, err
	}
	anchor, err := os.ReadFile(filepath.Join(dir, keys.KSK+".key"))
	if err != nil {
		return nil, err
	}
	s.TrustAnchor = stripComments(string(anchor))
	if err := os.WriteFile(filepath.Join(dir, "trust-anchor.key"), []byte(s.TrustAnchor+"\n"), 0o600); err != nil {
		return nil, err
	}
	nsdConf := NSDConfig("127.0.0.1", nsdPort, dir)
	ubConf := fmt.Sprintf(`server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "%[2]s"
  pidfile: "%[2]s/unbound.pid"
  use-syslog: no
  logfile: "%[2]s/unbound.log"
  verbosity: 1
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  trust-anchor-file: "%[2]s/trust-anchor.key"
  local-zone: "." refuse
  local-zone: "%[3]s" transparent
  num-threads: 1
  so-reuseport: no
  qname-minimisation: no
  harden-referral-path: no
  target-fetch-policy: "0 0 0 0 0"
  prefetch: no
  outgoing-interface: 127.0.0.1
remote-control:
  control-enable: no
stub-zone:
  name: "%[3]s"
  stub-addr: 127.0.0.1@%[4]d
`, ubPort, dir, Zone, nsdPort)
	if err := os.WriteFile(filepath.Join(dir, "nsd.conf"), []byte(nsdConf), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "unbound.conf"), []byte(ubConf), 0o600); err != nil {
		return nil, err
	}
	s.Authoritative = fmt.Sprintf("127.0.0.1:%d", nsdPort)
	s.Resolver = fmt.Sprintf("127.0.0.1:%d", ubPort)
	nsdDone, err := daemon(t, dir, "nsd", "nsd.log", "-d", "-c", filepath.Join(dir, "nsd.conf"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := waitFor(ctx, s.Authoritative, false, nsdDone); err != nil {
		return nil, fmt.Errorf("nsd did not serve %s: %w; log: %s", Zone, err, tail(filepath.Join(dir, "nsd.log")))
	}
	ubDone, err := daemon(t, dir, "unbound", "unbound.log", "-d", "-c", filepath.Join(dir, "unbound.conf"))
	if err != nil {
		return nil, err
	}
	if err := waitFor(ctx, s.Resolver, true, ubDone); err != nil {
		return nil, fmt.Errorf("unbound did not validate %s: %w; log: %s", Zone, err, tail(filepath.Join(dir, "unbound.log")))
	}
	return s, nil
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && t[0] != ';' {
			out = append(out, t)
		}
	}
	return strings.Join(out, "\n")
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// daemon starts a foreground server and registers its termination (by PID) in t.Cleanup.
func daemon(t testing.TB, dir, name, log string, args ...string) (<-chan struct{}, error) {
	p, err := lookPath(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(p, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		// SIGTERM first so nsd reaps its own server and xfrd children; SIGKILL if it hangs.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	select {
	case <-done:
		return nil, fmt.Errorf("%s exited at once: %s %s", name, strings.TrimSpace(stderr.String()), tail(filepath.Join(dir, log)))
	case <-time.After(20 * time.Millisecond):
	}
	return done, nil
}

// waitFor polls addr for the SOA of Zone; with validated it also requires the AD bit.
func waitFor(ctx context.Context, addr string, validated bool, exited <-chan struct{}) error {
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(Zone, dns.TypeSOA)
	m.RecursionDesired = validated
	m.SetEdns0(1232, true)
	var last error
	for {
		r, _, err := c.ExchangeContext(ctx, m, addr)
		switch {
		case err != nil:
			last = err
		case r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0:
			last = fmt.Errorf("rcode %s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
		case validated && !r.AuthenticatedData:
			last = errors.New("answer not validated (no AD bit)")
		default:
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited (last: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// NSDConfig is the nsd configuration that serves the signed "test." zone, the unsigned
// "insecure.test." and the broken "bogus.test." from dir (as SignZones leaves them), on
// addr:port, with every file nsd writes kept in dir. The conformance world uses it too.
func NSDConfig(addr string, port int, dir string) string {
	return fmt.Sprintf(`server:
  ip-address: %[1]s
  port: %[2]d
  username: ""
  chroot: ""
  zonesdir: "%[3]s"
  database: ""
  zonelistfile: "%[3]s/zone.list"
  xfrdfile: "%[3]s/xfrd.state"
  xfrdir: "%[3]s"
  pidfile: "%[3]s/nsd.pid"
  logfile: "%[3]s/nsd.log"
  server-count: 1
  verbosity: 1
  do-ip6: no
remote-control:
  control-enable: no
zone:
  name: "%[4]s"
  zonefile: "%[4]szone.signed"
zone:
  name: "%[5]s"
  zonefile: "%[5]szone"
zone:
  name: "%[6]s"
  zonefile: "%[6]szone.signed"
`, addr, port, dir, Zone, InsecureZone, BogusZone)
}
