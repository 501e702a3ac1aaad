package smtpclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/stretchr/testify/require"
)

// redirect is a Dialer that sends connections for "host:port" names to loopback test servers.
type redirect struct {
	mu    sync.Mutex
	to    map[string]string
	dials []string
}

func (r *redirect) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	dst, ok := r.to[addr]
	r.dials = append(r.dials, addr)
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("dial %s: connection refused (no test server)", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, dst)
}

// world is a DNSSEC-signed test zone behind a validating resolver, loopback STARTTLS servers
// standing in for the MX hosts, and a Postfix configuration.
type world struct {
	s      *policy.Settings
	opt    CheckOptions
	dialer *redirect
}

func newWorld(t *testing.T, records []string, servers map[string]smtpd.Config, mainCF, tlsPolicy string) *world {
	t.Helper()
	dns := dnskit.Start(t, dnskit.Config{Records: records})
	rd := &redirect{to: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for name, cfg := range servers {
		cfg.Addr = "127.0.0.1:0"
		srv, err := smtpd.Start(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		rd.to[name] = srv.Addr()
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls_policy"), []byte(tlsPolicy), 0o644))
	main := strings.ReplaceAll(mainCF, "{{dir}}", dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(main), 0o644))
	s, err := policy.Load(context.Background(), policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir, MyHostname: "client.oracle.test"})
	require.NoError(t, err)
	return &world{s: s, dialer: rd, opt: CheckOptions{Resolver: &dnssec.Client{Servers: []string{dns.Resolver}}, Dialer: rd}}
}

func spkiHex(c *pki.Cert) string {
	sum := sha256.Sum256(c.SPKI())
	return hex.EncodeToString(sum[:])
}

// TestCheckAgainstRealDNS replays oracle cases end to end: real nsd + unbound for the signed
// zone, loopback STARTTLS servers, Postfix 3.7.11's recorded verdicts.
func TestCheckAgainstRealDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("real nsd and unbound: skipped in -short mode")
	}
	h := pki.MustHierarchy(t)
	me := h.Leaf(t, pki.Spec{CN: []string{"*.messagingengine.test"}, DNS: []string{"*.messagingengine.test", "messagingengine.test"}})
	mx := h.Leaf(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}})
	other := pki.Must(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}}, nil)
	dir := t.TempDir()
	ca := filepath.Join(dir, "rootca.pem")
	require.NoError(t, os.WriteFile(ca, h.Root.PEM(), 0o644))

	records := []string{
		"fastmail.test. 300 IN MX 10 in1-smtp.messagingengine.test.",
		"in1-smtp.messagingengine.test. 300 IN A 127.0.1.10",
		"example.test. 300 IN MX 10 mx.example.test.",
		"mx.example.test. 300 IN A 127.0.1.20",
		"_25._tcp.mx.example.test. 300 IN TLSA 3 1 1 " + spkiHex(mx),
		"stale.test. 300 IN MX 10 mx.stale.test.",
		"mx.stale.test. 300 IN A 127.0.1.30",
		"_25._tcp.mx.stale.test. 300 IN TLSA 3 1 1 " + spkiHex(other),
		"plain.test. 300 IN MX 10 mx.plain.test.",
		"mx.plain.test. 300 IN A 127.0.1.40",
		"notlsa.test. 300 IN MX 10 mx.notlsa.test.",
		"mx.notlsa.test. 300 IN A 127.0.1.50",
	}
	servers := map[string]smtpd.Config{
		"127.0.1.10:25": {Certificates: []tls.Certificate{pki.TLSCertificate(me, h.Inter)}},
		"127.0.1.20:25": {Certificates: []tls.Certificate{pki.TLSCertificate(mx, h.Inter)}},
		"127.0.1.30:25": {Certificates: []tls.Certificate{pki.TLSCertificate(mx, h.Inter)}},
		"127.0.1.40:25": {NoSTARTTLS: true},
		"127.0.1.50:25": {Certificates: []tls.Certificate{pki.TLSCertificate(other)}},
	}
	mainCF := "compatibility_level = 3.7\nsmtp_dns_support_level = dnssec\nsmtp_tls_security_level = may\n" +
		"smtp_tls_CAfile = " + ca + "\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"
	table := "fastmail.test secure\nverify.fastmail.test verify\nexample.test dane\nstale.test dane\nplain.test encrypt\nnotlsa.test dane\n"
	w := newWorld(t, records, servers, mainCF, table)
	ctx := context.Background()

	cases := []struct {
		name, dest, outcome, dsn, reason, trust string
		finding                                 string
	}{
		{"oracle fastmail-secure: §4.5 secure never matches the hosted MX", "user@fastmail.test", "defer", "4.7.5",
			"Server certificate not verified", "Untrusted", "secure-nexthop-mismatch"},
		{"oracle dane-311-match: §6.4 DANE-EE match", "user@example.test", "deliver", "2.0.0", "", "Verified", ""},
		{"oracle dane-311-mismatch: §6.4 stale TLSA record", "user@stale.test", "defer", "4.7.5",
			"Server certificate not verified", "Untrusted", "tlsa-stale-after-rollover"},
		{"oracle dane-no-tlsa-falls-to-may: §6.1 item 8 no TLSA records: opportunistic TLS", "user@notlsa.test", "deliver", "2.0.0", "", "Untrusted", ""},
		{"oracle encrypt-no-starttls: §3.2 STARTTLS not offered", "user@plain.test", "defer", "4.7.4",
			"TLS is required, but was not offered by host mx.plain.test[127.0.1.40]", "", "starttls-not-offered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Check(ctx, w.s, c.dest, w.opt)
			require.NoError(t, err)
			require.Equal(t, c.outcome, string(v.Outcome), "%+v", v.Attempts)
			require.Equal(t, c.dsn, string(v.DSN))
			require.Equal(t, c.reason, v.Reason)
			if c.trust == "" {
				require.Nil(t, v.Trust)
			} else {
				require.NotNil(t, v.Trust)
				require.Equal(t, c.trust, string(*v.Trust))
			}
			if c.finding != "" {
				var codes []string
				for _, f := range v.Findings {
					codes = append(codes, string(f.Code))
				}
				require.Contains(t, codes, c.finding)
			}
			b, err := json.Marshal(v)
			require.NoError(t, err)
			for _, field := range []string{`"destination"`, `"nexthop"`, `"postfix_version"`, `"policy"`, `"outcome"`, `"dsn"`, `"reason"`, `"trust"`, `"attempts"`, `"findings"`} {
				require.Contains(t, string(b), field, "design.md JSON contract")
			}
		})
	}
	// The fastmail finding proposes the narrowest fix.
	v, err := Check(ctx, w.s, "user@fastmail.test", w.opt)
	require.NoError(t, err)
	var fixes []string
	for _, f := range v.Findings {
		fixes = append(fixes, f.FixLines()...)
	}
	require.Contains(t, fixes, "fastmail.test secure match=.messagingengine.test")
	require.Equal(t, policy.Secure, v.Policy.Level)
	require.Contains(t, v.Policy.Source, "tls_policy:1: fastmail.test secure")
	// SNI: DANE sends the TLSA base domain.
	require.Equal(t, []string{"127.0.1.10:25", "127.0.1.20:25", "127.0.1.30:25", "127.0.1.50:25", "127.0.1.40:25", "127.0.1.10:25"}, w.dialer.dials)
}

// TestCheckWalk covers the MX walk: a failing first MX and a working second one, an invalid
// policy that never connects, a bogus zone, and a next hop with no MX records.
func TestCheckWalk(t *testing.T) {
	h := pki.MustHierarchy(t)
	good := h.Leaf(t, pki.Spec{CN: []string{"mx2.two.test"}, DNS: []string{"mx2.two.test", "mx1.two.test"}})
	wrong := h.Leaf(t, pki.Spec{CN: []string{"other.test"}, DNS: []string{"other.test"}})
	dir := t.TempDir()
	ca := filepath.Join(dir, "rootca.pem")
	require.NoError(t, os.WriteFile(ca, h.Root.PEM(), 0o644))
	records := []string{
		"two.test. 300 IN MX 10 mx1.two.test.",
		"two.test. 300 IN MX 20 mx2.two.test.",
		"mx1.two.test. 300 IN A 127.0.2.1",
		"mx2.two.test. 300 IN A 127.0.2.2",
		"broken.test. 300 IN MX 10 mx.broken.test.",
		"mx.broken.test. 300 IN A 127.0.2.3",
		"mx.bogus.test. 300 IN A 127.0.2.4",
		"bogus.test. 300 IN MX 10 mx.bogus.test.",
		"nomx.test. 300 IN A 127.0.2.5",
		"null.test. 300 IN MX 0 .",
		"noaddr.test. 300 IN MX 10 mx.noaddr.test.",
		"mx.noaddr.test. 300 IN TXT \"no address\"",
		"skip.test. 300 IN MX 10 mx0.skip.test.",
		"skip.test. 300 IN MX 20 mx2.two.test.",
	}
	servers := map[string]smtpd.Config{
		"127.0.2.1:25": {Certificates: []tls.Certificate{pki.TLSCertificate(wrong, h.Inter)}},
		"127.0.2.2:25": {Certificates: []tls.Certificate{pki.TLSCertificate(good, h.Inter)}},
		"127.0.2.5:25": {Certificates: []tls.Certificate{pki.TLSCertificate(good, h.Inter)}},
	}
	mainCF := "compatibility_level = 3.7\nsmtp_dns_support_level = dnssec\nsmtp_tls_security_level = verify\n" +
		"smtp_tls_CAfile = " + ca + "\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"
	w := newWorld(t, records, servers, mainCF, "broken.test secure tls_connection_reuse=yes\nnomx.test encrypt\n")
	ctx := context.Background()

	// oracle mx-fallback-second-mx: §3.2 the first MX fails verification, the second delivers.
	v, err := Check(ctx, w.s, "user@two.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeDeliver, v.Outcome)
	require.Len(t, v.Attempts, 2)
	require.Equal(t, verdict.OutcomeDefer, v.Attempts[0].Outcome)
	require.Equal(t, "Server certificate not verified", v.Attempts[0].Reason)
	require.Equal(t, []string{"QUEUEID: Server certificate not verified"}, v.Log)

	// §9.2: an invalid entry means no connection at all, deferred 4.7.5.
	before := len(w.dialer.dials)
	v, err = Check(ctx, w.s, "user@broken.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeDefer, v.Outcome)
	require.Equal(t, policy.InvalidDSN, v.DSN)
	require.Equal(t, "client TLS configuration problem", v.Reason)
	require.False(t, v.Policy.Valid)
	require.Equal(t, before, len(w.dialer.dials), "Postfix does not connect with an invalid policy")

	// oracle dane-bogus-zone: §6.2 a bogus zone makes the MX lookup fail for every level.
	v, err = Check(ctx, w.s, "user@bogus.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.Outcome("defer"), v.Outcome)
	require.Equal(t, policy.DSN("4.4.3"), v.DSN)
	require.Contains(t, v.Reason, "Host or domain name not found. Name service error for name=bogus.test type=MX: Host not found, try again")

	// RFC 7505 (real Postfix 3.7.11, conformance dns/null-mx): a null MX bounces 5.1.0.
	v, err = Check(ctx, w.s, "user@null.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeBounce, v.Outcome)
	require.Equal(t, policy.DSN("5.1.0"), v.DSN)
	require.Equal(t, "Domain null.test does not accept mail (nullMX)", v.Reason)

	// smtp_domain_addr() (conformance dns/mx-without-address): no MX host with an address
	// bounces 5.4.4 after a warning; an address-less MX host before a working one is
	// skipped without an attempt (dns/mx-without-address-then-good).
	v, err = Check(ctx, w.s, "user@noaddr.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeBounce, v.Outcome)
	require.Equal(t, policy.DSN("5.4.4"), v.DSN)
	require.Equal(t, "Host or domain name not found. Name service error for name=mx.noaddr.test type=A: Host found but no data record of requested type", v.Reason)
	require.Contains(t, strings.Join(v.Attempts[0].Log, "\n"), "warning: no MX host for noaddr.test has a valid address record")
	v, err = Check(ctx, w.s, "user@skip.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeDeliver, v.Outcome)
	require.Len(t, v.Attempts, 1)
	require.Equal(t, "mx2.two.test", v.Attempts[0].Host)

	// §4.4: no MX records: the domain's own address, hostname = the domain.
	v, err = Check(ctx, w.s, "user@nomx.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.Outcome("deliver"), v.Outcome)
	require.Equal(t, "nomx.test", v.Attempts[0].Host)
}

// TestCheckTrustAnchorFile: §6.5 a tafile replaces the CAs; a live check must find it by the
// name the policy gives.
func TestCheckTrustAnchorFile(t *testing.T) {
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{CN: []string{"mx.ta.test"}, DNS: []string{"mx.ta.test"}})
	dir := t.TempDir()
	ta := filepath.Join(dir, "inter.pem")
	require.NoError(t, os.WriteFile(ta, h.Inter.PEM(), 0o644))
	records := []string{"ta.test. 300 IN MX 10 mx.ta.test.", "mx.ta.test. 300 IN A 127.0.3.1"}
	servers := map[string]smtpd.Config{"127.0.3.1:25": {Certificates: []tls.Certificate{pki.TLSCertificate(leaf, h.Inter)}}}
	mainCF := "compatibility_level = 3.7\nsmtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n"
	w := newWorld(t, records, servers, mainCF, "ta.test secure match=.ta.test tafile="+ta+"\n")
	v, err := Check(context.Background(), w.s, "user@ta.test", w.opt)
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeDeliver, v.Outcome, "%+v", v.Attempts)
	require.Equal(t, verdict.TrustVerified, *v.Trust)
}

// TestCheckDeadline: a server that accepts and never speaks would hold Postfix for
// smtp_helo_timeout (300 s) per address; the check's own deadline ends it, the cut session
// counts as a deferral (never as a plaintext delivery at may), and the verdict says so.
func TestCheckDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var conns sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { // hold the connection silently until the client goes
				defer conns.Done()
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	w := newWorld(t, []string{"slow.test. 300 IN MX 10 mx.slow.test.", "mx.slow.test. 300 IN A 127.0.4.1"}, nil,
		"compatibility_level = 3.7\nsmtp_tls_security_level = may\n", "")
	w.dialer.to["127.0.4.1:25"] = l.Addr().String()
	opt := w.opt
	opt.Deadline = 1500 * time.Millisecond
	t0 := time.Now()
	v, err := Check(context.Background(), w.s, "user@slow.test", opt)
	require.NoError(t, err)
	require.Less(t, time.Since(t0), 10*time.Second)
	require.Equal(t, verdict.OutcomeDefer, v.Outcome, "%+v", v.Attempts)
	require.Contains(t, v.Reason, "cut short by the check's deadline")
	require.Contains(t, v.Deadline, "deadline (1.5s)")
	require.Contains(t, v.Deadline, "5m0s for each reply")

	// The caller's own cancellation is no verdict at all.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	opt.Deadline = -1
	_, err = Check(ctx, w.s, "user@slow.test", opt)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	l.Close()
	conns.Wait()
}
