package smtpclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/smtpclient/reply"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quick() ProbeOptions {
	return ProbeOptions{Host: "mx.test", Mode: StartTLS, HeloTimeout: 3 * time.Second,
		StartTLSTimeout: 3 * time.Second, ConnectTimeout: 3 * time.Second, QUITTimeout: time.Second}
}

func TestProbeConversations(t *testing.T) {
	cert := testCert(t, "mx.test")
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}

	type check func(t *testing.T, s *Session, err error)
	reason := func(required bool, want, wantDSN string) check {
		return func(t *testing.T, s *Session, _ error) {
			t.Helper()
			got, dsn, ok := s.FailureReason(required)
			assert.True(t, ok, "FailureReason")
			assert.Equal(t, want, got, "FailureReason")
			assert.Equal(t, wantDSN, dsn, "FailureReason DSN")
		}
	}
	kind := func(step Step, k Kind) check {
		return func(t *testing.T, s *Session, err error) {
			t.Helper()
			var se *StepError
			require.ErrorAs(t, err, &se)
			require.Equal(t, step, se.Step, "step of %v", err)
			require.Equal(t, k, se.Kind, "kind of %v", err)
		}
	}
	tests := []struct {
		name   string
		script func(*conv)
		opt    func(*ProbeOptions)
		checks []check
	}{
		{
			name:   "§3.2 STARTTLS offered and accepted: handshake, chain as sent, EHLO inside TLS, QUIT",
			script: standard(srvTLS),
			checks: []check{func(t *testing.T, s *Session, err error) {
				require.NoError(t, err)
				require.NotNil(t, s.TLS)
				require.Len(t, s.TLS.PeerChain, 2, "chain not kept as sent")
				require.Equal(t, cert.Certificate[0], s.TLS.PeerChain[0].DER, "chain not kept as sent")
				require.Equal(t, cert.Certificate[1], s.TLS.PeerChain[1].DER, "chain not kept as sent")
				assert.Equal(t, "TLSv1.3", s.TLS.Version)
				assert.NotEmpty(t, s.TLS.Cipher)
				assert.Empty(t, s.SNI)
				if assert.NotNil(t, s.PostTLSEHLO) {
					assert.True(t, s.PostTLSEHLO.Positive(), "post-TLS EHLO %+v", s.PostTLSEHLO)
				}
				assert.True(t, s.QUITSent, "QUIT sent")
				assert.False(t, s.Injected, "injected")
				_, _, ok := s.FailureReason(true)
				assert.False(t, ok, "a completed handshake has no connection-level failure")
			}},
		},
		{
			name: "§3.2 EHLO lacks STARTTLS: TLS is required, but was not offered",
			script: func(v *conv) {
				if v.greetEHLO(false) {
					v.expect("QUIT")
				}
			},
			checks: []check{
				reason(true, "TLS is required, but was not offered by host mx.test[127.0.0.1]", "4.7.4"),
				func(t *testing.T, s *Session, err error) {
					assert.NoError(t, err)
					assert.False(t, s.STARTTLSOffered, "offered")
					assert.False(t, s.STARTTLSSent, "sent")
					assert.True(t, s.QUITSent, "QUIT sent")
					_, _, ok := s.FailureReason(false)
					assert.False(t, ok, "at may no STARTTLS is no failure")
				},
			},
		},
		{
			name: "§3.2 STARTTLS answered 454: refused to start TLS with the reply, newlines as spaces, server DSN",
			script: func(v *conv) {
				if v.greetEHLO(true) && v.expect("STARTTLS") {
					v.send("454-4.7.0 TLS not available\r\n454 4.7.0 due to local problem\r\n")
					v.expect("QUIT")
				}
			},
			checks: []check{reason(true, "TLS is required, but host mx.test[127.0.0.1] refused to start TLS: 454-4.7.0 TLS not available 454 4.7.0 due to local problem", "4.7.0")},
		},
		{
			name: "§3.2 STARTTLS answered 5xx: the 5xx DSN (bounce)",
			script: func(v *conv) {
				if v.greetEHLO(true) && v.expect("STARTTLS") {
					v.send("554 5.7.3 go away\r\n")
					v.expect("QUIT")
				}
			},
			checks: []check{reason(true, "TLS is required, but host mx.test[127.0.0.1] refused to start TLS: 554 5.7.3 go away", "5.7.3")},
		},
		{
			name: "§3.2 STARTTLS reply without enhanced code: X.0.0 from the reply class",
			script: func(v *conv) {
				if v.greetEHLO(true) && v.expect("STARTTLS") {
					v.send("502 not here\r\n")
					v.expect("QUIT")
				}
			},
			checks: []check{reason(true, "TLS is required, but host mx.test[127.0.0.1] refused to start TLS: 502 not here", "5.0.0")},
		},
		{
			name: "STARTTLS response injection: bytes after 220 Ready are discarded and never reach TLS",
			script: func(v *conv) {
				if !v.greetEHLO(true) || !v.expect("STARTTLS") {
					return
				}
				// One write: the reply plus an injected response the client must not trust.
				v.send("220 2.0.0 Ready to start TLS\r\n250-evil.test\r\n250 AUTH PLAIN\r\n")
				v.tlsServer(srvTLS, nil)
			},
			checks: []check{func(t *testing.T, s *Session, err error) {
				require.NoError(t, err)
				require.True(t, s.Injected, "injected")
				require.Len(t, s.Injections, 1, "injections")
				require.Equal(t, StepSTARTTLS, s.Injections[0].After, "injections = %+v", s.Injections)
				require.Equal(t, len("250-evil.test\r\n250 AUTH PLAIN\r\n"), s.Injections[0].Bytes, "injections = %+v", s.Injections)
				require.NotEmpty(t, s.tlsFirst, "TLS layer first read")
				require.Equal(t, byte(0x16), s.tlsFirst[0], "TLS layer first read % x, want a handshake record", s.tlsFirst)
				require.NotNil(t, s.PostTLSEHLOInfo, "post-TLS EHLO")
				require.Equal(t, "mx.test", s.PostTLSEHLOInfo.Name, "post-TLS EHLO: injected reply leaked")
			}},
		},
		{
			name: "early talker: bytes after the banner, before EHLO, are discarded and recorded",
			script: func(v *conv) {
				v.send("220 mx.test ESMTP\r\n250-fake\r\n250 STARTTLS\r\n")
				if v.expect("EHLO") && v.send("250 mx.test\r\n") {
					v.expect("QUIT")
				}
			},
			checks: []check{func(t *testing.T, s *Session, err error) {
				require.NoError(t, err)
				require.True(t, s.Injected, "injected")
				require.Equal(t, StepBanner, s.Injections[0].After, "injections = %+v", s.Injections)
				require.False(t, s.STARTTLSOffered, "offered")
			}},
		},
		{
			name: "smtp_chat.c: a line over line_length_limit is truncated with Postfix's warning",
			script: func(v *conv) {
				v.send("220 " + strings.Repeat("x", 3000) + "\r\n")
				if v.expect("EHLO") && v.send("250 mx.test\r\n") {
					v.expect("QUIT")
				}
			},
			checks: []check{func(t *testing.T, s *Session, err error) {
				require.NoError(t, err)
				require.Equal(t, 1, s.Banner.LongLines, "long banner lines")
				require.Len(t, s.Banner.Lines[0], reply.DefaultLineLimit, "first banner line")
				require.Len(t, s.Warnings, 1)
				require.True(t, strings.HasPrefix(s.Warnings[0], "mx.test[127.0.0.1]:"), "warning %q", s.Warnings[0])
				require.Contains(t, s.Warnings[0], ": response longer than 2048: 220 xxxxxxxxxxxxxxxxxxxxxxxxxx...")
			}},
		},
		{
			name: "endless multi-line reply: the reply-size cap ends the session",
			script: func(v *conv) {
				v.send("220 mx.test\r\n")
				if !v.expect("EHLO") {
					return
				}
				for i := 0; i < 100000; i++ {
					if !v.send("250-PIPELINING PIPELINING PIPELINING\r\n") {
						return
					}
				}
			},
			opt: func(o *ProbeOptions) { o.MaxReplyBytes = 16 << 10 },
			checks: []check{kind(StepEHLO, KindLimit), func(t *testing.T, s *Session, _ error) {
				require.NotNil(t, s.EHLO)
				require.NotZero(t, s.EHLO.Skipped, "skipped EHLO lines")
				require.NotEmpty(t, s.Warnings)
				require.Contains(t, s.Warnings[0], "multi-line response longer than 2048 250-PIPELINING")
			}},
		},
		{
			name: "slow banner: smtp_helo_timeout ends the wait",
			script: func(v *conv) {
				v.r.ReadByte() // silent until the client gives up
			},
			opt: func(o *ProbeOptions) { o.HeloTimeout = 200 * time.Millisecond },
			checks: []check{kind(StepBanner, KindTimeout),
				reason(true, "conversation with mx.test[127.0.0.1] timed out while receiving the initial server greeting", "4.4.2")},
		},
		{
			name:   "early close before the banner: lost connection while receiving the initial server greeting",
			script: func(v *conv) {},
			checks: []check{kind(StepBanner, KindLostConnection),
				reason(true, "lost connection with mx.test[127.0.0.1] while receiving the initial server greeting", "4.4.2")},
		},
		{
			name:   "early close after EHLO: lost connection while performing the EHLO handshake",
			script: func(v *conv) { v.send("220 mx.test\r\n"); v.expect("EHLO") },
			checks: []check{kind(StepEHLO, KindLostConnection),
				reason(true, "lost connection with mx.test[127.0.0.1] while performing the EHLO handshake", "4.4.2")},
		},
		{
			name:   "early close after STARTTLS: lost connection while receiving the STARTTLS response",
			script: func(v *conv) { v.greetEHLO(true); v.expect("STARTTLS") },
			checks: []check{kind(StepSTARTTLS, KindLostConnection),
				reason(true, "lost connection with mx.test[127.0.0.1] while receiving the STARTTLS response", "4.4.2")},
		},
		{
			name: "§3.2 early close during the handshake: Cannot start TLS: handshake failure, no QUIT",
			script: func(v *conv) {
				if v.greetEHLO(true) && v.expect("STARTTLS") {
					v.send("220 2.0.0 go ahead\r\n")
					buf := make([]byte, 10)
					v.c.Read(buf)
				}
			},
			checks: []check{kind(StepHandshake, KindLostConnection),
				reason(true, "Cannot start TLS: handshake failure", "4.7.5"),
				func(t *testing.T, s *Session, _ error) {
					assert.False(t, s.QUITSent, "QUIT sent")
					assert.Error(t, s.HandshakeError, "handshake error")
				}},
		},
		{
			name: "early close after the handshake: lost connection while performing the EHLO handshake",
			script: func(v *conv) {
				if v.greetEHLO(true) && v.expect("STARTTLS") && v.send("220 ok\r\n") {
					v.tlsServer(srvTLS, func(in *conv) { in.expect("EHLO") })
				}
			},
			checks: []check{kind(StepPostTLSEHLO, KindLostConnection), func(t *testing.T, s *Session, _ error) {
				assert.NotNil(t, s.TLS, "handshake should have completed")
			}},
		},
		{
			name: "TLS alert right after the handshake (server demands a client certificate)",
			script: standard(&tls.Config{Certificates: []tls.Certificate{cert},
				ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13}),
			checks: []check{kind(StepPostTLSEHLO, KindAlert), func(t *testing.T, s *Session, _ error) {
				assert.NotNil(t, s.TLS, "handshake completed")
				assert.Equal(t, "certificate required", s.Err.Alert)
			}},
		},
		{
			name: "§7.3 handshake failure on the protocol floor (>=TLSv1.2 against a TLS 1.1 server)",
			script: standard(&tls.Config{Certificates: []tls.Certificate{cert},
				MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}),
			opt: func(o *ProbeOptions) {
				m, err := TLSConfigFor(TLSParams{Protocols: ">=TLSv1.2"})
				require.NoError(t, err)
				o.TLS = &m
			},
			checks: []check{kind(StepHandshake, KindProtocolVersion), reason(true, "Cannot start TLS: handshake failure", "4.7.5")},
		},
		{
			name: "§7.3 invalid protocol list: STARTTLS accepted, then TLS aborted locally without a handshake",
			script: func(v *conv) {
				v.greetEHLO(true)
				v.expect("STARTTLS")
				v.send("220 ok\r\n")
				v.c.Read(make([]byte, 1))
			},
			opt: func(o *ProbeOptions) {
				m, _ := TLSConfigFor(TLSParams{Protocols: "TLSv9"})
				o.TLS = &m
			},
			checks: []check{kind(StepHandshake, KindLocalConfig), reason(true, "Cannot start TLS: handshake failure", "4.7.5"),
				func(t *testing.T, s *Session, err error) {
					assert.ErrorIs(t, err, ErrLocalConfig)
					assert.Equal(t, `smtpclient: Invalid TLS protocol list "TLSv9": aborting TLS session`, s.Err.Message)
				}},
		},
		{
			name: "§3.2 5xx banner: host refused to talk to me, 5xx turned 4xx (smtp_skip_5xx_greeting)",
			script: func(v *conv) {
				v.send("554 5.7.1 no thanks\r\n")
				v.expect("QUIT")
			},
			checks: []check{reason(false, "host mx.test[127.0.0.1] refused to talk to me: 554 5.7.1 no thanks", "4.7.1")},
		},
		{
			name: "smtp_chat.c 3xx greeting keeps the protocol-error DSN 5.5.0 (only 5xx is softened)",
			script: func(v *conv) {
				v.send("354 what\r\n")
				v.expect("QUIT")
			},
			checks: []check{reason(false, "host mx.test[127.0.0.1] refused to talk to me: 354 what", "5.5.0")},
		},
		{
			name: "smtp_proto.c: EHLO rejected (not 421) falls back to HELO, which offers no STARTTLS",
			script: func(v *conv) {
				v.send("220 mx.test\r\n")
				if v.expect("EHLO") && v.send("502 5.5.2 what\r\n") && v.expect("HELO") && v.send("250 mx.test\r\n") {
					v.expect("QUIT")
				}
			},
			checks: []check{reason(true, "TLS is required, but was not offered by host mx.test[127.0.0.1]", "4.7.4"),
				func(t *testing.T, s *Session, _ error) {
					if assert.NotNil(t, s.HELO) {
						assert.True(t, s.HELO.Positive(), "HELO %+v", s.HELO)
					}
				}},
		},
		{
			name: "smtp_proto.c: a one-line EHLO reply names the server, so \"250 STARTTLS\" offers nothing",
			script: func(v *conv) {
				v.send("220 mx.test\r\n")
				if v.expect("EHLO") && v.send("250 STARTTLS\r\n") {
					v.expect("QUIT")
				}
			},
			checks: []check{func(t *testing.T, s *Session, _ error) {
				assert.False(t, s.STARTTLSOffered, "offered")
				assert.Equal(t, "STARTTLS", s.EHLOInfo.Name, "EHLO info %+v", s.EHLOInfo)
			}},
		},
		{
			name: "level none: STARTTLS offered but never sent",
			script: func(v *conv) {
				if v.greetEHLO(true) {
					v.expect("QUIT")
				}
			},
			opt: func(o *ProbeOptions) { o.Mode = NoTLS },
			checks: []check{func(t *testing.T, s *Session, err error) {
				assert.NoError(t, err)
				assert.True(t, s.STARTTLSOffered, "offered")
				assert.False(t, s.STARTTLSSent, "sent")
			}},
		},
		{
			name: "smtp_tls_wrappermode: TLS from the first byte, banner and EHLO inside TLS",
			script: func(v *conv) {
				v.tlsServer(srvTLS, func(in *conv) {
					if in.send("220 mx.test ESMTP\r\n") && in.expect("EHLO") && in.send("250 mx.test\r\n") {
						in.expect("QUIT")
					}
				})
			},
			opt: func(o *ProbeOptions) { o.Mode = Wrapper },
			checks: []check{func(t *testing.T, s *Session, err error) {
				assert.NoError(t, err)
				assert.NotNil(t, s.TLS, "TLS")
				assert.NotNil(t, s.Banner, "banner")
				assert.NotNil(t, s.PostTLSEHLO, "EHLO inside TLS")
				assert.True(t, s.QUITSent, "QUIT sent")
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveScript(t, tc.script)
			opt := quick()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			s, err := Probe(context.Background(), addr, opt)
			require.NotNil(t, s, "session")
			for _, c := range tc.checks {
				c(t, s, err)
			}
			_, jerr := json.Marshal(s)
			assert.NoError(t, jerr, "session does not marshal")
		})
	}
}

func TestProbeSNISelectsCertificate(t *testing.T) {
	a, b := testCert(t, "a.test"), testCert(t, "b.test")
	cfg := &tls.Config{Certificates: []tls.Certificate{a, b}} // a is the default (no SNI)
	addr := serveScript(t, standard(cfg))
	for _, tc := range []struct {
		name, sni string
		want      []byte
	}{
		{"§6.2 no SNI (Postfix default): the server's default certificate", "", a.Certificate[0]},
		{"§6.2 SNI b.test: the certificate for b.test", "b.test", b.Certificate[0]},
		{"§6.2 SNI in U-labels is sent as A-labels", "bücher.test", a.Certificate[0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := quick()
			opt.SNI = tc.sni
			s, err := Probe(context.Background(), addr, opt)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(s.TLS.PeerChain[0].DER, tc.want), "sni %q: got leaf %s", tc.sni, s.TLS.PeerChain[0].Subject)
			if tc.sni == "bücher.test" {
				assert.Equal(t, "xn--bcher-kva.test", s.SNI, "SNI sent")
			}
		})
	}
}

func TestProbeConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	s, err := Probe(context.Background(), addr, quick())
	var se *StepError
	require.ErrorAs(t, err, &se)
	require.Equal(t, StepConnect, se.Step)
	got, dsn, _ := s.FailureReason(true)
	assert.Equal(t, "connect to mx.test[127.0.0.1]:"+strings.Split(addr, ":")[1]+": Connection refused", got)
	assert.Equal(t, "4.4.1", dsn)
}

func TestProbeContextCancelNoLeak(t *testing.T) {
	addr := serveScript(t, func(v *conv) {
		// Never say anything until the client gives up.
		v.r.ReadByte()
	})
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		s, err := Probe(ctx, addr, quick())
		require.Less(t, time.Since(start), 2*time.Second, "time the cancellation took")
		require.ErrorAs(t, err, new(*StepError))
		require.Equal(t, KindCanceled, s.Err.Kind, "err %v", err)
		require.Equal(t, StepBanner, s.Err.Step, "err %v", err)
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s, _ := Probe(ctx, addr, quick())
	require.NotNil(t, s.Err, "deadline")
	require.Equal(t, KindTimeout, s.Err.Kind, "deadline: %+v", s.Err)
	// The server goroutines end when the client closes; allow them a moment.
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		require.LessOrEqual(t, n, before, "goroutines before and after\n%s", buf[:runtime.Stack(buf, true)])
	}
}

func TestProbeTranscriptBounded(t *testing.T) {
	addr := serveScript(t, func(v *conv) {
		v.send("220-" + strings.Repeat("a", 1000) + "\r\n220-" + strings.Repeat("b", 1000) + "\r\n220 ok\r\n")
		if v.expect("EHLO") && v.send("250 mx.test\r\n") {
			v.expect("QUIT")
		}
	})
	opt := quick()
	opt.TranscriptLimit = 1500
	s, err := Probe(context.Background(), addr, opt)
	require.NoError(t, err)
	n := 0
	for _, l := range s.Transcript {
		n += len(l.Text)
	}
	assert.True(t, s.TranscriptTruncated, "transcript truncated")
	assert.LessOrEqual(t, n, 1500, "transcript bytes")
}

func TestProbeIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("421 4.3.2 busy\r\n"))
		c.Read(make([]byte, 16))
	}()
	s, err := Probe(context.Background(), ln.Addr().String(), ProbeOptions{Host: "mx.test", HeloTimeout: 2 * time.Second})
	<-done
	require.NoError(t, err)
	got, dsn, _ := s.FailureReason(false)
	assert.Equal(t, "host mx.test[::1] refused to talk to me: 421 4.3.2 busy", got)
	assert.Equal(t, "4.3.2", dsn)
	assert.True(t, strings.HasPrefix(s.NamaddrPort(), "mx.test[::1]:"), "namaddrport %q", s.NamaddrPort())
}
