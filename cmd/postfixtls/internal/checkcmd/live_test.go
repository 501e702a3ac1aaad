package checkcmd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/stretchr/testify/require"
)

// liveWorld is a DNSSEC-signed zone behind a real validating unbound (nsd + unbound from
// dnskit) and loopback STARTTLS servers on 127.0.1.x, all on one port that the configuration
// names as smtp_tcp_port, so the command dials them with its ordinary flags: no redirecting
// dialer, no test hook.
type liveWorld struct {
	dir, resolver string
	port          int
	servers       map[string]*smtpd.Server
}

const liveMainCF = `compatibility_level = 3.7
smtp_dns_support_level = dnssec
smtp_tls_security_level = may
smtp_tls_CAfile = {{dir}}/rootca.pem
smtp_tls_policy_maps = texthash:{{dir}}/tls_policy
smtp_tcp_port = {{port}}
myhostname = client.test
`

const liveMasterCF = `smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o smtp_tls_security_level=encrypt
`

const livePolicy = `fastmail.test secure
example.test dane
stale.test dane
plain.test encrypt
`

func newLiveWorld(t *testing.T) *liveWorld {
	t.Helper()
	if err := dnskit.Missing(); err != nil {
		need.Missing(t, "%v", err)
	}
	h := pki.MustHierarchy(t)
	me := h.Leaf(t, pki.Spec{CN: []string{"*.messagingengine.test"}, DNS: []string{"*.messagingengine.test", "messagingengine.test"}})
	mx := h.Leaf(t, pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}})
	other := pki.Must(t, pki.Spec{CN: []string{"mx.example.test"}}, nil)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &liveWorld{dir: t.TempDir(), servers: map[string]*smtpd.Server{}}
	configs := []struct {
		ip  string
		cfg smtpd.Config
	}{
		{"127.0.1.10", smtpd.Config{Certificates: []tls.Certificate{pki.TLSCertificate(me, h.Inter)}}},
		{"127.0.1.20", smtpd.Config{Certificates: []tls.Certificate{pki.TLSCertificate(mx, h.Inter)}}},
		{"127.0.1.30", smtpd.Config{Certificates: []tls.Certificate{pki.TLSCertificate(mx, h.Inter)}}},
		{"127.0.1.40", smtpd.Config{NoSTARTTLS: true}},
		{"127.0.1.50", smtpd.Config{Certificates: []tls.Certificate{pki.TLSCertificate(mx, h.Inter)},
			RcptReply: "550 5.1.1 <user@reject.test>: Recipient address rejected: User unknown"}},
	}
	for _, c := range configs {
		c.cfg.Addr = net.JoinHostPort(c.ip, strconv.Itoa(w.port))
		srv, err := smtpd.Start(ctx, c.cfg)
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		if w.port == 0 {
			w.port = srv.Port()
		}
		w.servers[c.ip] = srv
	}
	tlsa := fmt.Sprintf("_%d._tcp", w.port)
	dns := dnskit.Start(t, dnskit.Config{Records: []string{
		"fastmail.test. 300 IN MX 10 in1-smtp.messagingengine.test.",
		"in1-smtp.messagingengine.test. 300 IN A 127.0.1.10",
		"example.test. 300 IN MX 10 mx.example.test.",
		"mx.example.test. 300 IN A 127.0.1.20",
		tlsa + ".mx.example.test. 300 IN TLSA 3 1 1 " + spkiHex(mx),
		"stale.test. 300 IN MX 10 mx.stale.test.",
		"mx.stale.test. 300 IN A 127.0.1.30",
		tlsa + ".mx.stale.test. 300 IN TLSA 3 1 1 " + spkiHex(other),
		"plain.test. 300 IN MX 10 mx.plain.test.",
		"mx.plain.test. 300 IN A 127.0.1.40",
		"reject.test. 300 IN MX 10 mx.reject.test.",
		"mx.reject.test. 300 IN A 127.0.1.50",
	}})
	w.resolver = dns.Resolver
	writeFile(t, filepath.Join(w.dir, "rootca.pem"), h.Root.PEM())
	writeFile(t, filepath.Join(w.dir, "tls_policy"), []byte(livePolicy))
	writeFile(t, filepath.Join(w.dir, "master.cf"), []byte(liveMasterCF))
	main := strings.NewReplacer("{{dir}}", w.dir, "{{port}}", strconv.Itoa(w.port)).Replace(liveMainCF)
	writeFile(t, filepath.Join(w.dir, "main.cf"), []byte(main))
	return w
}

// TestLive runs the command against real nsd + unbound and loopback STARTTLS servers and
// compares with Postfix 3.7.11's recorded verdicts (the oracle cases of package smtpclient).
func TestLive(t *testing.T) {
	w := newLiveWorld(t)
	cases := []struct {
		name, dest, outcome, dsn, reason, trust, finding string
		extra                                            []string
		code                                             int
		server                                           string
	}{
		{name: "oracle fastmail-secure: §4.5 secure never matches the hosted MX", dest: "user@fastmail.test",
			outcome: "defer", dsn: "4.7.5", reason: "Server certificate not verified", trust: "Untrusted",
			finding: "secure-nexthop-mismatch", code: 1, server: "127.0.1.10"},
		{name: "oracle dane-311-match: §6.4 DANE-EE match, SNI is the TLSA base domain", dest: "user@example.test",
			outcome: "deliver", dsn: "2.0.0", trust: "Verified", code: 0, server: "127.0.1.20"},
		{name: "oracle dane-311-mismatch: §6.4 stale TLSA record", dest: "user@stale.test",
			outcome: "defer", dsn: "4.7.5", reason: "Server certificate not verified", trust: "Untrusted",
			finding: "tlsa-stale-after-rollover", code: 1, server: "127.0.1.30"},
		{name: "oracle encrypt-no-starttls: §3.2 STARTTLS not offered", dest: "user@plain.test",
			outcome: "defer", dsn: "4.7.4", reason: "TLS is required, but was not offered by host mx.plain.test[127.0.1.40]",
			finding: "starttls-not-offered", code: 1, server: "127.0.1.40"},
		{name: "§3.2 may delivers in plaintext when STARTTLS is not offered", dest: "[mx.plain.test]",
			outcome: "deliver", dsn: "2.0.0", code: 0, server: "127.0.1.40"},
		{name: "§2.4 master.cf -o of the -service that delivers an explicit next hop", dest: "[mx.plain.test]",
			extra:   []string{"-service", "relay"},
			outcome: "defer", dsn: "4.7.4", reason: "TLS is required, but was not offered by host mx.plain.test[127.0.1.40]",
			finding: "starttls-not-offered", code: 1, server: "127.0.1.40"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(w.servers[c.server].Sessions())
			args := append([]string{"-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-json"}, c.extra...)
			code, out, errs := invoke(t, append(args, c.dest)...)
			require.Equal(t, c.code, code, "stderr: %s\nstdout: %s", errs, out)
			var v struct {
				Outcome, DSN, Reason string
				Trust                *string
				Policy               struct{ Level, Source string }
				Attempts             []struct{ Addr string }
				Findings             []struct{ Code string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &v), out)
			require.Equal(t, c.outcome, v.Outcome, out)
			require.Equal(t, c.dsn, v.DSN)
			require.Equal(t, c.reason, v.Reason)
			if c.trust == "" {
				require.Nil(t, v.Trust)
			} else {
				require.NotNil(t, v.Trust)
				require.Equal(t, c.trust, *v.Trust)
			}
			var codes []string
			for _, f := range v.Findings {
				codes = append(codes, f.Code)
			}
			if c.finding != "" {
				require.Contains(t, codes, c.finding)
			}
			require.NotEmpty(t, v.Attempts)
			require.Equal(t, c.server, v.Attempts[len(v.Attempts)-1].Addr)
			// The server records a session once it has seen the client go (QUIT or close).
			require.Eventually(t, func() bool { return len(w.servers[c.server].Sessions()) > before }, 5*time.Second,
				10*time.Millisecond, "the server saw the connection")
		})
	}

	t.Run("human output names the resolver, the attempt and the verdict", func(t *testing.T) {
		code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "user@example.test")
		require.Equal(t, 0, code, errs)
		require.Contains(t, out, "dns          -resolver "+w.resolver)
		require.Contains(t, out, fmt.Sprintf("mx.example.test[127.0.1.20]:%d", w.port))
		require.Contains(t, out, "Verified TLS")
		require.Contains(t, out, fmt.Sprintf("relay=mx.example.test[127.0.1.20]:%d, dsn=2.0.0, status=sent", w.port))
		require.Eventually(t, func() bool {
			sess := w.servers["127.0.1.20"].Sessions()
			return len(sess) > 0 && sess[len(sess)-1].SNI == "mx.example.test"
		}, 5*time.Second, 10*time.Millisecond, "§6.3 DANE sends the TLSA base domain as SNI")
	})
	t.Run("-probe-rcpt: smtp_rcpt_fail 550 5.1.1 bounces the recipient after a TLS session Postfix accepts", func(t *testing.T) {
		code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-probe-rcpt", "-sender", "me@client.test", "-json", "user@reject.test")
		require.Equal(t, 1, code, errs)
		var v struct {
			Outcome, DSN, Reason string
			Recipient            struct{ Check, Address, Note string }
		}
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		require.Equal(t, "bounce", v.Outcome)
		require.Equal(t, "5.1.1", v.DSN)
		require.Equal(t, "host mx.reject.test[127.0.1.50] said: 550 5.1.1 <user@reject.test>: Recipient address rejected: User unknown (in reply to RCPT TO command)", v.Reason)
		require.Equal(t, "rejected", v.Recipient.Check)
		require.Equal(t, "user@reject.test", v.Recipient.Address)
		// The server records a session once it has seen the client go (QUIT or close).
		require.Eventually(t, func() bool { return len(w.servers["127.0.1.50"].Sessions()) > 0 }, 5*time.Second, 10*time.Millisecond)
		sess := w.servers["127.0.1.50"].Sessions()
		last := sess[len(sess)-1]
		require.Equal(t, "FROM:<me@client.test>", last.MailFrom)
		require.NotContains(t, last.Commands, "DATA")

		code, out, errs = invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-probe-rcpt", "user@reject.test")
		require.Equal(t, 1, code, errs)
		require.Contains(t, out, "status=bounced (host mx.reject.test[127.0.1.50] said: 550 5.1.1")
		require.Contains(t, out, "recipient    rejected <user@reject.test> from <>: 550 5.1.1")
		require.Contains(t, out, "[recipient-refused] The TLS policy is not the problem")
	})
	t.Run("without -probe-rcpt the verdict says the recipient was not tested", func(t *testing.T) {
		code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-json", "user@reject.test")
		require.Equal(t, 0, code, errs)
		var v struct {
			Outcome   string
			Recipient struct{ Check, Note string }
		}
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		require.Equal(t, "deliver", v.Outcome)
		require.Equal(t, "not-tested", v.Recipient.Check)
		require.Contains(t, v.Recipient.Note, "not tested")
		_, out, _ = invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "user@reject.test")
		require.Contains(t, out, "status=sent (the recipient was not tested")
	})
	t.Run("-probe-rcpt with an accepting server: the recipient was accepted", func(t *testing.T) {
		code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-probe-rcpt", "user@example.test")
		require.Equal(t, 0, code, errs)
		require.Contains(t, out, "status=sent (the server accepted the recipient; the message itself, DATA, was not sent)")
		require.Contains(t, out, "recipient    accepted <user@example.test> from <>: 250")
	})
	t.Run("-probe-rcpt needs an address", func(t *testing.T) {
		code, _, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-probe-rcpt", "example.test")
		require.Equal(t, 2, code)
		require.Contains(t, errs, "-probe-rcpt needs a recipient address")
	})
	t.Run("-service naming no master.cf service is a configuration error", func(t *testing.T) {
		code, out, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", w.resolver, "-service", "nosuch", "[mx.plain.test]")
		require.Equal(t, 2, code, out)
		require.Contains(t, errs, `transport "nosuch" has no master.cf service`)
	})
	t.Run("-resolver must be host:port", func(t *testing.T) {
		code, _, errs := invoke(t, "-c", w.dir, "-version", "3.7.11", "-resolver", "not an address", "user@example.test")
		require.Equal(t, 2, code)
		require.Contains(t, errs, "-resolver")
	})
}
