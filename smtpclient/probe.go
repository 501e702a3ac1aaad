package smtpclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/smtpclient/reply"
)

// TLSMode says whether and how a session uses TLS.
type TLSMode int

const (
	// NoTLS never sends STARTTLS, even when offered (security level "none").
	NoTLS TLSMode = iota
	// StartTLS sends STARTTLS when the EHLO reply offers it (levels "may" and above).
	StartTLS
	// Wrapper starts TLS with the first byte (smtp_tls_wrappermode = yes, port 465).
	Wrapper
)

// String names the mode: "none", "starttls", "wrapper".
func (m TLSMode) String() string {
	switch m {
	case NoTLS:
		return "none"
	case StartTLS:
		return "starttls"
	case Wrapper:
		return "wrapper"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// MarshalText writes the mode's name.
func (m TLSMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Dialer makes the TCP connection; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Defaults for ProbeOptions, Postfix's own where it has one.
const (
	DefaultConnectTimeout  = 30 * time.Second  // smtp_connect_timeout
	DefaultHeloTimeout     = 300 * time.Second // smtp_helo_timeout
	DefaultStartTLSTimeout = 300 * time.Second // smtp_starttls_timeout
	DefaultQUITTimeout     = 5 * time.Second   // writing QUIT (Postfix skips the reply)
	DefaultMailTimeout     = 300 * time.Second // smtp_mail_timeout
	DefaultRcptTimeout     = 300 * time.Second // smtp_rcpt_timeout
	DefaultRSETTimeout     = 20 * time.Second  // smtp_rset_timeout
	DefaultTranscriptLimit = 16 << 10          // bytes of transcript text kept
	DefaultHeloName        = "localhost"
)

// ProbeOptions configures one session. The zero value is usable: no TLS, Postfix's timeouts
// and limits, EHLO "localhost".
type ProbeOptions struct {
	// Host is the server's name as Postfix knows it (the MX name, or the address for
	// [addr] next hops); it only appears in texts ("host[addr]"). Default: addr's host part.
	Host string
	// HeloName is sent with EHLO/HELO (smtp_helo_name). Default "localhost".
	HeloName string
	// Mode selects STARTTLS, wrapper-mode TLS or none.
	Mode TLSMode
	// TLS bounds the handshake: versions and cipher suites from TLSConfigFor. Nil means
	// Postfix's defaults for a "may" session (TLSConfigFor(TLSParams{})). A mapping whose
	// Abort is set makes the session stop after a successful STARTTLS reply without a
	// handshake, as Postfix aborts TLS on a bad protocol list or cipher setting.
	TLS *TLSMapping
	// SNI is the server name to send ("" sends none, Postfix's default). The caller decides
	// it (servername=, DANE TLSA base domain). Non-ASCII names are sent in A-label form.
	SNI string
	// ConnectTimeout (smtp_connect_timeout, default 30 s), HeloTimeout (smtp_helo_timeout,
	// 300 s: banner, EHLO/HELO), StartTLSTimeout (smtp_starttls_timeout, 300 s: the STARTTLS
	// command, its reply and the handshake) and QUITTimeout (5 s). Each limits a whole step,
	// which is stricter than Postfix's per-read limit (see the package documentation).
	ConnectTimeout, HeloTimeout, StartTLSTimeout, QUITTimeout time.Duration
	// LineLimit is line_length_limit (default 2048).
	LineLimit int
	// MaxReplyBytes caps the wire size of one reply (default 64 KiB). Postfix has no such
	// cap; exceeding it ends the session with KindLimit.
	MaxReplyBytes int
	// TranscriptLimit caps the transcript text kept (default 16 KiB).
	TranscriptLimit int
	// DiscardEHLOKeywords lists EHLO keywords to ignore (smtp_discard_ehlo_keywords).
	DiscardEHLOKeywords []string
	// SkipEHLOAfterTLS ends the session with QUIT right after the handshake. Postfix sends
	// EHLO again after a handshake whose certificate it accepts, and QUIT at once after a
	// verification failure.
	SkipEHLOAfterTLS bool
	// WaitQUITReply reads the QUIT reply (Postfix does not: smtp_skip_quit_response = yes).
	WaitQUITReply bool
	// Envelope, when set, makes the session go on where Postfix would start the mail
	// transaction — after the handshake and the EHLO inside TLS, or after the plaintext EHLO
	// (no STARTTLS, level none, a refused STARTTLS) — with MAIL FROM, RCPT TO, then RSET and
	// QUIT, as Postfix's address verification probes do. DATA is never sent. Continue, when
	// set, is asked first (after the handshake, before the second EHLO): false ends the
	// session with QUIT at once, as Postfix does after a failed certificate check.
	Envelope *Envelope
	Continue func(*Session) bool
	// MailTimeout (smtp_mail_timeout, 300 s), RcptTimeout (smtp_rcpt_timeout, 300 s) and
	// RSETTimeout (smtp_rset_timeout, 20 s) limit sending each command and reading its reply.
	MailTimeout, RcptTimeout, RSETTimeout time.Duration
	// Dialer makes the connection (default a *net.Dialer).
	Dialer Dialer
}

// Session is everything one connection saw, ready for JSON and for the policy evaluator.
type Session struct {
	// Addr is the address dialed ("192.0.2.1:25").
	Addr string `json:"addr"`
	// Host is the server's name for texts (ProbeOptions.Host).
	Host string `json:"host"`
	// Port is the TCP port dialed.
	Port int `json:"port"`
	// RemoteAddr and LocalAddr are the connection's endpoints once connected.
	RemoteAddr string `json:"remote_addr,omitempty"`
	LocalAddr  string `json:"local_addr,omitempty"`
	// Mode is the TLS mode used.
	Mode TLSMode `json:"tls_mode"`
	// Banner is the server greeting (220 ...).
	Banner *reply.Reply `json:"banner,omitempty"`
	// EHLO is the reply to EHLO, and EHLOInfo what Postfix takes from it.
	EHLO     *reply.Reply    `json:"ehlo,omitempty"`
	EHLOInfo *reply.EHLOInfo `json:"ehlo_info,omitempty"`
	// HELO is the reply to HELO, sent when EHLO failed with a code other than 421.
	HELO *reply.Reply `json:"helo,omitempty"`
	// STARTTLSOffered reports STARTTLS in the EHLO reply.
	STARTTLSOffered bool `json:"starttls_offered"`
	// STARTTLSSent reports that STARTTLS was sent, and STARTTLSReply is the answer.
	STARTTLSSent  bool         `json:"starttls_sent"`
	STARTTLSReply *reply.Reply `json:"starttls_reply,omitempty"`
	// SNI is the server name sent in the ClientHello ("" = none).
	SNI string `json:"sni,omitempty"`
	// TLS describes the completed handshake (nil without one).
	TLS *TLSInfo `json:"tls,omitempty"`
	// HandshakeError is set when TLS was started but the handshake failed or was aborted
	// locally (Postfix: "Cannot start TLS: handshake failure").
	HandshakeError *StepError `json:"handshake_error,omitempty"`
	// PostTLSEHLO is the reply to the EHLO sent inside TLS.
	PostTLSEHLO     *reply.Reply    `json:"post_tls_ehlo,omitempty"`
	PostTLSEHLOInfo *reply.EHLOInfo `json:"post_tls_ehlo_info,omitempty"`
	// PostTLSHELO is the reply to the HELO sent inside TLS after the EHLO there was
	// refused with a code other than 421 (only with ProbeOptions.Envelope).
	PostTLSHELO *reply.Reply `json:"post_tls_helo,omitempty"`
	// Injected reports bytes the server sent before it was its turn (after the banner,
	// before EHLO; or after the STARTTLS reply, before the handshake). They were discarded
	// and never reached the SMTP parser or the TLS layer. Injections says where and how many.
	Injected   bool        `json:"injected"`
	Injections []Injection `json:"injections,omitempty"`
	// Err is the error that ended the session early, at any step (nil when the session ran
	// to its end, including refused STARTTLS or a non-2xx banner, which are replies).
	Err *StepError `json:"error,omitempty"`
	// Envelope is the MAIL FROM / RCPT TO exchange (ProbeOptions.Envelope); nil when none
	// was made.
	Envelope *EnvelopeResult `json:"envelope,omitempty"`
	// QUITSent reports that QUIT was sent (not after a handshake failure or I/O error).
	QUITSent bool `json:"quit_sent"`
	// QUITReply is the QUIT reply when ProbeOptions.WaitQUITReply is set.
	QUITReply *reply.Reply `json:"quit_reply,omitempty"`
	// Warnings are Postfix's warning texts for what the server sent, prefixed
	// "host[addr]:port: " as Postfix logs them (e.g. "response longer than 2048: ...").
	Warnings []string `json:"warnings,omitempty"`
	// Gaps are the differences between this handshake and OpenSSL's inside Postfix (from
	// the TLS mapping and the SNI name).
	Gaps []Gap `json:"gaps,omitempty"`
	// Timings is how long each step took.
	Timings Timings `json:"timings"`
	// Transcript is the conversation, bounded by ProbeOptions.TranscriptLimit.
	Transcript          []TranscriptLine `json:"transcript"`
	TranscriptTruncated bool             `json:"transcript_truncated,omitempty"`

	// tlsFirst holds the first bytes the TLS layer read from the network (tests check that
	// injected plaintext never reaches it).
	tlsFirst []byte
}

// Envelope is the mail transaction a session tries (never with DATA).
type Envelope struct {
	// Sender is the MAIL FROM address; "" is the null sender, sent as "MAIL FROM:<>".
	Sender string `json:"sender"`
	// Recipient is the RCPT TO address.
	Recipient string `json:"recipient"`
}

// EnvelopeResult is what the server answered to the envelope.
type EnvelopeResult struct {
	Envelope
	// MAIL is the reply to MAIL FROM, RCPT the reply to RCPT TO (nil when RCPT TO was not
	// sent: MAIL FROM was refused or the session ended) and RSET the reply to RSET.
	MAIL *reply.Reply `json:"mail,omitempty"`
	RCPT *reply.Reply `json:"rcpt,omitempty"`
	RSET *reply.Reply `json:"rset,omitempty"`
	// Skipped says why the envelope was not sent although one was asked for (Continue said
	// no); empty when it was sent.
	Skipped string `json:"skipped,omitempty"`
}

// Injection records unrequested bytes found in the input buffer.
type Injection struct {
	// After is the step whose reply they followed (StepBanner or StepSTARTTLS).
	After Step `json:"after"`
	// Bytes is how many bytes were discarded.
	Bytes int `json:"bytes"`
	// Preview is the start of them, made printable.
	Preview string `json:"preview"`
}

// TLSInfo describes a completed handshake.
type TLSInfo struct {
	// Version is OpenSSL's protocol name: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3".
	Version string `json:"version"`
	// Cipher is OpenSSL's cipher name as Postfix logs it ("ECDHE-RSA-AES256-GCM-SHA384",
	// "TLS_AES_256_GCM_SHA384"); CipherIANA the IANA name Go uses.
	Cipher     string `json:"cipher"`
	CipherIANA string `json:"cipher_iana"`
	// CipherBits is the cipher's strength (Postfix's "(256/256 bits)").
	CipherBits int `json:"cipher_bits"`
	// Group is the key-exchange group ("X25519", "P-256", ...), when Go reports it.
	Group string `json:"group,omitempty"`
	// PeerChain is the chain exactly as the server sent it, leaf first.
	PeerChain []PeerCert `json:"peer_chain"`
}

// PeerCert is one certificate as sent by the server.
type PeerCert struct {
	// DER is the certificate's encoding, byte for byte as received.
	DER []byte `json:"der"`
	// Subject and Issuer are the distinguished names in RFC 2253 form.
	Subject string `json:"subject,omitempty"`
	Issuer  string `json:"issuer,omitempty"`
	// Cert is the parsed certificate (nil if Go could not parse it).
	Cert *x509.Certificate `json:"-"`
	// ParseError is why Go could not parse it.
	ParseError string `json:"parse_error,omitempty"`
}

// Timings are the durations of the steps (zero for steps not taken); in JSON they are
// nanoseconds.
type Timings struct {
	Connect     time.Duration `json:"connect"`
	Banner      time.Duration `json:"banner"`
	EHLO        time.Duration `json:"ehlo"`
	STARTTLS    time.Duration `json:"starttls"`
	Handshake   time.Duration `json:"handshake"`
	PostTLSEHLO time.Duration `json:"post_tls_ehlo"`
	Envelope    time.Duration `json:"envelope,omitempty"`
	QUIT        time.Duration `json:"quit"`
	Total       time.Duration `json:"total"`
}

// TranscriptLine is one line of the conversation.
type TranscriptLine struct {
	// Dir is ">" for what the client sent, "<" for what the server sent, "*" for an event
	// (TLS handshake, discarded bytes, errors).
	Dir string `json:"dir"`
	// Text is the line (server lines as Postfix stores them).
	Text string `json:"text"`
}

// Namaddr is Postfix's "host[addr]" for the server.
func (s *Session) Namaddr() string {
	host, _, _ := net.SplitHostPort(s.Addr)
	return s.Host + "[" + host + "]"
}

// NamaddrPort is Postfix's "host[addr]:port".
func (s *Session) NamaddrPort() string { return s.Namaddr() + ":" + strconv.Itoa(s.Port) }

var pastDeadline = time.Unix(1, 0)

// prober holds the state of one running session.
type prober struct {
	ctx  context.Context
	opt  ProbeOptions
	s    *Session
	conn net.Conn // current connection (raw, or TLS)
	raw  net.Conn
	rd   *bufio.Reader
	rr   *reply.Reader
	used int // transcript bytes
}

// Probe connects to addr ("host:port"), reads the banner, sends EHLO, STARTTLS when opt.Mode
// asks for it and the server offers it, performs the TLS handshake with the limits of opt.TLS
// (accepting any certificate and keeping the chain as sent), sends EHLO again inside TLS and
// QUIT, and reports everything it saw.
//
// The Session is never nil. The error is the Session's Err (a *StepError) when the session
// ended early; replies that refuse something (a 5xx banner, a 454 to STARTTLS) are results,
// not errors. ctx cancels every step; nothing is left running when Probe returns.
//
// Probe does not restrict addr: tests must use loopback addresses.
func Probe(ctx context.Context, addr string, opt ProbeOptions) (*Session, error) {
	start := time.Now()
	s := &Session{Addr: addr, Mode: opt.Mode, Transcript: []TranscriptLine{}}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		s.Err = &StepError{Step: StepConnect, Kind: KindLocalConfig, Message: err.Error(), Err: err}
		return s, s.Err
	}
	s.Port, _ = strconv.Atoi(port)
	if opt.Host == "" {
		opt.Host = host
	}
	s.Host = opt.Host
	if opt.HeloName == "" {
		opt.HeloName = DefaultHeloName
	}
	setDefault(&opt.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&opt.HeloTimeout, DefaultHeloTimeout)
	setDefault(&opt.StartTLSTimeout, DefaultStartTLSTimeout)
	setDefault(&opt.QUITTimeout, DefaultQUITTimeout)
	setDefault(&opt.MailTimeout, DefaultMailTimeout)
	setDefault(&opt.RcptTimeout, DefaultRcptTimeout)
	setDefault(&opt.RSETTimeout, DefaultRSETTimeout)
	if opt.TranscriptLimit <= 0 {
		opt.TranscriptLimit = DefaultTranscriptLimit
	}
	if opt.LineLimit <= 0 {
		opt.LineLimit = reply.DefaultLineLimit
	}
	if opt.MaxReplyBytes <= 0 {
		opt.MaxReplyBytes = reply.DefaultMaxReplyBytes
	}
	if opt.MaxReplyBytes < opt.LineLimit+2 {
		opt.MaxReplyBytes = opt.LineLimit + 2
	}
	p := &prober{ctx: ctx, opt: opt, s: s}
	p.run()
	s.Timings.Total = time.Since(start)
	if s.Err != nil {
		return s, s.Err
	}
	return s, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func (p *prober) run() {
	s := p.s
	t0 := time.Now()
	dialer := p.opt.Dialer
	if dialer == nil {
		dialer = &net.Dialer{}
	}
	dctx, cancel := context.WithTimeout(p.ctx, p.opt.ConnectTimeout)
	conn, err := dialer.DialContext(dctx, "tcp", s.Addr)
	cancel()
	s.Timings.Connect = time.Since(t0)
	if err != nil {
		p.fail(StepConnect, err)
		return
	}
	p.raw, p.conn = conn, conn
	s.RemoteAddr = conn.RemoteAddr().String()
	s.LocalAddr = conn.LocalAddr().String()
	stop := context.AfterFunc(p.ctx, func() { _ = conn.SetDeadline(pastDeadline) })
	defer func() {
		stop()
		// A TLS connection says close_notify on Close (with its own 5 s write limit); after
		// the context ended, just drop the socket.
		if p.conn != p.raw && p.ctx.Err() == nil {
			_ = p.conn.Close()
		}
		_ = p.raw.Close()
	}()
	p.setReader(conn)

	if p.opt.Mode == Wrapper {
		if !p.handshake() {
			return
		}
	}

	// Banner.
	t := time.Now()
	p.deadline(p.opt.HeloTimeout)
	rep, err := p.rr.Read()
	s.Timings.Banner = time.Since(t)
	p.record(rep)
	if err != nil {
		s.Banner = rep
		p.fail(StepBanner, err)
		return
	}
	s.Banner = rep
	if !rep.Positive() {
		// "host %s refused to talk to me: %s"; Postfix then ends the session with QUIT.
		p.quit()
		return
	}
	p.discardInjected(StepBanner)

	// EHLO, and HELO when EHLO is answered with anything but 2xx or 421.
	t = time.Now()
	p.deadline(p.opt.HeloTimeout)
	rep, err = p.command(StepEHLO, "EHLO "+p.opt.HeloName)
	s.EHLO = rep
	if err != nil {
		s.Timings.EHLO = time.Since(t)
		return
	}
	if rep.Positive() {
		info := reply.ParseEHLO(rep, p.opt.DiscardEHLOKeywords)
		s.EHLOInfo = &info
		s.STARTTLSOffered = info.STARTTLS
	} else if rep.Code == 421 {
		s.Timings.EHLO = time.Since(t)
		p.quit()
		return
	} else {
		rep, err = p.command(StepHELO, "HELO "+p.opt.HeloName)
		s.HELO = rep
		if err != nil {
			s.Timings.EHLO = time.Since(t)
			return
		}
		if !rep.Positive() {
			s.Timings.EHLO = time.Since(t)
			p.quit()
			return
		}
	}
	s.Timings.EHLO = time.Since(t)

	if p.opt.Mode == StartTLS && s.STARTTLSOffered {
		t = time.Now()
		p.deadline(p.opt.StartTLSTimeout)
		s.STARTTLSSent = true
		rep, err = p.command(StepSTARTTLS, "STARTTLS")
		s.STARTTLSReply = rep
		s.Timings.STARTTLS = time.Since(t)
		if err != nil {
			return
		}
		if !rep.Positive() {
			// At "may" Postfix continues in plaintext; above it gives up with
			// "TLS is required, but host %s refused to start TLS: %s". Continue decides.
			p.envelope(false)
			p.quit()
			return
		}
		p.discardInjected(StepSTARTTLS)
		if !p.handshake() {
			return
		}
		if p.opt.Envelope != nil {
			if !p.approved() {
				p.quit()
				return
			}
			if !p.postTLSGreeting(true) {
				return
			}
			p.envelope(true)
		} else if !p.opt.SkipEHLOAfterTLS && !p.postTLSGreeting(false) {
			return
		}
	} else {
		if p.opt.Mode == Wrapper && !p.opt.SkipEHLOAfterTLS {
			// In wrapper mode the EHLO above already ran inside TLS.
			s.PostTLSEHLO, s.PostTLSEHLOInfo = s.EHLO, s.EHLOInfo
		}
		p.envelope(false)
	}
	p.quit()
}

// postTLSGreeting sends EHLO again inside TLS. With helo (the recipient probe) it then does
// what smtp_helo() does there: a 421 ends the session with QUIT, another refusal is followed
// by HELO, whose refusal ends it too. It returns false when the session is over (QUIT sent,
// or an I/O error recorded).
func (p *prober) postTLSGreeting(helo bool) bool {
	s := p.s
	t := time.Now()
	defer func() { s.Timings.PostTLSEHLO = time.Since(t) }()
	p.deadline(p.opt.HeloTimeout)
	rep, err := p.command(StepPostTLSEHLO, "EHLO "+p.opt.HeloName)
	s.PostTLSEHLO = rep
	switch {
	case err != nil:
		return false
	case rep.Positive():
		info := reply.ParseEHLO(rep, p.opt.DiscardEHLOKeywords)
		s.PostTLSEHLOInfo = &info
		return true
	case !helo:
		return true
	case rep.Code == 421:
		// "host %s refused to talk to me: %s" (smtp_helo after STARTTLS).
		p.quit()
		return false
	}
	rep, err = p.command(StepPostTLSHELO, "HELO "+p.opt.HeloName)
	s.PostTLSHELO = rep
	if err != nil {
		return false
	}
	if !rep.Positive() {
		p.quit()
		return false
	}
	return true
}

// approved asks ProbeOptions.Continue whether the envelope may be sent and starts
// Session.Envelope, which records a refusal.
func (p *prober) approved() bool {
	ok := p.opt.Continue == nil || p.opt.Continue(p.s) // judged on what came before
	p.s.Envelope = &EnvelopeResult{Envelope: *p.opt.Envelope}
	if ok {
		return true
	}
	p.s.Envelope.Skipped = "Postfix would not send MAIL FROM over this session"
	p.note("*", "envelope not sent: "+p.s.Envelope.Skipped)
	return false
}

// envelope sends MAIL FROM and RCPT TO and then RSET, when ProbeOptions.Envelope asks for
// it (approved says whether Continue was asked already). It never sends DATA. A refused
// MAIL FROM stops before RCPT TO, as Postfix's non-pipelined dialogue does. The caller
// sends QUIT.
func (p *prober) envelope(approved bool) {
	env := p.opt.Envelope
	if env == nil || p.s.Err != nil || (!approved && !p.approved()) {
		return
	}
	s := p.s
	t := time.Now()
	defer func() { s.Timings.Envelope = time.Since(t) }()
	res := s.Envelope
	p.deadline(p.opt.MailTimeout)
	rep, err := p.command(StepMAIL, "MAIL FROM:<"+commandArg(env.Sender)+">")
	res.MAIL = rep
	if err != nil {
		return
	}
	if rep.Positive() {
		p.deadline(p.opt.RcptTimeout)
		rep, err = p.command(StepRCPT, "RCPT TO:<"+commandArg(env.Recipient)+">")
		res.RCPT = rep
		if err != nil {
			return
		}
	}
	// The transaction is abandoned; what RSET meets no longer changes the outcome
	// (Postfix's "sending final RSET" is not a sending state), so its failure is only noted.
	p.deadline(p.opt.RSETTimeout)
	p.note(">", "RSET")
	if _, err := p.conn.Write([]byte("RSET\r\n")); err != nil {
		p.note("*", "RSET not sent: "+err.Error())
		return
	}
	rep, err = p.rr.Read()
	p.record(rep)
	if err != nil {
		p.note("*", "no RSET reply: "+err.Error())
		return
	}
	res.RSET = rep
}

// commandArg keeps an address from breaking the command line: CR, LF and other control
// bytes are dropped (an address never holds them; a caller's input might).
func commandArg(a string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, a)
}

// setReader installs a fresh buffered reader over c (a new one after the handshake, so that
// nothing read in plaintext can be mistaken for TLS-protected data).
func (p *prober) setReader(c net.Conn) {
	p.rd = bufio.NewReaderSize(c, 4096)
	p.rr = reply.NewReader(p.rd, p.opt.LineLimit, p.opt.MaxReplyBytes, func(w string) {
		p.s.Warnings = append(p.s.Warnings, p.s.NamaddrPort()+": "+w)
	})
}

// deadline sets the deadline for the next step: d from now, capped by the context's deadline,
// and in the past when the context has already ended (closing the race with AfterFunc).
func (p *prober) deadline(d time.Duration) {
	t := time.Now().Add(d)
	if dl, ok := p.ctx.Deadline(); ok && dl.Before(t) {
		t = dl
	}
	_ = p.conn.SetDeadline(t)
	if p.raw != p.conn {
		_ = p.raw.SetDeadline(t)
	}
	if p.ctx.Err() != nil {
		_ = p.raw.SetDeadline(pastDeadline)
	}
}

// command sends one command line and reads the reply. On error it records the failure.
func (p *prober) command(step Step, line string) (*reply.Reply, error) {
	p.note(">", line)
	if _, err := p.conn.Write([]byte(line + "\r\n")); err != nil {
		p.fail(step, err)
		return nil, err
	}
	rep, err := p.rr.Read()
	p.record(rep)
	if err != nil {
		p.fail(step, err)
		return rep, err
	}
	return rep, nil
}

// discardInjected drops whatever the server sent after the reply just read and before it
// was the server's turn again. After STARTTLS this is the CVE-2011-0411 defence: such bytes
// would otherwise be read as if they came through TLS.
func (p *prober) discardInjected(after Step) {
	n := p.rd.Buffered()
	if n == 0 {
		return
	}
	b, _ := p.rd.Peek(n)
	pv := b
	if len(pv) > 64 {
		pv = pv[:64]
	}
	inj := Injection{After: after, Bytes: n, Preview: pfutil.Printable(pfutil.CStr(string(pv)), true)}
	_, _ = p.rd.Discard(n)
	p.s.Injected = true
	p.s.Injections = append(p.s.Injections, inj)
	p.note("*", fmt.Sprintf("discarded %d bytes sent by the server after the %s reply: %q",
		n, after, inj.Preview))
}

// handshake runs the TLS handshake on the raw connection. It returns false when the session
// cannot go on.
func (p *prober) handshake() bool {
	s := p.s
	t := time.Now()
	defer func() { s.Timings.Handshake = time.Since(t) }()
	m := p.opt.TLS
	if m == nil {
		dm, _ := TLSConfigFor(TLSParams{})
		m = &dm
	}
	s.Gaps = append(append(s.Gaps, m.Gaps...), sniGaps(p.opt.SNI)...)
	if m.Abort != nil {
		p.handshakeFail(m.Abort)
		return false
	}
	if m.GoCannotConnect {
		p.handshakeFail(ErrGoUnsupported)
		return false
	}
	sni, err := sniName(p.opt.SNI)
	if err != nil {
		p.handshakeFail(err)
		return false
	}
	var chain [][]byte
	cfg := m.Config()
	cfg.ServerName = sni
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		chain = make([][]byte, len(raw))
		for i, c := range raw {
			chain[i] = append([]byte(nil), c...)
		}
		return nil
	}
	s.SNI = sni
	p.deadline(p.opt.StartTLSTimeout)
	rec := &recordingConn{Conn: p.raw, keep: 8}
	tc := tls.Client(rec, cfg)
	p.note("*", "starting TLS handshake"+sniNote(sni))
	err = tc.Handshake()
	s.tlsFirst = rec.first
	if err != nil {
		p.handshakeFail(err)
		return false
	}
	st := tc.ConnectionState()
	info := &TLSInfo{Version: versionName(st.Version)}
	info.Cipher, info.CipherIANA, info.CipherBits = cipherNames(st.CipherSuite)
	if st.CurveID != 0 {
		info.Group = st.CurveID.String()
	}
	for i, der := range chain {
		pc := PeerCert{DER: der}
		var c *x509.Certificate
		if i < len(st.PeerCertificates) && bytes.Equal(st.PeerCertificates[i].Raw, der) {
			c = st.PeerCertificates[i] // crypto/tls parsed it already
		} else if c, err = x509.ParseCertificate(der); err != nil {
			pc.ParseError = err.Error()
		}
		if c != nil {
			pc.Cert, pc.Subject, pc.Issuer = c, c.Subject.String(), c.Issuer.String()
		}
		info.PeerChain = append(info.PeerChain, pc)
	}
	s.TLS = info
	p.note("*", fmt.Sprintf("TLS connection established: %s with cipher %s (%d/%d bits), %d certificate(s)",
		info.Version, info.Cipher, info.CipherBits, info.CipherBits, len(info.PeerChain)))
	p.conn = tc
	p.setReader(tc)
	return true
}

func sniNote(sni string) string {
	if sni == "" {
		return " without SNI"
	}
	return " with SNI " + sni
}

func (p *prober) handshakeFail(err error) {
	p.fail(StepHandshake, err)
	p.s.HandshakeError = p.s.Err
}

// fail records the error that ends the session.
func (p *prober) fail(step Step, err error) {
	se := classify(p.ctx, step, err)
	p.s.Err = se
	p.note("*", se.Error())
}

// quit sends QUIT (and reads the reply when asked). Errors here do not change the outcome.
func (p *prober) quit() {
	t := time.Now()
	defer func() { p.s.Timings.QUIT = time.Since(t) }()
	p.deadline(p.opt.QUITTimeout)
	p.note(">", "QUIT")
	if _, err := p.conn.Write([]byte("QUIT\r\n")); err != nil {
		p.note("*", "QUIT not sent: "+err.Error())
		return
	}
	p.s.QUITSent = true
	if p.opt.WaitQUITReply {
		rep, err := p.rr.Read()
		p.record(rep)
		if err == nil {
			p.s.QUITReply = rep
		}
	}
}

// record adds a reply's stored lines to the transcript.
func (p *prober) record(r *reply.Reply) {
	if r == nil {
		return
	}
	for _, l := range r.Lines {
		p.note("<", l)
	}
}

// note appends a transcript line within the limit.
func (p *prober) note(dir, text string) {
	if p.s.TranscriptTruncated {
		return
	}
	if p.used+len(text) > p.opt.TranscriptLimit {
		p.s.TranscriptTruncated = true
		return
	}
	p.used += len(text)
	p.s.Transcript = append(p.s.Transcript, TranscriptLine{Dir: dir, Text: text})
}

// recordingConn keeps the first bytes read through it.
type recordingConn struct {
	net.Conn
	keep  int
	first []byte
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if room := c.keep - len(c.first); room > 0 && n > 0 {
		c.first = append(c.first, b[:min(n, room)]...)
	}
	return n, err
}

// FailureReason is the reason text and DSN Postfix would give for this session when it ended
// without TLS, for the given requirement (tlsRequired: level encrypt or above). It covers the
// connection-level outcomes: connect failures, refused banners, lost connections and
// timeouts, STARTTLS not offered or refused, handshake failures. ok is false when the
// session gave no such reason (a completed handshake is judged by the policy evaluator;
// plaintext at "may"/"none" is no failure).
func (s *Session) FailureReason(tlsRequired bool) (reason, dsn string, ok bool) {
	na := s.Namaddr()
	if e := s.Err; e != nil {
		switch e.Step {
		case StepConnect:
			return fmt.Sprintf("connect to %s:%d: %s", na, s.Port, connectErrorText(e.Err)), "4.4.1", true
		case StepHandshake:
			if e.Kind == KindGoUnsupported || e.Kind == KindCanceled {
				return "", "", false
			}
			return "Cannot start TLS: handshake failure", "4.7.5", true
		}
		if e.Kind == KindTimeout {
			return fmt.Sprintf("conversation with %s timed out while %s", na, e.Step.where()), "4.4.2", true
		}
		if e.Kind == KindCanceled {
			return "", "", false
		}
		return fmt.Sprintf("lost connection with %s while %s", na, e.Step.where()), "4.4.2", true
	}
	if s.Banner != nil && !s.Banner.Positive() {
		dsn := s.Banner.DSN
		if s.Banner.Code/100 == 5 { // smtp_skip_5xx_greeting = yes
			dsn = "4" + dsn[1:]
		}
		return fmt.Sprintf("host %s refused to talk to me: %s", na, s.Banner.OneLine()), dsn, true
	}
	for _, r := range []*reply.Reply{s.EHLO, s.HELO} {
		if r != nil && !r.Positive() && (r.Code == 421 || r == s.HELO) {
			return fmt.Sprintf("host %s refused to talk to me: %s", na, r.OneLine()), r.DSN, true
		}
	}
	if !tlsRequired || s.TLS != nil {
		return "", "", false
	}
	if s.STARTTLSReply != nil && !s.STARTTLSReply.Positive() {
		return fmt.Sprintf("TLS is required, but host %s refused to start TLS: %s", na,
			s.STARTTLSReply.OneLine()), s.STARTTLSReply.DSN, true
	}
	if !s.STARTTLSOffered {
		return fmt.Sprintf("TLS is required, but was not offered by host %s", na), "4.7.4", true
	}
	return "", "", false
}

// ErrGoUnsupported is the handshake error when the TLS mapping leaves Go nothing OpenSSL would
// accept (TLSMapping.GoCannotConnect): the probe cannot emulate Postfix's handshake.
var ErrGoUnsupported = errors.New("smtpclient: Go cannot emulate this TLS configuration")
