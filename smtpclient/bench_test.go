package smtpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/smtpclient/reply"

	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
)

func benchServer(b *testing.B) string {
	b.Helper()
	srv, err := smtpd.Start(context.Background(), smtpd.Config{Certificates: []tls.Certificate{testCert(b, "mx.test")}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

// BenchmarkProbe is one full Probe (banner, EHLO, STARTTLS, handshake, EHLO, QUIT) against a
// loopback server.
func BenchmarkProbe(b *testing.B) {
	addr := benchServer(b)
	m, err := TLSConfigFor(TLSParams{})
	if err != nil {
		b.Fatal(err)
	}
	opt := ProbeOptions{Mode: StartTLS, TLS: &m, HeloTimeout: 5 * time.Second, StartTLSTimeout: 5 * time.Second}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Probe(ctx, addr, opt)
		if err != nil || s.TLS == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareSTARTTLS is the same conversation written directly on crypto/tls, the
// baseline for the library's overhead.
func BenchmarkBareSTARTTLS(b *testing.B) {
	addr := benchServer(b)
	m, err := TLSConfigFor(TLSParams{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := m.Config() // same versions, suites and groups as the Probe benchmark
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := bareSTARTTLS(addr, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func bareSTARTTLS(addr string, cfg *tls.Config) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	reply := func(r *bufio.Reader) error {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if len(l) < 4 || l[3] != '-' {
				return nil
			}
		}
	}
	if err := reply(r); err != nil {
		return err
	}
	c.Write([]byte("EHLO localhost\r\n"))
	if err := reply(r); err != nil {
		return err
	}
	c.Write([]byte("STARTTLS\r\n"))
	if err := reply(r); err != nil {
		return err
	}
	tc := tls.Client(c, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	tr := bufio.NewReader(tc)
	tc.Write([]byte("EHLO localhost\r\n"))
	if err := reply(tr); err != nil {
		return err
	}
	_, err = tc.Write([]byte("QUIT\r\n"))
	tc.Close()
	return err
}

// BenchmarkParseReply measures the reply parser on a typical EHLO reply.
func BenchmarkParseReply(b *testing.B) {
	in := "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n250-STARTTLS\r\n" +
		"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 CHUNKING\r\n"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r, _, err := reply.Parse(in)
		if err != nil || !reply.ParseEHLO(r, nil).STARTTLS {
			b.Fatal(err)
		}
	}
}

// BenchmarkTLSConfigFor measures the protocol/cipher mapping.
func BenchmarkTLSConfigFor(b *testing.B) {
	p := TLSParams{Protocols: ">=TLSv1.2", Grade: "medium", Exclusions: []string{"aNULL"}, Level: policy.Secure}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := TLSConfigFor(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProbeParallel runs Probes concurrently (checks per second on all cores).
func BenchmarkProbeParallel(b *testing.B) {
	addr := benchServer(b)
	m, err := TLSConfigFor(TLSParams{})
	if err != nil {
		b.Fatal(err)
	}
	opt := ProbeOptions{Mode: StartTLS, TLS: &m, HeloTimeout: 5 * time.Second, StartTLSTimeout: 5 * time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := Probe(context.Background(), addr, opt)
			if err != nil || s.TLS == nil {
				b.Error(err)
				return
			}
		}
	})
}
