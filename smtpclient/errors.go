package smtpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/postfixtls/postfixtls/smtpclient/reply"
)

// Step names one stage of a session.
type Step string

// The steps of a session, in order.
const (
	StepConnect     Step = "connect"
	StepBanner      Step = "banner"
	StepEHLO        Step = "ehlo"
	StepHELO        Step = "helo"
	StepSTARTTLS    Step = "starttls"
	StepHandshake   Step = "handshake"
	StepPostTLSEHLO Step = "post-tls-ehlo"
	StepPostTLSHELO Step = "post-tls-helo"
	StepMAIL        Step = "mail"
	StepRCPT        Step = "rcpt"
	StepQUIT        Step = "quit"
)

// where is the phrase Postfix puts after "lost connection with host[addr] while" and
// "conversation with host[addr] timed out while" for the step (smtp_proto.c). Steps without a
// phrase (connect, handshake) have their own texts.
func (s Step) where() string {
	switch s {
	case StepBanner:
		return "receiving the initial server greeting"
	case StepEHLO, StepPostTLSEHLO:
		return "performing the EHLO handshake"
	case StepHELO, StepPostTLSHELO:
		return "performing the HELO handshake"
	case StepSTARTTLS:
		return "receiving the STARTTLS response"
	case StepMAIL:
		return "sending MAIL FROM"
	case StepRCPT:
		return "sending RCPT TO"
	case StepQUIT:
		return "sending QUIT"
	}
	return ""
}

// Kind classifies why a step failed.
type Kind string

// Failure kinds.
const (
	// KindTimeout: the step's time limit (smtp_*_timeout) ran out.
	KindTimeout Kind = "timeout"
	// KindCanceled: the caller's context ended.
	KindCanceled Kind = "canceled"
	// KindLostConnection: the server closed or reset the connection.
	KindLostConnection Kind = "lost-connection"
	// KindRefused: the TCP connection was refused or could not be made.
	KindRefused Kind = "connect-failed"
	// KindLimit: a reply exceeded this package's size cap.
	KindLimit Kind = "limit"
	// KindAlert: the server sent a TLS alert.
	KindAlert Kind = "tls-alert"
	// KindProtocolVersion: no TLS version both sides accept (alert from either side).
	KindProtocolVersion Kind = "protocol-version"
	// KindLocalConfig: the TLS session was aborted locally before the handshake (invalid
	// protocol list, cipher grade or exclusion, empty cipher list, SNI too long), which
	// Postfix also reports as "Cannot start TLS: handshake failure".
	KindLocalConfig Kind = "local-config"
	// KindGoUnsupported: Go cannot emulate the handshake OpenSSL would do (ErrGoUnsupported).
	KindGoUnsupported Kind = "go-unsupported"
	// KindTLS: any other TLS failure (bad records, unparsable certificate, ...).
	KindTLS Kind = "tls"
	// KindNetwork: another network error.
	KindNetwork Kind = "network"
)

// StepError says which step of a session failed, how, and why.
type StepError struct {
	// Step is where it happened.
	Step Step `json:"step"`
	// Kind classifies the failure.
	Kind Kind `json:"kind"`
	// Alert is the TLS alert text for KindAlert/KindProtocolVersion from the peer
	// (e.g. "handshake failure"), "" otherwise.
	Alert string `json:"alert,omitempty"`
	// Message is the underlying error's text.
	Message string `json:"message"`
	// Err is the underlying error (not serialised).
	Err error `json:"-"`
}

func (e *StepError) Error() string {
	return fmt.Sprintf("smtpclient: %s: %s: %s", e.Step, e.Kind, e.Message)
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// ErrLocalConfig is wrapped by errors for TLS sessions aborted by local settings.
var ErrLocalConfig = errors.New("smtpclient: TLS session aborted by local configuration")

// ConfigError is a local TLS setup problem, carrying Postfix's warning text (without the
// "host[addr]:port: " prefix Postfix puts before it).
type ConfigError struct {
	// Warning is Postfix's text, e.g. `Invalid TLS protocol list "TLSv9": aborting TLS session`.
	Warning string
}

func (e *ConfigError) Error() string { return "smtpclient: " + e.Warning }

// Is makes errors.Is(err, ErrLocalConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrLocalConfig }

// classify turns an I/O or TLS error into a StepError.
func classify(ctx context.Context, step Step, err error) *StepError {
	se := &StepError{Step: step, Err: err, Message: err.Error()}
	var ce *ConfigError
	var ne net.Error
	var op *net.OpError
	var ae tls.AlertError
	var errno syscall.Errno
	switch {
	case errors.As(err, &ce):
		se.Kind = KindLocalConfig
	case errors.Is(err, ErrGoUnsupported):
		se.Kind = KindGoUnsupported
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		se.Kind = KindCanceled
	case ctx.Err() != nil:
		se.Kind = KindTimeout
	case errors.Is(err, reply.ErrTooLarge):
		se.Kind = KindLimit
	case errors.As(err, &op) && op.Op == "remote error":
		se.Alert = strings.TrimPrefix(op.Err.Error(), "tls: ")
		se.Kind = KindAlert
		if strings.Contains(se.Alert, "protocol version") {
			se.Kind = KindProtocolVersion
		}
	case errors.As(err, &ae):
		se.Alert = strings.TrimPrefix(ae.Error(), "tls: ")
		se.Kind = KindAlert
		if strings.Contains(se.Alert, "protocol version") {
			se.Kind = KindProtocolVersion
		}
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		se.Kind = KindTimeout
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed):
		se.Kind = KindLostConnection
	case step == StepConnect && errors.As(err, &errno):
		se.Kind = KindRefused
	case step == StepHandshake || strings.HasPrefix(err.Error(), "tls: "):
		se.Kind = KindTLS
		if strings.Contains(err.Error(), "protocol version") {
			se.Kind = KindProtocolVersion
		}
	case step == StepConnect:
		se.Kind = KindRefused
	default:
		se.Kind = KindNetwork
	}
	return se
}

// connectErrorText is the "%m" part of Postfix's "connect to host[addr]:port: %m": the C
// library's strerror text (glibc capitalises the first letter, Go's errno table does not).
func connectErrorText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return "Connection timed out"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "Connection timed out"
	}
	return err.Error()
}
