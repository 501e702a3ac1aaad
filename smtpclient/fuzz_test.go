package smtpclient

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/smtpclient/reply"

	"github.com/postfixtls/postfixtls/policy"
)

func FuzzTLSConfigFor(f *testing.F) {
	for _, s := range [][3]string{
		{">=TLSv1", "medium", ""}, {"!SSLv2, !SSLv3", "high", "aNULL"}, {"TLSv1.2:TLSv1.3", "null", "eNULL"},
		{">=0x303 <=0x0304", "low", "kRSA+AES, SHA1"}, {"!TLSv1.1", "export", "!RC4"}, {">=", "", "@STRENGTH"},
		{"<=None", "HIGH", "ALL"}, {"TLSv9", "strong", ""}, {">=+303", "medium", "COMPLEMENTOFDEFAULT:-x"},
	} {
		f.Add(s[0], s[1], s[2], "may")
	}
	f.Fuzz(func(t *testing.T, protocols, grade, exclude, level string) {
		lv, _ := policy.ParseLevel(level)
		m, err := TLSConfigFor(TLSParams{Protocols: protocols, Grade: grade, Exclusions: []string{exclude}, Level: lv})
		if (err == nil) != (m.Abort == nil) {
			t.Fatalf("err %v abort %v", err, m.Abort)
		}
		if err != nil || m.GoCannotConnect {
			return
		}
		if m.MinVersion == 0 || m.MinVersion > m.MaxVersion || len(m.Versions) == 0 || len(m.OpenSSLSuites) == 0 {
			t.Fatalf("mapping %+v", m)
		}
		_ = m.Config()
	})
}

// pipeDialer hands Probe one end of an in-memory connection whose other end replays script.
type pipeDialer struct{ script []byte }

func (d pipeDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	go func() {
		defer s.Close()
		s.SetDeadline(time.Now().Add(2 * time.Second))
		go io.Copy(io.Discard, s)
		s.Write(d.script)
	}()
	return c, nil
}

// FuzzProbe feeds arbitrary server bytes to a whole session: no panic, no hang, and every
// stored line within the limits.
func FuzzProbe(f *testing.F) {
	for _, s := range []string{
		"220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\n\x16\x03\x01\x00\x05hello",
		"220 mx\r\n250 mx\r\n", "554 no\r\n", "220-a\r\n220 b\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 no\r\n",
		"220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 ok\r\n250 injected\r\n", strings.Repeat("250-x\r\n", 100),
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, script []byte, wrapper bool) {
		opt := ProbeOptions{Host: "mx.test", Mode: StartTLS, Dialer: pipeDialer{script},
			HeloTimeout: 500 * time.Millisecond, StartTLSTimeout: 500 * time.Millisecond, QUITTimeout: 100 * time.Millisecond,
			MaxReplyBytes: 8 << 10}
		if wrapper {
			opt.Mode = Wrapper
		}
		m, _ := TLSConfigFor(TLSParams{})
		opt.TLS = &m
		opt.TLS.MinVersion = tls.VersionTLS12
		s, _ := Probe(context.Background(), "127.0.0.1:25", opt)
		for _, r := range []*reply.Reply{s.Banner, s.EHLO, s.HELO, s.STARTTLSReply, s.PostTLSEHLO} {
			if r == nil {
				continue
			}
			for _, l := range r.Lines {
				if len(l) > reply.DefaultLineLimit {
					t.Fatalf("line of %d bytes", len(l))
				}
			}
		}
		_, _, _ = s.FailureReason(true)
	})
}
