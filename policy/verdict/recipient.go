package verdict

import (
	"fmt"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/smtpclient/reply"
)

// RecipientProbe is the mail transaction tried over a session after its TLS part (or its
// plaintext EHLO): MAIL FROM, RCPT TO, then RSET, never DATA — what Postfix's own address
// verification does. smtpclient fills it when asked to probe the recipient
// (CheckOptions.ProbeRecipient); the replies decide what Postfix does with the recipient
// once the TLS part would deliver.
type RecipientProbe struct {
	// Sender is the MAIL FROM address ("" is the null sender <>), Recipient the RCPT TO
	// address.
	Sender    string `json:"sender"`
	Recipient string `json:"recipient"`
	// EHLO is the refusing reply to the EHLO (or HELO) sent again inside TLS: 421 to EHLO,
	// or any non-2xx reply to the HELO that follows another refused EHLO. Nil when the
	// server greeted.
	EHLO *reply.Reply `json:"ehlo,omitempty"`
	// MailFrom is the reply to MAIL FROM, RcptTo the reply to RCPT TO (nil when RCPT TO was
	// not sent because MAIL FROM was refused or the session ended).
	MailFrom *reply.Reply `json:"mail_from,omitempty"`
	RcptTo   *reply.Reply `json:"rcpt_to,omitempty"`
	// ConversationError is Postfix's text for a session lost or timed out during the
	// exchange: "lost connection with host[addr] while sending RCPT TO", "conversation with
	// host[addr] timed out while sending MAIL FROM" (4.4.2).
	ConversationError string `json:"conversation_error,omitempty"`
	// Skipped says why the transaction was not tried although the probe was asked for
	// (the client judged that Postfix would not send MAIL FROM over this session).
	Skipped string `json:"skipped,omitempty"`
}

// RecipientCheck says what is known of the server's answer to the recipient.
type RecipientCheck string

// The recipient checks.
const (
	// RecipientNotTested: no MAIL FROM / RCPT TO was sent (the probe was not asked for, or
	// the attempt did not get that far); a delivery verdict then covers the TLS part only.
	RecipientNotTested RecipientCheck = "not-tested"
	// RecipientAccepted: RCPT TO was answered 2xx.
	RecipientAccepted RecipientCheck = "accepted"
	// RecipientRejected: RCPT TO was refused with a permanent error (bounce).
	RecipientRejected RecipientCheck = "rejected"
	// RecipientDeferred: RCPT TO was refused with a temporary error, or a permanent one
	// under soft_bounce (defer, next server).
	RecipientDeferred RecipientCheck = "deferred"
	// RecipientSenderRefused: MAIL FROM was refused, so the recipient was never asked
	// about; Postfix fails the whole message (smtp_mesg_fail).
	RecipientSenderRefused RecipientCheck = "sender-refused"
	// RecipientSessionFailed: the session failed before the recipient's reply (EHLO inside
	// TLS refused, connection lost or timed out).
	RecipientSessionFailed RecipientCheck = "session-failed"
)

// RecipientStatus is the Decision's account of the recipient.
type RecipientStatus struct {
	// Check is what is known; Address the recipient and Sender the MAIL FROM address when a
	// transaction was tried.
	Check   RecipientCheck `json:"check"`
	Address string         `json:"address,omitempty"`
	Sender  *string        `json:"sender,omitempty"`
	// Reply is the server reply that decided (RCPT TO, MAIL FROM or EHLO); nil otherwise.
	Reply *reply.Reply `json:"reply,omitempty"`
	// Note says it in a sentence, in particular why the recipient was not tested.
	Note string `json:"note"`
}

// NoteRecipientNotProbed is the note of a delivery judged without the recipient probe.
const NoteRecipientNotProbed = "the recipient was not tested: the check stops before MAIL FROM, so the server's replies to MAIL FROM and RCPT TO are not known (a live check with the recipient probe asks them: smtpclient.CheckOptions.ProbeRecipient, check -probe-rcpt)"

// noteNotReached is the note of an attempt that fails before MAIL FROM.
const noteNotReached = "the recipient was not tested: Postfix would not send MAIL FROM over this attempt"

// notePlaintextRetry is the note of a handshake failure at may that Postfix retries in
// plaintext (§3.3): the recipient would be asked over that new connection, which the probe
// does not make.
const notePlaintextRetry = "the recipient was not tested: Postfix would ask about it over a new plaintext connection (§3.3), which the recipient probe does not make"

// Causes of the recipient probe.
const (
	// CauseRecipientRejected: the server refused RCPT TO (5xx bounces the recipient, 4xx
	// defers it and Postfix tries the next server).
	CauseRecipientRejected Cause = "recipient-rejected"
	// CauseSenderRejected: the server refused MAIL FROM (smtp_mesg_fail).
	CauseSenderRejected Cause = "sender-rejected"
	// CauseEHLORefused: the server refused the EHLO sent inside TLS.
	CauseEHLORefused Cause = "ehlo-refused"
)

// recipient judges the recipient probe of an attempt whose TLS part delivers (smtp_proto.c:
// the MAIL FROM and RCPT TO replies; smtp_trouble.c: what a 4xx or 5xx does).
func (e *evaluator) recipient() {
	d, rp := e.d, e.obs.Recipient
	if rp == nil {
		d.Recipient = RecipientStatus{Check: RecipientNotTested, Note: NoteRecipientNotProbed}
		return
	}
	sender := rp.Sender
	st := RecipientStatus{Address: rp.Recipient, Sender: &sender}
	fail := func(check RecipientCheck, r *reply.Reply, reason, rule, note string, cause Cause) {
		dsn, o := e.replyStatus(r)
		if check == RecipientRejected && o == OutcomeDefer {
			check = RecipientDeferred
		}
		st.Check, st.Reply, st.Note = check, r, note
		e.fail(o, dsn, reason, rule, cause)
	}
	switch {
	case rp.Skipped != "":
		d.Recipient = RecipientStatus{Check: RecipientNotTested, Address: rp.Recipient,
			Note: "the recipient was not tested: " + rp.Skipped}
		return
	case rp.EHLO != nil:
		fail(RecipientSessionFailed, rp.EHLO, "host "+e.namaddr+" refused to talk to me: "+rp.EHLO.OneLine(),
			"smtp_helo: EHLO inside TLS refused", "the recipient was not tested: the server refused the EHLO sent inside TLS", CauseEHLORefused)
	case rp.MailFrom != nil && !rp.MailFrom.Positive():
		fail(RecipientSenderRefused, rp.MailFrom, saidReason(e.namaddr, rp.MailFrom, "MAIL FROM command"),
			"smtp_proto: MAIL FROM refused (smtp_mesg_fail)", "the recipient was not tested: the server refused MAIL FROM:<"+rp.Sender+">", CauseSenderRejected)
	case rp.ConversationError != "":
		st.Check, st.Note = RecipientSessionFailed, "the recipient's reply is not known: "+rp.ConversationError
		e.fail(OutcomeDefer, "4.4.2", rp.ConversationError, "smtp_stream_except during the mail transaction", CauseConversation)
	case rp.RcptTo == nil:
		st.Check, st.Note = RecipientNotTested, "the recipient was not tested: RCPT TO got no reply"
	case !rp.RcptTo.Positive():
		fail(RecipientRejected, rp.RcptTo, saidReason(e.namaddr, rp.RcptTo, "RCPT TO command"),
			"smtp_proto: RCPT TO refused (smtp_rcpt_fail)", "the server refused RCPT TO:<"+rp.Recipient+">", CauseRecipientRejected)
	default:
		st.Check, st.Reply = RecipientAccepted, rp.RcptTo
		st.Note = "the server accepted RCPT TO:<" + rp.Recipient + "> (the message itself, DATA, was not sent)"
	}
	d.Recipient = st
}

// saidReason is Postfix's "host %s said: %s (in reply to %s)" (smtp_proto.c).
func saidReason(namaddr string, r *reply.Reply, request string) string {
	return "host " + namaddr + " said: " + r.OneLine() + " (in reply to " + request + ")"
}

// replyStatus is the DSN and outcome of a refusing reply: its enhanced status code (the
// reply package derives it as smtp_chat_resp() does; "5.5.0" for a 3xx out of context), a
// soft error (4.x.x) defers and tries the next server, anything else bounces — unless
// soft_bounce turns it into a deferral with a 4.x.x status (bounce_append()).
func (e *evaluator) replyStatus(r *reply.Reply) (policy.DSN, Outcome) {
	dsn := r.DSN
	if dsn == "" {
		dsn = "5.5.0"
	}
	if dsn[0] == '4' {
		return policy.DSN(dsn), OutcomeDefer
	}
	if e.opt.SoftBounce {
		e.d.Notes = append(e.d.Notes, "soft_bounce = yes: the "+dsn+" error is deferred as 4"+dsn[1:]+" (Postfix logs status=SOFTBOUNCE)")
		return policy.DSN("4" + dsn[1:]), OutcomeDefer
	}
	return policy.DSN(dsn), OutcomeBounce
}

// findRecipient explains a refusal after a TLS session Postfix accepts: nothing in the TLS
// policy changes it, so it has no fix.
func (e *evaluator) findRecipient() *finding.Finding {
	d, rp := e.d, e.obs.Recipient
	var what string
	switch d.Cause {
	case CauseSenderRejected:
		what = "refused the sender MAIL FROM:<" + rp.Sender + ">"
	case CauseEHLORefused:
		what = "refused the EHLO sent inside TLS"
	default:
		what = "refused the recipient RCPT TO:<" + rp.Recipient + ">"
	}
	tls := "the session"
	if d.TLS {
		tls = "the " + string(d.Trust) + " TLS session"
	}
	f := &finding.Finding{Code: finding.RecipientRefused, Summary: fmt.Sprintf(
		"The TLS policy is not the problem: Postfix accepts %s with %s, but the server %s (%s).", tls, e.namaddr, what, d.Recipient.Reply)}
	switch {
	case d.Outcome == OutcomeBounce:
		f.Details = append(f.Details, "a permanent (5xx) reply: Postfix returns the message to the sender at once and tries no other MX host")
	case d.Cause == CauseSenderRejected:
		f.Details = append(f.Details, "a temporary (4xx) reply to MAIL FROM: Postfix tries the next MX host, and defers the whole message when none is left")
	default:
		f.Details = append(f.Details, "a temporary (4xx) reply: Postfix tries the next MX host for this recipient, and defers it when none is left")
	}
	if d.Cause == CauseSenderRejected {
		f.Details = append(f.Details, "the sender matters here: check again with the envelope sender the real mail has (-sender)")
	}
	return f
}
