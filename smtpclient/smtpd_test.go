package smtpclient

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
)

// TestAgainstTestkitServer checks the server's view of the same sessions: STARTTLS sent or
// not, SNI sent only when asked, the negotiated version.
func TestAgainstTestkitServer(t *testing.T) {
	cert := testCert(t, "mx.test")
	tests := []struct {
		name     string
		cfg      smtpd.Config
		opt      func(*ProbeOptions)
		starttls bool
		sni      string
		version  uint16
	}{
		{name: "§6.2 no SNI unless asked (Postfix default)", cfg: smtpd.Config{}, starttls: true, version: tls.VersionTLS13},
		{name: "§6.2 servername given: SNI sent", cfg: smtpd.Config{}, opt: func(o *ProbeOptions) { o.SNI = "mx.test" },
			starttls: true, sni: "mx.test", version: tls.VersionTLS13},
		{name: "§7.3 <=TLSv1.2 negotiates TLS 1.2", cfg: smtpd.Config{}, opt: func(o *ProbeOptions) {
			m, _ := TLSConfigFor(TLSParams{Protocols: "<=TLSv1.2"})
			o.TLS = &m
		}, starttls: true, version: tls.VersionTLS12},
		{name: "§3.2 NoSTARTTLS: nothing sent", cfg: smtpd.Config{NoSTARTTLS: true}},
		{name: "§3.2 454 reply: STARTTLS sent, no handshake", cfg: smtpd.Config{STARTTLSReply: "454 4.7.0 TLS not available"}, starttls: true},
		{name: "§3.1 level none: STARTTLS never sent", cfg: smtpd.Config{}, opt: func(o *ProbeOptions) { o.Mode = NoTLS }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Certificates = []tls.Certificate{cert}
			srv, err := smtpd.Start(context.Background(), tc.cfg)
			require.NoError(t, err)
			opt := quick()
			opt.WaitQUITReply = true // so the server has finished the session when Probe returns
			if tc.opt != nil {
				tc.opt(&opt)
			}
			s, err := Probe(context.Background(), srv.Addr(), opt)
			srv.Close()
			require.NoError(t, err)
			got := srv.Sessions()
			require.Len(t, got, 1, "server sessions")
			ss := got[0]
			assert.Equal(t, tc.starttls, ss.STARTTLS, "server saw %+v", ss)
			assert.Equal(t, tc.sni, ss.SNI, "server saw %+v", ss)
			assert.Equal(t, tc.version, ss.TLSVersion, "server saw %+v", ss)
			assert.NoError(t, ss.Handshake, "server saw %+v", ss)
			if assert.NotNil(t, s.QUITReply, "QUIT reply") {
				assert.Equal(t, 221, s.QUITReply.Code, "QUIT reply %+v", s.QUITReply)
			}
		})
	}
}
