package verdict_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient/reply"
)

// rep parses a server reply as Postfix's smtp_chat_resp() reads it.
func rep(t *testing.T, text string) *reply.Reply {
	t.Helper()
	r, err := reply.NewReader(bufio.NewReader(strings.NewReader(text+"\r\n")), 0, 0, nil).Read()
	require.NoError(t, err)
	return r
}

// TestRecipientProbe: after a TLS session Postfix accepts, the replies to MAIL FROM and RCPT
// TO decide (smtp_proto.c, smtp_trouble.c). The reason texts are real Postfix 3.7.11's (shared
// oracle, servers with rejectrcpt/deferrcpt: conformance cases rcpt/*).
func TestRecipientProbe(t *testing.T) {
	f := newFixture(t)
	const host = "mx.example.com[192.0.2.10]"
	probe := func(mod func(*verdict.RecipientProbe)) *verdict.RecipientProbe {
		rp := &verdict.RecipientProbe{Sender: "sender@example.net", Recipient: "user@example.com",
			MailFrom: rep(t, "250 2.1.0 Ok"), RcptTo: rep(t, "250 2.1.5 Ok")}
		if mod != nil {
			mod(rp)
		}
		return rp
	}
	tests := []struct {
		name       string
		p          policy.Policy
		obs        func() verdict.Observation
		probe      *verdict.RecipientProbe
		softBounce bool
		outcome    verdict.Outcome
		dsn        policy.DSN
		reason     string
		check      verdict.RecipientCheck
		cause      verdict.Cause
	}{
		{name: "no probe: the verdict says the recipient was not tested", p: pol(policy.Verify, "hostname"),
			outcome: verdict.OutcomeDeliver, dsn: "2.0.0", check: verdict.RecipientNotTested},
		{name: "smtp_proto RCPT TO 2xx: delivered", p: pol(policy.Verify, "hostname"), probe: probe(nil),
			outcome: verdict.OutcomeDeliver, dsn: "2.0.0", check: verdict.RecipientAccepted},
		{name: "smtp_rcpt_fail RCPT TO 550 5.1.1: the recipient bounces", p: pol(policy.Verify, "hostname"),
			probe:   probe(func(rp *verdict.RecipientProbe) { rp.RcptTo = rep(t, "550 5.1.1 Recipient rejected by oracle") }),
			outcome: verdict.OutcomeBounce, dsn: "5.1.1", check: verdict.RecipientRejected, cause: verdict.CauseRecipientRejected,
			reason: "host " + host + " said: 550 5.1.1 Recipient rejected by oracle (in reply to RCPT TO command)"},
		{name: "smtp_rcpt_fail RCPT TO 450 4.2.0: deferred, next server", p: pol(policy.Verify, "hostname"),
			probe:   probe(func(rp *verdict.RecipientProbe) { rp.RcptTo = rep(t, "450 4.2.0 Recipient deferred by oracle") }),
			outcome: verdict.OutcomeDefer, dsn: "4.2.0", check: verdict.RecipientDeferred, cause: verdict.CauseRecipientRejected,
			reason: "host " + host + " said: 450 4.2.0 Recipient deferred by oracle (in reply to RCPT TO command)"},
		{name: "smtp_chat_resp multi-line RCPT reply joined by spaces, DSN from the last line", p: pol(policy.Verify, "hostname"),
			probe: probe(func(rp *verdict.RecipientProbe) {
				rp.RcptTo = rep(t, "550-5.1.1 <user@example.com>: Recipient address rejected:\r\n550 5.1.1 User unknown")
			}),
			outcome: verdict.OutcomeBounce, dsn: "5.1.1", check: verdict.RecipientRejected, cause: verdict.CauseRecipientRejected,
			reason: "host " + host + " said: 550-5.1.1 <user@example.com>: Recipient address rejected: 550 5.1.1 User unknown (in reply to RCPT TO command)"},
		{name: "smtp_chat_resp no enhanced code: 5.0.0 from the reply class", p: pol(policy.Verify, "hostname"),
			probe:   probe(func(rp *verdict.RecipientProbe) { rp.RcptTo = rep(t, "554 no such user") }),
			outcome: verdict.OutcomeBounce, dsn: "5.0.0", check: verdict.RecipientRejected, cause: verdict.CauseRecipientRejected,
			reason: "host " + host + " said: 554 no such user (in reply to RCPT TO command)"},
		{name: "bounce_append soft_bounce = yes: a 5xx to RCPT TO defers as 4.x.x", p: pol(policy.Verify, "hostname"), softBounce: true,
			probe:   probe(func(rp *verdict.RecipientProbe) { rp.RcptTo = rep(t, "550 5.1.1 Recipient rejected by oracle") }),
			outcome: verdict.OutcomeDefer, dsn: "4.1.1", check: verdict.RecipientDeferred, cause: verdict.CauseRecipientRejected,
			reason: "host " + host + " said: 550 5.1.1 Recipient rejected by oracle (in reply to RCPT TO command)"},
		{name: "smtp_mesg_fail MAIL FROM 553: the message bounces, RCPT TO never asked", p: pol(policy.Verify, "hostname"),
			probe: probe(func(rp *verdict.RecipientProbe) {
				rp.MailFrom, rp.RcptTo = rep(t, "553 5.7.1 <sender@example.net>: Sender address rejected"), nil
			}),
			outcome: verdict.OutcomeBounce, dsn: "5.7.1", check: verdict.RecipientSenderRefused, cause: verdict.CauseSenderRejected,
			reason: "host " + host + " said: 553 5.7.1 <sender@example.net>: Sender address rejected (in reply to MAIL FROM command)"},
		{name: "smtp_mesg_fail MAIL FROM 451: deferred", p: pol(policy.Verify, "hostname"),
			probe: probe(func(rp *verdict.RecipientProbe) {
				rp.MailFrom, rp.RcptTo = rep(t, "451 4.3.0 Try again later"), nil
			}),
			outcome: verdict.OutcomeDefer, dsn: "4.3.0", check: verdict.RecipientSenderRefused, cause: verdict.CauseSenderRejected,
			reason: "host " + host + " said: 451 4.3.0 Try again later (in reply to MAIL FROM command)"},
		{name: "smtp_helo 421 to the EHLO inside TLS: refused to talk", p: pol(policy.Verify, "hostname"),
			probe: probe(func(rp *verdict.RecipientProbe) {
				rp.EHLO, rp.MailFrom, rp.RcptTo = rep(t, "421 4.3.2 Service shutting down"), nil, nil
			}),
			outcome: verdict.OutcomeDefer, dsn: "4.3.2", check: verdict.RecipientSessionFailed, cause: verdict.CauseEHLORefused,
			reason: "host " + host + " refused to talk to me: 421 4.3.2 Service shutting down"},
		{name: "smtp_stream_except lost connection while sending RCPT TO: 4.4.2", p: pol(policy.Verify, "hostname"),
			probe: probe(func(rp *verdict.RecipientProbe) {
				rp.RcptTo, rp.ConversationError = nil, "lost connection with "+host+" while sending RCPT TO"
			}),
			outcome: verdict.OutcomeDefer, dsn: "4.4.2", check: verdict.RecipientSessionFailed, cause: verdict.CauseConversation,
			reason: "lost connection with " + host + " while sending RCPT TO"},
		{name: "§3.1 may without STARTTLS: plaintext, the RCPT reply still decides", p: pol(policy.May),
			obs: func() verdict.Observation {
				return verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.10", Port: 25, HaveMX: true}
			},
			probe:   probe(func(rp *verdict.RecipientProbe) { rp.RcptTo = rep(t, "550 5.1.1 Recipient rejected by oracle") }),
			outcome: verdict.OutcomeBounce, dsn: "5.1.1", check: verdict.RecipientRejected, cause: verdict.CauseRecipientRejected,
			reason: "host " + host + " said: 550 5.1.1 Recipient rejected by oracle (in reply to RCPT TO command)"},
		{name: "§4.2 verification fails: the TLS part decides, the recipient was not tested", p: pol(policy.Verify, "hostname"),
			obs:     func() verdict.Observation { return obsTLS("mx.example.com", f.chain(f.other)) },
			probe:   probe(func(rp *verdict.RecipientProbe) { rp.RcptTo = rep(t, "550 5.1.1 Recipient rejected by oracle") }),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", check: verdict.RecipientNotTested, cause: verdict.CauseNameMismatch,
			reason: verdict.ReasonNotVerified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := obsTLS("mx.example.com", f.chain(f.mx))
			if tc.obs != nil {
				obs = tc.obs()
			}
			obs.Recipient = tc.probe
			d := verdict.Evaluate(tc.p, f.hop, obs, verdict.EvalOptions{Trust: f.trust, SoftBounce: tc.softBounce})
			require.Equal(t, tc.outcome, d.Outcome, "%+v", d)
			require.Equal(t, tc.dsn, d.DSN)
			require.Equal(t, tc.reason, d.Reason)
			require.Equal(t, tc.check, d.Recipient.Check, d.Recipient.Note)
			require.Equal(t, tc.cause, d.Cause)
			require.NotEmpty(t, d.Recipient.Note)
			if tc.check == verdict.RecipientNotTested {
				require.Contains(t, d.Recipient.Note, "not tested")
			}
			if tc.cause == verdict.CauseRecipientRejected || tc.cause == verdict.CauseSenderRejected {
				require.Len(t, d.Findings, 1, "one finding, no TLS fix")
				require.Equal(t, finding.RecipientRefused, d.Findings[0].Code)
				require.Empty(t, d.Findings[0].Fixes)
			}
		})
	}
}
