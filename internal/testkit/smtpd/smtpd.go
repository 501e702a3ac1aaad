// Package smtpd is a small ESMTP server for tests: it listens on a loopback address, offers
// STARTTLS with the certificate chain a test chooses (or does not offer it, or refuses it with a
// chosen reply), accepts MAIL/RCPT/DATA (or answers MAIL and RCPT with a chosen reply),
// discards the message and records what each session did (STARTTLS, SNI, handshake result,
// commands, envelope, delivery).
//
// It is what posttls-finger, Postfix's smtp(8) and this module's own client talk to in tests.
package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Config says how the server behaves. The zero Config (plus a certificate) offers STARTTLS and
// accepts everything.
type Config struct {
	// Addr is the listen address; it must be a loopback address ("127.0.0.1:0" picks a port).
	Addr string
	// Certificates are offered in the TLS handshake. With more than one, the server picks by
	// SNI (crypto/tls's rules: the first is the default).
	Certificates []tls.Certificate
	// NoSTARTTLS leaves STARTTLS out of the EHLO reply.
	NoSTARTTLS bool
	// STARTTLSReply, when set, is sent instead of "220 2.0.0 Ready to start TLS" and no
	// handshake follows (e.g. "454 4.7.0 TLS not available").
	STARTTLSReply string
	// MinVersion and MaxVersion bound the TLS versions (crypto/tls constants; 0 = default).
	MinVersion, MaxVersion uint16
	// Hostname is used in the banner and EHLO reply (default "smtpd.test").
	Hostname string
	// IdleTimeout ends a silent session (default 10 s).
	IdleTimeout time.Duration
	// MailReply, when set, answers MAIL FROM instead of "250 2.1.0 Ok" (e.g. "553 5.7.1
	// Sender rejected"); RcptReply does the same for every RCPT TO (e.g. "550 5.1.1
	// <user@example.test>: Recipient address rejected: User unknown", "450 4.2.0 Try again
	// later"). A reply may have several lines, separated by "\n", each written as given.
	MailReply, RcptReply string
}

// Session is what one client connection did.
type Session struct {
	// Remote is the client's address.
	Remote string
	// STARTTLS reports that the client sent STARTTLS.
	STARTTLS bool
	// SNI is the server name the client sent in its ClientHello ("" when none).
	SNI string
	// Handshake is the handshake error, if the handshake was attempted and failed.
	Handshake error
	// TLSVersion is the negotiated version (0 without TLS).
	TLSVersion uint16
	// Delivered reports that a message was accepted after DATA.
	Delivered bool
	// Commands are the verbs the client sent, in order, upper-cased ("EHLO", "STARTTLS",
	// "MAIL", "RCPT", "RSET", "QUIT", ...): a test can see that DATA was never sent.
	Commands []string
	// MailFrom is the argument of the last MAIL command the server accepted ("FROM:<a@b>"),
	// RcptTo the arguments of the RCPT commands it accepted since then (RSET does not clear
	// them: they record the last transaction, abandoned or not).
	MailFrom string
	RcptTo   []string
}

// Server is a running test server.
type Server struct {
	cfg    Config
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   bool
	conns  map[net.Conn]struct{}
	sess   []Session
	cancel context.CancelFunc
}

// Start listens on cfg.Addr and serves until Close or until ctx ends.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtpd: bad address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("smtpd: %q is not a loopback address", cfg.Addr)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "smtpd.test"
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 10 * time.Second
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtpd: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{cfg: cfg, ln: ln, conns: map[net.Conn]struct{}{}, cancel: cancel}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		s.shutdown()
	}()
	go func() {
		defer s.wg.Done()
		s.acceptLoop()
	}()
	return s, nil
}

// Addr returns the address the server listens on, e.g. "127.0.0.1:40123".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Sessions returns a copy of the finished sessions, oldest first.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Session(nil), s.sess...)
}

// Close stops the server, ends open sessions and waits for every goroutine to finish.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
}

func (s *Server) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			sess := s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.sess = append(s.sess, sess)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) serve(raw net.Conn) Session {
	sess := Session{Remote: raw.RemoteAddr().String()}
	var conn net.Conn = raw
	defer func() { conn.Close() }()
	rd := bufio.NewReaderSize(conn, 4096)
	w := func(format string, a ...any) bool {
		conn.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
		_, err := fmt.Fprintf(conn, format+"\r\n", a...)
		return err == nil
	}
	if !w("220 %s ESMTP test server", s.cfg.Hostname) {
		return sess
	}
	inTLS, inData := false, false
	for {
		conn.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		line, err := readLine(rd)
		if err != nil {
			return sess
		}
		if inData {
			if line == "." {
				inData = false
				sess.Delivered = true
				w("250 2.0.0 Ok: queued")
			}
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		sess.Commands = append(sess.Commands, verb)
		switch verb {
		case "EHLO":
			ext := []string{"PIPELINING", "SIZE 10240000", "8BITMIME"}
			if !inTLS && !s.cfg.NoSTARTTLS {
				ext = append(ext, "STARTTLS")
			}
			fmt.Fprintf(conn, "250-%s\r\n", s.cfg.Hostname)
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				fmt.Fprintf(conn, "250%s%s\r\n", sep, e)
			}
		case "HELO":
			w("250 %s", s.cfg.Hostname)
		case "STARTTLS":
			if inTLS || s.cfg.NoSTARTTLS {
				w("502 5.5.1 Error: command not implemented")
				continue
			}
			sess.STARTTLS = true
			if s.cfg.STARTTLSReply != "" {
				w("%s", s.cfg.STARTTLSReply)
				continue
			}
			if !w("220 2.0.0 Ready to start TLS") {
				return sess
			}
			tc := tls.Server(raw, &tls.Config{
				Certificates: s.cfg.Certificates,
				MinVersion:   s.cfg.MinVersion,
				MaxVersion:   s.cfg.MaxVersion,
				GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
					s.mu.Lock()
					sess.SNI = h.ServerName
					s.mu.Unlock()
					return nil, nil
				},
			})
			tc.SetDeadline(time.Now().Add(s.cfg.IdleTimeout))
			if err := tc.Handshake(); err != nil {
				s.mu.Lock()
				sess.Handshake = err
				s.mu.Unlock()
				return sess
			}
			sess.TLSVersion = tc.ConnectionState().Version
			conn, inTLS = tc, true
			rd = bufio.NewReaderSize(conn, 4096)
		case "MAIL":
			if s.cfg.MailReply != "" {
				writeReply(w, s.cfg.MailReply)
				continue
			}
			sess.MailFrom, sess.RcptTo = arg, nil
			w("250 2.1.0 Ok")
		case "RCPT":
			if s.cfg.RcptReply != "" {
				writeReply(w, s.cfg.RcptReply)
				continue
			}
			sess.RcptTo = append(sess.RcptTo, arg)
			w("250 2.1.5 Ok")
		case "RSET":
			// MailFrom and RcptTo stay: they record the last transaction, even an abandoned one.
			w("250 2.0.0 Ok")
		case "NOOP":
			w("250 2.0.0 Ok")
		case "DATA":
			inData = true
			w("354 End data with <CR><LF>.<CR><LF>")
		case "QUIT":
			w("221 2.0.0 Bye")
			return sess
		default:
			w("502 5.5.2 Error: command not recognized")
		}
	}
}

// writeReply writes a configured reply, one line per "\n"-separated part.
func writeReply(w func(string, ...any) bool, reply string) {
	for _, l := range strings.Split(reply, "\n") {
		if !w("%s", l) {
			return
		}
	}
}

var errLineTooLong = errors.New("smtpd: line too long")

func readLine(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}
