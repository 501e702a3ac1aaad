package smtpclient

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
)

// TestProbeEnvelopeAgainstTestkitServer: the recipient probe is what Postfix's address
// verification sends (smtp_proto.c, trace-only request with smtp_address_verify_target =
// rcpt): EHLO again inside TLS, MAIL FROM, RCPT TO, then RSET and QUIT — never DATA.
func TestProbeEnvelopeAgainstTestkitServer(t *testing.T) {
	cert := testCert(t, "mx.test")
	env := &Envelope{Sender: "sender@example.net", Recipient: "user@mx.test"}
	tests := []struct {
		name     string
		cfg      smtpd.Config
		noTLS    bool
		cont     func(*Session) bool
		env      *Envelope
		commands []string
		mail     int
		rcpt     int
		rcptText string
		skipped  bool
	}{
		{name: "smtp_proto RCPT accepted: MAIL, RCPT, RSET, QUIT after the EHLO inside TLS",
			commands: []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 250},
		{name: "smtp_rcpt_fail 550 5.1.1: the reply is kept as Postfix stores it",
			cfg:      smtpd.Config{RcptReply: "550-5.1.1 <user@mx.test>: Recipient address rejected:\n550 5.1.1 User unknown"},
			commands: []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 550,
			rcptText: "550-5.1.1 <user@mx.test>: Recipient address rejected: 550 5.1.1 User unknown"},
		{name: "smtp_rcpt_fail 450 4.2.0", cfg: smtpd.Config{RcptReply: "450 4.2.0 Try again later"},
			commands: []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 450},
		{name: "smtp_mesg_fail MAIL FROM refused: no RCPT TO", cfg: smtpd.Config{MailReply: "553 5.7.1 Sender address rejected"},
			commands: []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RSET", "QUIT"}, mail: 553},
		{name: "null sender: MAIL FROM:<>", env: &Envelope{Recipient: "user@mx.test"},
			commands: []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 250},
		{name: "§3.1 may without STARTTLS: the envelope follows the plaintext EHLO", cfg: smtpd.Config{NoSTARTTLS: true},
			commands: []string{"EHLO", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 250},
		{name: "§3.1 level none: no STARTTLS, the envelope follows EHLO", noTLS: true,
			commands: []string{"EHLO", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 250},
		{name: "§3.2 may, STARTTLS refused: Postfix goes on in plaintext", cfg: smtpd.Config{STARTTLSReply: "454 4.7.0 TLS not available"},
			commands: []string{"EHLO", "STARTTLS", "MAIL", "RCPT", "RSET", "QUIT"}, mail: 250, rcpt: 250},
		{name: "§4.2 certificate not accepted: QUIT right after the handshake, no envelope",
			cont:     func(*Session) bool { return false },
			commands: []string{"EHLO", "STARTTLS", "QUIT"}, skipped: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Certificates = []tls.Certificate{cert}
			srv, err := smtpd.Start(context.Background(), tc.cfg)
			require.NoError(t, err)
			opt := quick()
			if tc.noTLS {
				opt.Mode = NoTLS
			}
			opt.WaitQUITReply = true
			opt.Envelope, opt.Continue = env, tc.cont
			if tc.env != nil {
				opt.Envelope = tc.env
			}
			s, err := Probe(context.Background(), srv.Addr(), opt)
			srv.Close()
			require.NoError(t, err)
			got := srv.Sessions()
			require.Len(t, got, 1)
			require.Equal(t, tc.commands, got[0].Commands)
			require.NotContains(t, got[0].Commands, "DATA")
			require.False(t, got[0].Delivered)
			require.NotNil(t, s.Envelope)
			require.Equal(t, tc.skipped, s.Envelope.Skipped != "")
			if tc.mail != 0 {
				require.Equal(t, tc.mail, s.Envelope.MAIL.Code)
				require.NotNil(t, s.Envelope.RSET, "RSET reply read")
			}
			if tc.rcpt != 0 {
				require.Equal(t, tc.rcpt, s.Envelope.RCPT.Code)
			} else {
				require.Nil(t, s.Envelope.RCPT)
			}
			if tc.rcptText != "" {
				require.Equal(t, tc.rcptText, s.Envelope.RCPT.OneLine())
			}
			if tc.mail == 250 && tc.rcpt == 250 {
				sender := "<" + opt.Envelope.Sender + ">"
				require.Equal(t, "FROM:"+sender, got[0].MailFrom)
				require.Equal(t, []string{"TO:<" + opt.Envelope.Recipient + ">"}, got[0].RcptTo)
			}
		})
	}
}

// TestProbeEnvelopeHostile: every byte after the handshake is as hostile as before it: line
// and reply limits, deadlines per step, early close — and the session ends with nothing left
// running.
func TestProbeEnvelopeHostile(t *testing.T) {
	env := &Envelope{Sender: "s@example.net", Recipient: "u@mx.test"}
	plain := func(after func(v *conv)) func(*conv) {
		return func(v *conv) {
			if !v.greetEHLO(false) {
				return
			}
			after(v)
		}
	}
	tests := []struct {
		name   string
		script func(*conv)
		opt    func(*ProbeOptions)
		step   Step
		kind   Kind
		reason string
	}{
		{name: "smtp_stream_except: connection closed after MAIL FROM",
			script: plain(func(v *conv) { v.expect("MAIL") }),
			step:   StepMAIL, kind: KindLostConnection, reason: "lost connection with mx.test[127.0.0.1] while sending MAIL FROM"},
		{name: "smtp_stream_except: connection closed after RCPT TO",
			script: plain(func(v *conv) { _ = v.expect("MAIL") && v.send("250 2.1.0 Ok\r\n") && v.expect("RCPT") }),
			step:   StepRCPT, kind: KindLostConnection, reason: "lost connection with mx.test[127.0.0.1] while sending RCPT TO"},
		{name: "smtp_rcpt_timeout: no reply to RCPT TO",
			script: plain(func(v *conv) {
				if v.expect("MAIL") && v.send("250 2.1.0 Ok\r\n") && v.expect("RCPT") {
					_, _ = v.r.ReadString('\n') // silent until the client gives up
				}
			}),
			opt:  func(o *ProbeOptions) { o.RcptTimeout = 200 * time.Millisecond },
			step: StepRCPT, kind: KindTimeout, reason: "conversation with mx.test[127.0.0.1] timed out while sending RCPT TO"},
		{name: "endless multi-line RCPT reply: capped at MaxReplyBytes",
			script: plain(func(v *conv) {
				if !v.expect("MAIL") || !v.send("250 2.1.0 Ok\r\n") || !v.expect("RCPT") {
					return
				}
				line := "550-" + strings.Repeat("x", 1000) + "\r\n"
				for i := 0; i < 200 && v.send(line); i++ {
				}
			}),
			opt:  func(o *ProbeOptions) { o.MaxReplyBytes = 8 << 10 },
			step: StepRCPT, kind: KindLimit, reason: "lost connection with mx.test[127.0.0.1] while sending RCPT TO"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveScript(t, tc.script)
			opt := quick()
			opt.Envelope = env
			if tc.opt != nil {
				tc.opt(&opt)
			}
			s, err := Probe(context.Background(), addr, opt)
			var se *StepError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.step, se.Step)
			require.Equal(t, tc.kind, se.Kind)
			reason, dsn, ok := s.FailureReason(false)
			require.True(t, ok)
			require.Equal(t, tc.reason, reason)
			require.Equal(t, "4.4.2", dsn)
			require.NotNil(t, s.Envelope)
		})
	}
}

// TestProbeEnvelopeContextCancel: cancelling during RCPT TO ends the session at once.
func TestProbeEnvelopeContextCancel(t *testing.T) {
	got := make(chan struct{})
	addr := serveScript(t, func(v *conv) {
		if !v.greetEHLO(false) || !v.expect("MAIL") || !v.send("250 2.1.0 Ok\r\n") || !v.expect("RCPT") {
			return
		}
		close(got)
		_, _ = v.r.ReadString('\n')
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	opt := quick()
	opt.Envelope = &Envelope{Recipient: "u@mx.test"}
	start := time.Now()
	_, err := Probe(ctx, addr, opt)
	var se *StepError
	require.ErrorAs(t, err, &se)
	require.Equal(t, KindCanceled, se.Kind)
	require.Less(t, time.Since(start), 2*time.Second)
}

// TestProbeEnvelopeEHLOInsideTLS: smtp_helo() inside TLS: a 421 ends the session with QUIT;
// another refusal is followed by HELO, and the envelope follows a greeting HELO.
func TestProbeEnvelopeEHLOInsideTLS(t *testing.T) {
	srvTLS := &tls.Config{Certificates: []tls.Certificate{testCert(t, "mx.test")}}
	inTLS := func(after func(*conv)) func(*conv) {
		return func(v *conv) {
			if !v.greetEHLO(true) || !v.expect("STARTTLS") || !v.send("220 2.0.0 Ready to start TLS\r\n") {
				return
			}
			v.tlsServer(srvTLS, after)
		}
	}
	tests := []struct {
		name   string
		script func(*conv)
		ehlo   int
		helo   int
		mail   bool
	}{
		{name: "smtp_helo 421 to EHLO: QUIT, no HELO, no envelope",
			script: inTLS(func(v *conv) { _ = v.expect("EHLO") && v.send("421 4.3.2 Shutting down\r\n") && v.expect("QUIT") }),
			ehlo:   421},
		{name: "smtp_helo 502 to EHLO, HELO refused: QUIT, no envelope",
			script: inTLS(func(v *conv) {
				_ = v.expect("EHLO") && v.send("502 5.5.2 No\r\n") && v.expect("HELO") && v.send("554 5.7.1 Go away\r\n") && v.expect("QUIT")
			}),
			ehlo: 502, helo: 554},
		{name: "smtp_helo 502 to EHLO, HELO accepted: the envelope follows",
			script: inTLS(func(v *conv) {
				_ = v.expect("EHLO") && v.send("502 5.5.2 No\r\n") && v.expect("HELO") && v.send("250 mx.test\r\n") &&
					v.expect("MAIL") && v.send("250 2.1.0 Ok\r\n") && v.expect("RCPT") && v.send("250 2.1.5 Ok\r\n") &&
					v.expect("RSET") && v.send("250 2.0.0 Ok\r\n") && v.expect("QUIT")
			}),
			ehlo: 502, helo: 250, mail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := quick()
			opt.Envelope = &Envelope{Recipient: "u@mx.test"}
			s, err := Probe(context.Background(), serveScript(t, tc.script), opt)
			require.NoError(t, err)
			require.Equal(t, tc.ehlo, s.PostTLSEHLO.Code)
			if tc.helo == 0 {
				require.Nil(t, s.PostTLSHELO)
			} else {
				require.Equal(t, tc.helo, s.PostTLSHELO.Code)
			}
			require.True(t, s.QUITSent)
			require.Equal(t, tc.mail, s.Envelope != nil && s.Envelope.MAIL != nil)
			if tc.mail {
				require.Equal(t, 250, s.Envelope.RCPT.Code)
			}
		})
	}
}
