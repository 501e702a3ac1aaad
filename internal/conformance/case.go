package conformance

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/postfixtls/postfixtls/policy/finding"
)

// Case is one conformance scenario: a Postfix configuration, a DNS zone and a set of
// loopback SMTP servers, plus the recipient to deliver to. The same Case is run through
// real Postfix and through the library in the same private world.
type Case struct {
	// Name identifies the case; it names the factor values or the oracle case it came from.
	Name string `json:"name"`
	// Desc says which Postfix rule the case checks.
	Desc string `json:"desc,omitempty"`
	// Rcpt is the recipient address.
	Rcpt string `json:"rcpt"`
	// Sender is the envelope sender; empty means DefaultSender.
	Sender string `json:"sender,omitempty"`
	// Policy are the lines of the texthash table smtp_tls_policy_maps names.
	Policy []string `json:"policy,omitempty"`
	// Transport are the lines of the texthash table transport_maps names.
	Transport []string `json:"transport,omitempty"`
	// MainCF are "name = value" lines that replace the base main.cf settings.
	MainCF []string `json:"main_cf,omitempty"`
	// Zone are DNS records (zone-file lines, absolute owners under test.).
	Zone []string `json:"zone,omitempty"`
	// BogusRRSIG are "owner TYPE" pairs (absolute owners under test.) whose RRSIG the world
	// corrupts after signing: the validating resolver then answers SERVFAIL for that one
	// RRset while the owner's other types still validate.
	BogusRRSIG []string `json:"bogus_rrsig,omitempty"`
	// Servers are the SMTP listeners.
	Servers []Server `json:"servers,omitempty"`
	// Files are extra files of the Postfix configuration: absolute path under /etc/postfix/
	// (the world's private configuration directory, bind-mounted there) to content. They are
	// written before Postfix starts; ApplyFix fills them from the file edits of a fix.
	Files map[string]string `json:"files,omitempty"`
	// MTASTS, when set, publishes an MTA-STS policy for the recipient domain and puts a real
	// postfix-mta-sts-resolver (mta-sts-daemon, a socketmap server) into smtp_tls_policy_maps
	// (see mtasts.go).
	MTASTS *MTASTS `json:"mta_sts,omitempty"`
	// Oracle is what Postfix 3.7.11 recorded for this case in the shared oracle, when the case
	// came from there.
	Oracle *Outcome `json:"oracle,omitempty"`
}

// DefaultSender is the envelope sender of a case that names none.
const DefaultSender = "sender@conformance.test"

// sender is the case's envelope sender.
func (c Case) sender() string {
	if c.Sender == "" {
		return DefaultSender
	}
	return c.Sender
}

// Server is one loopback SMTP listener inside the case's world.
type Server struct {
	// Addr is "127.0.1.x:port" (never 127.0.0.1, which is Postfix's own address).
	Addr string `json:"addr"`
	// Cert names the certificate (see Certs); empty means STARTTLS is not offered.
	Cert string `json:"cert,omitempty"`
	// Send is which chain is sent: "chain" (leaf + intermediate, the default), "leaf",
	// "expired-copy" (leaf, an expired copy of the intermediate, the intermediate, the root),
	// "full" (with the root) or "cross" (with a copy of the root cross-signed by the other
	// root).
	Send string `json:"send,omitempty"`
	// STARTTLSReply, when set, refuses STARTTLS with this reply (e.g. "454 4.7.0 TLS not
	// available").
	STARTTLSReply string `json:"starttls_reply,omitempty"`
	// MailReply and RcptReply, when set, answer MAIL FROM and RCPT TO with this reply (e.g.
	// "550 5.1.1 Recipient rejected"). A case with either runs the library with its
	// recipient probe (smtpclient.CheckOptions.ProbeRecipient), since Postfix's verdict then
	// depends on those replies.
	MailReply string `json:"mail_reply,omitempty"`
	RcptReply string `json:"rcpt_reply,omitempty"`
}

// probesRecipient reports whether a server of the case answers MAIL FROM or RCPT TO with a
// configured reply.
func (c Case) probesRecipient() bool {
	for _, s := range c.Servers {
		if s.MailReply != "" || s.RcptReply != "" {
			return true
		}
	}
	return false
}

// Outcome is what one side (Postfix or the library) decided for the delivery.
type Outcome struct {
	// Outcome is deliver, defer, bounce, or timeout/error when nothing was decided.
	Outcome string `json:"outcome"`
	// DSN is the enhanced status code.
	DSN string `json:"dsn,omitempty"`
	// Reason is the text Postfix puts in status=...(reason).
	Reason string `json:"reason,omitempty"`
	// Trust is the trust word of the last TLS session ("" without TLS).
	Trust string `json:"trust,omitempty"`
	// Log are the relevant log lines (Postfix: smtp(8) and warnings; library: attempt logs).
	Log []string `json:"log,omitempty"`
	// Findings are the library's findings, one line each: the summary, then the details
	// (empty for Postfix).
	Findings []string `json:"findings,omitempty"`
}

// Result is what one run of a Case produced.
type Result struct {
	Case string `json:"case"`
	// Release is the mail_version of the Postfix that ran (and that the library emulated).
	Release string  `json:"release,omitempty"`
	Postfix Outcome `json:"postfix"`
	Library Outcome `json:"library"`
	// FirstFix is the library's first proposed fix (the first fix of the first finding that
	// has one) when the library's outcome is not deliver.
	FirstFix *finding.Fix `json:"first_fix,omitempty"`
	// Error is set when the world could not be built or a side could not run.
	Error string `json:"error,omitempty"`
	// Millis is the time the world took, in milliseconds.
	Millis int64 `json:"ms"`
	// Phases are the milliseconds since the start at which each phase ended.
	Phases map[string]int64 `json:"phases,omitempty"`
}

// WriteJSON writes v as JSON to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	return nil
}

// ReadJSON reads JSON from path into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("conformance: %s: %w", path, err)
	}
	return nil
}
