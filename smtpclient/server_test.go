package smtpclient

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// scripted is a loopback SMTP server whose every session runs a test's script.
type scripted struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []string
}

// conv is one server-side conversation.
type conv struct {
	t   testing.TB
	c   net.Conn
	r   *bufio.Reader
	srv *scripted
}

// serveScript starts a loopback server running script for each connection; cleanup closes
// it and waits for every session goroutine.
func serveScript(t testing.TB, script func(*conv)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &scripted{ln: ln}
	var conns sync.Map
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				script(&conv{t: t, c: c, r: bufio.NewReader(c), srv: s})
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		s.wg.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.Empty(t, s.errs, "errors of the scripted server")
	})
	return ln.Addr().String()
}

func (v *conv) send(s string) bool {
	_, err := v.c.Write([]byte(s))
	return err == nil
}

// expect reads one command line and checks its verb.
func (v *conv) expect(verb string) bool {
	line, err := v.r.ReadString('\n')
	if err != nil {
		return false
	}
	if !strings.HasPrefix(strings.ToUpper(line), verb) {
		v.fail("got " + strings.TrimSpace(line) + ", want " + verb)
		return false
	}
	return true
}

func (v *conv) fail(msg string) {
	v.srv.mu.Lock()
	v.srv.errs = append(v.srv.errs, msg)
	v.srv.mu.Unlock()
}

// greetEHLO sends the banner, reads EHLO and answers with a STARTTLS offer.
func (v *conv) greetEHLO(starttls bool) bool {
	if !v.send("220 mx.test ESMTP\r\n") || !v.expect("EHLO") {
		return false
	}
	if starttls {
		return v.send("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
	}
	return v.send("250-mx.test\r\n250 PIPELINING\r\n")
}

// tlsServer runs the server side of the handshake on the raw connection (never through the
// plaintext reader, so nothing buffered there leaks into TLS) and continues the conversation
// inside TLS: EHLO and QUIT.
func (v *conv) tlsServer(cfg *tls.Config, after func(*conv)) {
	tc := tls.Server(v.c, cfg)
	if err := tc.Handshake(); err != nil {
		return
	}
	in := &conv{t: v.t, c: tc, r: bufio.NewReader(tc), srv: v.srv}
	if after != nil {
		after(in)
		return
	}
	if !in.expect("EHLO") || !in.send("250-mx.test\r\n250 PIPELINING\r\n") {
		return
	}
	in.expect("QUIT")
}

// testCert makes a server certificate for names under a fresh test hierarchy.
func testCert(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{CN: names[:1], DNS: names})
	return pki.TLSCertificate(leaf, h.Inter)
}

// standard is a well-behaved STARTTLS server.
func standard(cfg *tls.Config) func(*conv) {
	return func(v *conv) {
		if !v.greetEHLO(true) || !v.expect("STARTTLS") || !v.send("220 2.0.0 Ready to start TLS\r\n") {
			return
		}
		v.tlsServer(cfg, nil)
	}
}
