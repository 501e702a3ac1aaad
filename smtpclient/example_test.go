package smtpclient_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// exampleServer is a tiny loopback STARTTLS server for the example.
func exampleServer(cert tls.Certificate) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		fmt.Fprint(c, "220 mx.example.test ESMTP\r\n")
		r.ReadString('\n') // EHLO
		fmt.Fprint(c, "250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
		r.ReadString('\n') // STARTTLS
		fmt.Fprint(c, "220 2.0.0 Ready to start TLS\r\n")
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if tc.Handshake() != nil {
			return
		}
		tr := bufio.NewReader(tc)
		tr.ReadString('\n') // EHLO
		fmt.Fprint(tc, "250 mx.example.test\r\n")
		tr.ReadString('\n') // QUIT
	}()
	return ln.Addr().String(), func() { ln.Close(); <-done }
}

func ExampleProbe() {
	cert, err := tls.LoadX509KeyPair("testdata/example/mx.example.test.pem", "testdata/example/mx.example.test-key.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	addr, stop := exampleServer(cert)
	defer stop()

	// Postfix's "secure" level: mandatory settings, aNULL excluded, TLS 1.2 or newer.
	m, err := smtpclient.TLSConfigFor(smtpclient.TLSParams{
		Protocols: ">=TLSv1.2", Grade: "medium", Exclusions: []string{"aNULL"}, Level: policy.Secure,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := smtpclient.Probe(context.Background(), addr, smtpclient.ProbeOptions{
		Host: "mx.example.test", HeloName: "client.example.test",
		Mode: smtpclient.StartTLS, TLS: &m, HeloTimeout: 5 * time.Second, StartTLSTimeout: 5 * time.Second,
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("banner:", s.Banner.Text)
	fmt.Println("STARTTLS offered:", s.STARTTLSOffered, "reply:", s.STARTTLSReply.Code, s.STARTTLSReply.DSN)
	fmt.Println("TLS:", s.TLS.Version, "chain length:", len(s.TLS.PeerChain))
	fmt.Println("leaf:", s.TLS.PeerChain[0].Cert.Subject.CommonName)
	fmt.Println("QUIT sent:", s.QUITSent)
	fmt.Println("transcript starts:", strings.Join([]string{s.Transcript[0].Dir, s.Transcript[0].Text}, " "))
	// Output:
	// banner: 220 mx.example.test ESMTP
	// STARTTLS offered: true reply: 220 2.0.0
	// TLS: TLSv1.3 chain length: 1
	// leaf: mx.example.test
	// QUIT sent: true
	// transcript starts: < 220 mx.example.test ESMTP
}

func ExampleTLSConfigFor() {
	m, err := smtpclient.TLSConfigFor(smtpclient.TLSParams{Protocols: "!TLSv1.1"})
	fmt.Println(m.Versions, err)
	_, err = smtpclient.TLSConfigFor(smtpclient.TLSParams{Protocols: "TLSv1.4"})
	fmt.Println(err)
	// Output:
	// [TLSv1] <nil>
	// smtpclient: Invalid TLS protocol list "TLSv1.4": aborting TLS session
}
