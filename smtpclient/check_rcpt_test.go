package smtpclient

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// TestCheckProbeRecipient replays the shared oracle's RCPT TO cases through Check with the
// recipient probe; the reasons, DSNs and server order are real Postfix 3.7.11's (servers
// with rejectrcpt / deferrcpt, which answer "550 5.1.1 Recipient rejected by oracle" and
// "450 4.2.0 Recipient deferred by oracle"; conformance cases rcpt/*).
func TestCheckProbeRecipient(t *testing.T) {
	h := pki.MustHierarchy(t)
	cert := pki.TLSCertificate(h.Leaf(t, pki.Spec{CN: []string{"*.example.test"}, DNS: []string{"*.example.test"}}), h.Inter)
	wrong := pki.TLSCertificate(h.Leaf(t, pki.Spec{CN: []string{"other.test"}, DNS: []string{"other.test"}}), h.Inter)
	const reject, deferr = "550 5.1.1 Recipient rejected by oracle", "450 4.2.0 Recipient deferred by oracle"
	tests := []struct {
		name    string
		servers []smtpd.Config // mx1, mx2
		level   string
		noProbe bool
		outcome verdict.Outcome
		dsn     policy.DSN
		reason  string
		check   verdict.RecipientCheck
		log     []string
		tried   int // servers that saw MAIL FROM
	}{
		{name: "oracle verify-rejectrcpt: smtp_rcpt_fail 550 bounces 5.1.1, no other MX tried",
			servers: []smtpd.Config{{RcptReply: reject}, {}}, level: "verify",
			outcome: verdict.OutcomeBounce, dsn: "5.1.1", check: verdict.RecipientRejected, tried: 1,
			reason: "host mx1.example.test[127.0.0.1] said: 550 5.1.1 Recipient rejected by oracle (in reply to RCPT TO command)"},
		{name: "oracle twomx-deferrcpt: smtp_rcpt_fail 450 on a non-final MX logs and tries the next, which delivers",
			servers: []smtpd.Config{{RcptReply: deferr}, {}}, level: "verify",
			outcome: verdict.OutcomeDeliver, dsn: "2.0.0", check: verdict.RecipientAccepted, tried: 2,
			log: []string{"QUEUEID: host mx1.example.test[127.0.0.1] said: 450 4.2.0 Recipient deferred by oracle (in reply to RCPT TO command)"}},
		{name: "oracle verify-deferrcpt: smtp_rcpt_fail 450 on the last MX defers 4.2.0",
			servers: []smtpd.Config{{RcptReply: deferr}}, level: "verify",
			outcome: verdict.OutcomeDefer, dsn: "4.2.0", check: verdict.RecipientDeferred, tried: 1,
			reason: "host mx1.example.test[127.0.0.1] said: 450 4.2.0 Recipient deferred by oracle (in reply to RCPT TO command)"},
		{name: "oracle may-plain-rejectrcpt: §3.1 may without STARTTLS, plaintext RCPT 550 bounces",
			servers: []smtpd.Config{{RcptReply: reject, NoSTARTTLS: true}}, level: "may",
			outcome: verdict.OutcomeBounce, dsn: "5.1.1", check: verdict.RecipientRejected, tried: 1,
			reason: "host mx1.example.test[127.0.0.1] said: 550 5.1.1 Recipient rejected by oracle (in reply to RCPT TO command)"},
		{name: "smtp_mesg_fail MAIL FROM 553 bounces the message",
			servers: []smtpd.Config{{MailReply: "553 5.7.1 Sender address rejected"}}, level: "verify",
			outcome: verdict.OutcomeBounce, dsn: "5.7.1", check: verdict.RecipientSenderRefused, tried: 1,
			reason: "host mx1.example.test[127.0.0.1] said: 553 5.7.1 Sender address rejected (in reply to MAIL FROM command)"},
		{name: "§4.2 mx1 fails verification: no MAIL FROM there; mx2 is asked and accepts",
			servers: []smtpd.Config{{Certificates: []tls.Certificate{wrong}}, {}}, level: "verify",
			outcome: verdict.OutcomeDeliver, dsn: "2.0.0", check: verdict.RecipientAccepted, tried: 1,
			log: []string{"QUEUEID: Server certificate not verified"}},
		{name: "no probe: delivered, the recipient was not tested", noProbe: true,
			servers: []smtpd.Config{{RcptReply: reject}}, level: "verify",
			outcome: verdict.OutcomeDeliver, dsn: "2.0.0", check: verdict.RecipientNotTested, tried: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := new(dnssec.MockResolver).MustAdd("example.test. 300 IN MX 10 mx1.example.test.", "mx1.example.test. 300 IN A 127.0.0.1")
			rd := &redirect{to: map[string]string{}}
			var servers []*smtpd.Server
			for i, cfg := range tc.servers {
				if cfg.Certificates == nil {
					cfg.Certificates = []tls.Certificate{cert}
				}
				s, err := smtpd.Start(ctx, cfg)
				require.NoError(t, err)
				servers = append(servers, s)
				if i == 1 {
					r.MustAdd("example.test. 300 IN MX 20 mx2.example.test.", "mx2.example.test. 300 IN A 127.0.0.2")
					rd.to["127.0.0.2:25"] = s.Addr()
				} else {
					rd.to["127.0.0.1:25"] = s.Addr()
				}
			}
			dir := t.TempDir()
			ca := filepath.Join(dir, "rootca.pem")
			require.NoError(t, os.WriteFile(ca, h.Root.PEM(), 0o644))
			mainCF := "compatibility_level = 3.7\nsmtp_dns_support_level = dnssec\nsmtp_tls_security_level = " + tc.level +
				"\nsmtp_tls_secure_cert_match = nexthop\nsmtp_tls_CAfile = " + ca + "\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644))
			s, err := policy.Load(ctx, policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir, MyHostname: "client.oracle.test"})
			require.NoError(t, err)
			v, err := Check(ctx, s, "user@example.test", CheckOptions{Resolver: r, Dialer: rd, Sender: "sender@oracle.test", ProbeRecipient: !tc.noProbe})
			require.NoError(t, err)
			for _, srv := range servers {
				srv.Close()
			}
			require.Equal(t, tc.outcome, v.Outcome, "%+v", v.Attempts)
			require.Equal(t, tc.dsn, v.DSN)
			require.Equal(t, tc.reason, v.Reason)
			require.Equal(t, tc.log, v.Log)
			require.Equal(t, tc.check, v.Recipient.Check, v.Recipient.Note)
			tried := 0
			for _, srv := range servers {
				for _, ss := range srv.Sessions() {
					require.NotContains(t, ss.Commands, "DATA", "never DATA")
					for _, c := range ss.Commands {
						if c == "MAIL" {
							tried++
							if ss.MailFrom != "" { // empty when the server refused MAIL FROM
								require.Equal(t, "FROM:<sender@oracle.test>", ss.MailFrom)
							}
							require.Contains(t, ss.Commands, "RSET")
						}
					}
				}
			}
			require.Equal(t, tc.tried, tried, "servers asked about the recipient")
		})
	}
}

// TestCheckProbeRecipientNeedsAddress: a domain has no recipient to ask about.
func TestCheckProbeRecipientNeedsAddress(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_security_level = may\n"), 0o644))
	s, err := policy.Load(context.Background(), policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir})
	require.NoError(t, err)
	_, err = Check(context.Background(), s, "example.test", CheckOptions{Resolver: new(dnssec.MockResolver), ProbeRecipient: true})
	require.ErrorIs(t, err, ErrNoRecipient)
}

// TestCheckProbeRecipientEHLOInsideTLS: smtp_helo() after STARTTLS: a 421 to the EHLO inside
// TLS is a site failure, "refused to talk to me", with the reply's DSN.
func TestCheckProbeRecipientEHLOInsideTLS(t *testing.T) {
	h := pki.MustHierarchy(t)
	cert := pki.TLSCertificate(h.Leaf(t, pki.Spec{CN: []string{"mx1.example.test"}, DNS: []string{"mx1.example.test"}}), h.Inter)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	addr := serveScript(t, func(v *conv) {
		if !v.greetEHLO(true) || !v.expect("STARTTLS") || !v.send("220 2.0.0 Ready to start TLS\r\n") {
			return
		}
		v.tlsServer(srvTLS, func(in *conv) {
			_ = in.expect("EHLO") && in.send("421 4.3.2 Service shutting down\r\n") && in.expect("QUIT")
		})
	})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_security_level = encrypt\n"), 0o644))
	s, err := policy.Load(context.Background(), policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir})
	require.NoError(t, err)
	r := new(dnssec.MockResolver).MustAdd("example.test. 300 IN MX 10 mx1.example.test.", "mx1.example.test. 300 IN A 127.0.0.1")
	v, err := Check(context.Background(), s, "user@example.test", CheckOptions{Resolver: r, Dialer: &redirect{to: map[string]string{"127.0.0.1:25": addr}}, ProbeRecipient: true})
	require.NoError(t, err)
	require.Equal(t, verdict.OutcomeDefer, v.Outcome)
	require.Equal(t, policy.DSN("4.3.2"), v.DSN)
	require.Equal(t, "host mx1.example.test[127.0.0.1] refused to talk to me: 421 4.3.2 Service shutting down", v.Reason)
	require.Equal(t, verdict.RecipientSessionFailed, v.Recipient.Check)
}
