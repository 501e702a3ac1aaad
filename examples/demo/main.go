// Command demo replays the questions Postfix admins ask most, on an embedded configuration,
// with everything a real check needs in the process: STARTTLS servers on loopback presenting
// generated certificates, and an in-memory resolver (dnssec.MockResolver) that answers as a
// validating resolver would (every name signed, so every answer authentic). For each scenario it prints the policy and where it came
// from, what the server showed, Postfix's verdict in Postfix's words, the explanation and the
// fix.
//
//	go run ./examples/demo          # human output
//	go run ./examples/demo -json    # the verdicts as JSON (the check tool's contract)
//
// Scenarios:
//  1. fastmail-like hosted domain: "secure" is deferred (the MX is in another domain),
//     "verify" and "secure match=.messagingengine.com" are delivered;
//  2. a certificate with only a subject CN, matched by name;
//  3. a DANE "3 1 1" record left stale by a key rollover;
//  4. a fingerprint pin made with SHA-1 while Postfix compares SHA-256;
//  5. no CA bundle configured.
//
// Nothing leaves the machine: DNS answers come from memory, the SMTP servers listen on
// 127.0.0.1, and the dialer connects only to them.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

const mainCF = `# embedded demo configuration (Postfix 3.7.11 as on Debian 12)
compatibility_level = 3.6
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtp_dns_support_level = dnssec
smtp_tls_CAfile = {{dir}}/ca.pem
smtp_tls_policy_maps = texthash:{{dir}}/tls_policy
`

const tlsPolicy = `# destination        policy
fastmail.fm          secure
verify.fastmail.fm   verify
fixed.fastmail.fm    secure match=.messagingengine.com
hearst.example       verify
dane.example         dane
pinned.example       fingerprint
    match=%s
noca.example         verify
`

func main() {
	jsonOut := flag.Bool("json", false, "print the verdicts as JSON")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// scenario is one question and the recipients that ask it.
type scenario struct {
	title string
	rcpts []string
	noCA  bool
}

func run(ctx context.Context, w io.Writer, jsonOut bool) error {
	wd, err := newWorld(ctx)
	if err != nil {
		return err
	}
	defer wd.close()
	scenarios := []scenario{
		{title: "Hosted domain: fastmail.fm's MX is in1-smtp.messagingengine.com (certificate *.messagingengine.com)",
			rcpts: []string{"user@fastmail.fm", "user@verify.fastmail.fm", "user@fixed.fastmail.fm"}},
		{title: "A certificate with no subjectAltName, only CN=mx.hearst.example", rcpts: []string{"user@hearst.example"}},
		{title: "DANE: the server rolled its key, the TLSA record still names the old one", rcpts: []string{"user@dane.example"}},
		{title: "A fingerprint pin copied as SHA-1, while Postfix compares SHA-256", rcpts: []string{"user@pinned.example"}},
		{title: "verify with no CA bundle configured (smtp_tls_CAfile empty)", rcpts: []string{"user@noca.example"}, noCA: true},
	}
	var all []*smtpclient.Verdict
	if !jsonOut {
		fmt.Fprintf(w, "postfixtls demo: what Postfix %s would decide, with loopback servers and DNS\n", wd.settings.Version())
	}
	for i, sc := range scenarios {
		s := wd.settings
		if sc.noCA {
			s = wd.noCA
		}
		if !jsonOut {
			fmt.Fprintf(w, "\n%d. %s\n", i+1, sc.title)
		}
		for _, rcpt := range sc.rcpts {
			v, err := smtpclient.Check(ctx, s, rcpt, smtpclient.CheckOptions{Resolver: wd.resolver, Dialer: wd.dialer, Now: time.Now()})
			if err != nil {
				return fmt.Errorf("%s: %w", rcpt, err)
			}
			all = append(all, v)
			if !jsonOut {
				printVerdict(w, wd, v)
			}
		}
	}
	if jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	return nil
}

func printVerdict(w io.Writer, wd *world, v *smtpclient.Verdict) {
	fmt.Fprintf(w, "   %s -> next hop %q, policy %s", v.Destination, v.Nexthop, v.Policy.Level)
	if len(v.Policy.Match) > 0 {
		fmt.Fprintf(w, " match=%s", strings.Join(v.Policy.Match, ":"))
	}
	fmt.Fprintf(w, "\n      decided by %s\n", strings.ReplaceAll(v.Policy.Source, wd.dir+"/", ""))
	for _, a := range v.Attempts {
		trust := "no TLS"
		if a.Trust != nil {
			trust = string(*a.Trust) + " TLS"
		}
		fmt.Fprintf(w, "      %s[%s]:%d: %s", a.Host, a.Addr, a.Port, trust)
		if a.Reason != "" {
			fmt.Fprintf(w, ", %s", a.Reason)
		}
		fmt.Fprintln(w)
		for _, l := range a.Log {
			if strings.Contains(l, "verification failed") || strings.Contains(l, "unusable") {
				fmt.Fprintf(w, "        log: %s\n", l)
			}
		}
	}
	switch v.Outcome {
	case "deliver":
		fmt.Fprintf(w, "   => delivered (status=sent)\n")
	case "bounce":
		fmt.Fprintf(w, "   => status=bounced (%s), dsn=%s\n", v.Reason, v.DSN)
	default:
		fmt.Fprintf(w, "   => status=deferred (%s), dsn=%s\n", v.Reason, v.DSN)
	}
	for _, f := range v.Findings {
		fmt.Fprintf(w, "      why [%s]: %s\n", f.Code, f.Summary)
		for _, fix := range f.Fixes {
			note := ""
			if c := fix.Comment(); c != "" {
				note = "   # " + c
			}
			fmt.Fprintf(w, "      fix: %s%s\n", fix, note)
		}
	}
}

// world is the demo's loopback universe.
type world struct {
	dir      string
	settings *policy.Settings
	noCA     *policy.Settings
	resolver dnssec.Resolver
	dialer   *loopbackDialer
	closers  []func()
}

func (wd *world) close() {
	for i := len(wd.closers) - 1; i >= 0; i-- {
		wd.closers[i]()
	}
	os.RemoveAll(wd.dir)
}

func newWorld(ctx context.Context) (*world, error) {
	dir, err := os.MkdirTemp("", "postfixtls-demo-")
	if err != nil {
		return nil, err
	}
	wd := &world{dir: dir, dialer: &loopbackDialer{to: map[string]string{}}}
	ok := false
	defer func() {
		if !ok {
			wd.close()
		}
	}()
	h, err := pki.NewHierarchy()
	if err != nil {
		return nil, err
	}
	leaf := func(cn string, dnsNames ...string) (*pki.Cert, error) {
		return pki.New(pki.Spec{CN: []string{cn}, DNS: dnsNames}, h.Inter)
	}
	me, err := leaf("*.messagingengine.com", "*.messagingengine.com", "messagingengine.com")
	if err != nil {
		return nil, err
	}
	hearst, err := pki.New(pki.Spec{CN: []string{"mx.hearst.example"}}, h.Inter)
	if err != nil {
		return nil, err
	}
	daneOld, err := pki.New(pki.Spec{CN: []string{"mx.dane.example"}, DNS: []string{"mx.dane.example"}}, nil)
	if err != nil {
		return nil, err
	}
	daneNew, err := pki.New(pki.Spec{CN: []string{"mx.dane.example"}, DNS: []string{"mx.dane.example"}}, nil)
	if err != nil {
		return nil, err
	}
	pinned, err := leaf("mx.pinned.example", "mx.pinned.example")
	if err != nil {
		return nil, err
	}
	noca, err := leaf("mx.noca.example", "mx.noca.example")
	if err != nil {
		return nil, err
	}

	// Servers: one loopback STARTTLS server per MX address.
	servers := map[string]*pki.Cert{"192.0.2.10:25": me, "192.0.2.20:25": hearst, "192.0.2.30:25": daneNew, "192.0.2.40:25": pinned, "192.0.2.50:25": noca}
	for addr, cert := range servers {
		chain := []*pki.Cert{h.Inter}
		if cert == daneNew {
			chain = nil
		}
		srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.0.1:0", Hostname: "mx.demo", Certificates: []tls.Certificate{pki.TLSCertificate(cert, chain...)}})
		if err != nil {
			return nil, err
		}
		wd.closers = append(wd.closers, func() { srv.Close() })
		wd.dialer.to[addr] = srv.Addr()
	}

	// DNS: every zone signed, so every answer is authentic (the AD bit a validating resolver
	// sets).
	sum := sha256.Sum256(daneOld.SPKI())
	zone := []string{
		"fastmail.fm. 300 IN MX 10 in1-smtp.messagingengine.com.",
		"verify.fastmail.fm. 300 IN MX 10 in1-smtp.messagingengine.com.",
		"fixed.fastmail.fm. 300 IN MX 10 in1-smtp.messagingengine.com.",
		"in1-smtp.messagingengine.com. 300 IN A 192.0.2.10",
		"hearst.example. 300 IN MX 10 mx.hearst.example.",
		"mx.hearst.example. 300 IN A 192.0.2.20",
		"dane.example. 300 IN MX 10 mx.dane.example.",
		"mx.dane.example. 300 IN A 192.0.2.30",
		"_25._tcp.mx.dane.example. 300 IN TLSA 3 1 1 " + hex.EncodeToString(sum[:]),
		"pinned.example. 300 IN MX 10 mx.pinned.example.",
		"mx.pinned.example. 300 IN A 192.0.2.40",
		"noca.example. 300 IN MX 10 mx.noca.example.",
		"mx.noca.example. 300 IN A 192.0.2.50",
	}
	dnsr := new(dnssec.MockResolver)
	if err := dnsr.Add(zone...); err != nil {
		return nil, err
	}
	wd.resolver = dnsr

	// Configuration: the SHA-1 pin an admin copied from a browser, and a CA file.
	sha1Pin, err := fingerprint.Compute(pinned.Cert, "sha1")
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"tls_policy": fmt.Sprintf(tlsPolicy, sha1Pin.CertString()),
		"main.cf":    strings.ReplaceAll(mainCF, "{{dir}}", dir),
		"ca.pem":     string(h.Root.PEM()),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	load := func(over ...string) (*policy.Settings, error) {
		return policy.Load(ctx, policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir, MyHostname: "client.example.net", Overrides: over})
	}
	if wd.settings, err = load(); err != nil {
		return nil, err
	}
	if wd.noCA, err = load("smtp_tls_CAfile="); err != nil {
		return nil, err
	}
	ok = true
	return wd, nil
}

// loopbackDialer connects the documentation addresses the DNS hands out to the loopback
// servers standing in for them, and refuses everything else.
type loopbackDialer struct {
	mu sync.Mutex
	to map[string]string
}

func (d *loopbackDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	dst, ok := d.to[addr]
	d.mu.Unlock()
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused (no demo server)")}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, dst)
}
