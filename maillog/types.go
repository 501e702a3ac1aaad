package maillog

import (
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/verdict"
)

// TLSSummary is Postfix's TLS summary line (smtp_tls_loglevel >= 1):
// "<Trust> TLS connection established to host[addr]:port: TLSv1.3 with cipher X (128/128 bits)".
type TLSSummary struct {
	// Trust is Anonymous, Untrusted, Trusted or Verified.
	Trust verdict.TrustWord `json:"trust"`
	// Reused is true for "reused" (tlsproxy connection reuse) instead of "established".
	Reused bool `json:"reused,omitempty"`
	// Protocol, Cipher, Bits and AlgBits are the session's; Details is the rest of the line
	// ("key-exchange X25519 server-signature ...", Postfix 3.4+).
	Protocol string `json:"protocol"`
	Cipher   string `json:"cipher"`
	Bits     int    `json:"bits,omitempty"`
	AlgBits  int    `json:"alg_bits,omitempty"`
	Details  string `json:"details,omitempty"`
}

// VerifyFailure is one "certificate verification failed for ..." line.
type VerifyFailure struct {
	// Purpose is "server", "CA" or "" (lines without a prefix).
	Purpose string `json:"purpose,omitempty"`
	// Num is OpenSSL's error number for "num=N:text" lines, 0 otherwise.
	Num verdict.X509Error `json:"num,omitempty"`
	// Text is the reason after the server name ("num=62:hostname mismatch", "untrusted issuer /CN=X").
	Text string `json:"text"`
}

// PeerName is a certificate name logged at smtp_tls_loglevel 2.
type PeerName struct {
	// Kind is where the name came from: "subjectAltName" and "CommonName" (Postfix <= 3.5),
	// "subject_CN" (the peer CN of the subject_CN= line), "peername" (3.6+ "matched
	// peername: X", the name OpenSSL matched), "subject" (the CN of the depth=0 subject DN).
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Matched is true when Postfix logged the name as matched.
	Matched bool `json:"matched,omitempty"`
}

// Attempt is one connection to one server, rebuilt from the lines of one smtp(8) or lmtp(8)
// process.
type Attempt struct {
	// Server is "host[addr]:port" as logged; Host, Addr and Port are its parts.
	Server string `json:"server"`
	Host   string `json:"host"`
	Addr   string `json:"addr,omitempty"`
	Port   int    `json:"port,omitempty"`
	// PID is the process that logged it; Logged its first line's timestamp as written and
	// Time that parsed (see Line.Time: for RFC 3164 stamps the year and zone are not the
	// log's, so JSON carries Logged only).
	PID    int       `json:"pid"`
	Logged string    `json:"logged,omitempty"`
	Time   time.Time `json:"-"`
	// TLS is the summary line (nil at smtp_tls_loglevel 0 or without TLS).
	TLS *TLSSummary `json:"tls,omitempty"`
	// SNI is the "SNI hostname: X" of loglevel 2.
	SNI string `json:"sni,omitempty"`
	// Verify lists the verification failure lines.
	Verify []VerifyFailure `json:"verify,omitempty"`
	// ReusedUntrusted marks "re-using session with untrusted peer credential" (or "...
	// untrusted certificate", <= 3.5): the real failure was logged by an earlier session.
	ReusedUntrusted bool `json:"reused_untrusted,omitempty"`
	// Names are the certificate names logged at loglevel 2; SubjectCN and IssuerCN those of
	// the "subject_CN=" line, Subjects the depth=N subject DNs (leaf first).
	Names     []PeerName `json:"names,omitempty"`
	SubjectCN string     `json:"subject_cn,omitempty"`
	IssuerCN  string     `json:"issuer_cn,omitempty"`
	Subjects  []string   `json:"subjects,omitempty"`
	// CertFingerprint and PKeyFingerprint are the logged digests (AA:BB:..., the digest of
	// smtp_tls_fingerprint_digest).
	CertFingerprint string `json:"cert_fingerprint,omitempty"`
	PKeyFingerprint string `json:"pkey_fingerprint,omitempty"`
	// DANE holds the DANE and TLSA lines ("Matched DANE ...", "unusable TLSA RR", "Matched
	// fingerprint: ...", "Matched trust anchor ...").
	DANE []string `json:"dane,omitempty"`
	// HandshakeError is the "SSL_connect error to ...: X" detail; Library the "TLS library
	// problem" warnings after it.
	HandshakeError string   `json:"handshake_error,omitempty"`
	Library        []string `json:"library,omitempty"`
	// ConnectError is the "connect to host[addr]:port: X" reason.
	ConnectError string `json:"connect_error,omitempty"`
	// Reason is the "<queue id>: reason" line that ended this attempt when Postfix went on to
	// the next server, or the final status's reason for the last attempt.
	Reason string `json:"reason,omitempty"`
	// Final is true for the attempt the status line's relay= names.
	Final bool `json:"final,omitempty"`
	// Lines counts the log lines that went into this attempt.
	Lines int `json:"lines"`
}

// Delivery is one status line ("<qid>: to=<...>, relay=..., status=...") with the attempts
// that led to it.
type Delivery struct {
	QueueID string `json:"queue_id"`
	// Recipient is to=, OrigRecipient orig_to= (when logged); Domain the recipient's domain.
	Recipient     string `json:"recipient"`
	OrigRecipient string `json:"orig_recipient,omitempty"`
	Domain        string `json:"domain"`
	// Relay is relay= ("host[addr]:port" or "none").
	Relay string `json:"relay"`
	// Delay and Delays are the logged values, TLSFeature the 3.11+ tls= field.
	Delay      string `json:"delay,omitempty"`
	Delays     string `json:"delays,omitempty"`
	TLSFeature string `json:"tls_feature,omitempty"`
	// DSN, Status (sent, deferred, bounced, expired, ...) and Reason (the text in parentheses).
	DSN    string `json:"dsn"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Logged, Host, Program and PID are the status line's, Logged its timestamp as written
	// ("Nov 22 03:00:00"); Time is Logged parsed, for ordering (see Line.Time: an RFC 3164
	// stamp has no year or zone, so Time's are the reader's Options.Year and UTC, not the
	// log's; JSON carries Logged only). Seq is its line number in the input.
	Logged  string    `json:"logged,omitempty"`
	Time    time.Time `json:"-"`
	Host    string    `json:"host,omitempty"`
	Program string    `json:"program"`
	PID     int       `json:"pid"`
	Seq     int64     `json:"seq"`
	// Attempts are the connections of this delivery pass, in order.
	Attempts []Attempt `json:"attempts,omitempty"`
	// Warnings are the warnings and DANE notes the process logged for this pass before its
	// connections (policy lookup problems, smtp_tls_policy_maps syntax, DANE configuration,
	// "DNSSEC-signed TLSA record: ..." imports), in Postfix's words.
	Warnings []string `json:"warnings,omitempty"`
}

// SuspendedPrefix starts the reason of a recipient the queue manager deferred without
// handing it to a delivery agent because it had marked the destination dead: after a
// delivery agent reported the site as failed, qmgr(8) prepends it to that failure's reason
// ("delivery temporarily suspended: " in qmgr/qmgr_deliver.c) and logs the later recipients
// with relay=none, through the retry (error(8)) transport or itself (qmgr/qmgr_defer.c).
const SuspendedPrefix = "delivery temporarily suspended: "

// Suspended reports whether the queue manager deferred this delivery without a connection
// because the destination was marked dead, and returns the reason of the failure that
// marked it ("Server certificate not verified").
func (d Delivery) Suspended() (reason string, ok bool) {
	if len(d.Attempts) > 0 {
		return "", false
	}
	return strings.CutPrefix(d.Reason, SuspendedPrefix)
}

// Diagnostic reports a kind of line the reader skipped or could not place, or a cap it
// reached: Text is the first occurrence and Line its line number; Count counts the
// occurrences of the kind (lines not understood of one program, status lines without
// status=, open queue IDs evicted, ...) and LastLine is the newest one's line number.
type Diagnostic struct {
	Line     int64  `json:"line"`
	Text     string `json:"text"`
	Count    int64  `json:"count"`
	LastLine int64  `json:"last_line,omitempty"`
}
