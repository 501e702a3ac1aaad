package checkcmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/policy/verdict"
)

// maxLines bounds the lines printed for one list (log lines, details, warnings) so that
// the answer fits one screen; -json has everything.
const maxLines = 4

// print writes the human answer: configuration, route, policy and its source, the attempts,
// the verdict in Postfix's words, the explanation and the fixes.
func (r *report) print(w io.Writer) {
	v := r.verdict
	mode := "live"
	if r.offline {
		mode = "offline (chain from file, DNS facts assumed DNSSEC-validated; address, protocol and cipher not observed)"
	}
	fmt.Fprintf(w, "destination  %s  [%s]\n", v.Destination, mode)
	fmt.Fprintf(w, "postfix      %s  from %s\n", v.PostfixVersion, r.versionFrom)
	fmt.Fprintf(w, "config       %s\n", r.configFrom)
	if r.resolverFrom != "" {
		fmt.Fprintf(w, "dns          %s\n", r.resolverFrom)
	}
	if rt := r.route; rt != nil {
		fmt.Fprintf(w, "route        %s:%s", rt.Transport, rt.Nexthop)
		if len(rt.From) > 0 {
			fmt.Fprintf(w, "  (%s)", strings.Join(rt.From, "; "))
		}
		fmt.Fprintln(w)
	}
	p := v.Policy
	fmt.Fprintf(w, "policy       %s", p.Level)
	if len(p.Match) > 0 {
		fmt.Fprintf(w, " match=%s", strings.Join(p.Match, ":"))
	}
	if !p.Valid {
		fmt.Fprint(w, "  INVALID: Postfix will not connect")
	}
	fmt.Fprintf(w, "\n  from       %s\n", p.Source)
	warnings := append(append([]string{}, p.Warnings...), v.Warnings...)
	warnings = append(warnings, r.diagnostics...)
	for i, x := range warnings {
		if i == maxLines {
			fmt.Fprintf(w, "warning      ... %d more (see -json)\n", len(warnings)-i)
			break
		}
		fmt.Fprintf(w, "warning      %s\n", x)
	}

	if len(v.Attempts) == 0 {
		fmt.Fprintln(w, "attempts     none: no server to try")
	}
	for i, a := range v.Attempts {
		server := a.Host
		if a.Addr != "" {
			server += "[" + a.Addr + "]"
		}
		if a.Port != 0 {
			server += ":" + strconv.Itoa(a.Port)
		}
		level := a.Level.String()
		if a.EffectiveLevel != a.Level {
			level += " -> " + a.EffectiveLevel.String()
		}
		trust := "no TLS"
		if a.Trust != nil {
			trust = string(*a.Trust) + " TLS"
		}
		fmt.Fprintf(w, "attempt %-4d %s  level %s  %s  => %s", i+1, server, level, trust, a.Outcome)
		if a.DSN != "" {
			fmt.Fprintf(w, " %s", a.DSN)
		}
		if a.Reason != "" {
			fmt.Fprintf(w, " (%s)", a.Reason)
		}
		fmt.Fprintln(w)
		for j, l := range a.Log {
			if j == maxLines {
				fmt.Fprintf(w, "             | ... %d more log lines (see -json)\n", len(a.Log)-j)
				break
			}
			fmt.Fprintf(w, "             | %s\n", l)
		}
		if len(a.Gaps) > 0 {
			codes := make([]string, len(a.Gaps))
			for j, g := range a.Gaps {
				codes[j] = string(g.Code)
			}
			fmt.Fprintf(w, "             where Go's TLS differs from OpenSSL's: %s (details in -json)\n", strings.Join(codes, ", "))
		}
	}

	fmt.Fprintf(w, "verdict      %s\n", statusLine(r))
	if r.verdict.Deadline != "" {
		fmt.Fprintf(w, "deadline     %s\n", r.verdict.Deadline)
	}
	if r.verdict.Recipient.Check != verdict.RecipientNotTested || r.probed {
		fmt.Fprintf(w, "recipient    %s\n", recipientLine(r))
	}
	for _, l := range v.Log {
		fmt.Fprintf(w, "  logged     %s\n", l)
	}
	if len(v.Findings) == 0 {
		if v.Outcome != verdict.OutcomeDeliver {
			fmt.Fprintln(w, "why          no finding explains this failure; see the log lines above")
		}
		return
	}
	for _, f := range v.Findings {
		fmt.Fprintf(w, "why          [%s] %s\n", f.Code, f.Summary)
		for j, d := range f.Details {
			if j == maxLines {
				fmt.Fprintf(w, "             ... %d more details (see -json)\n", len(f.Details)-j)
				break
			}
			fmt.Fprintf(w, "             - %s\n", d)
		}
		for _, fix := range f.Fixes {
			fmt.Fprintf(w, "fix          %s\n", fix)
			if c := fix.Comment(); c != "" {
				fmt.Fprintf(w, "             (%s)\n", c)
			}
		}
	}
}

// statusLine is the verdict as Postfix's delivery status line words it:
// "relay=host[addr]:port, dsn=4.7.5, status=deferred (reason)".
func statusLine(r *report) string {
	v := r.verdict
	relay := "none"
	if n := len(v.Attempts); n > 0 && v.Attempts[n-1].Decision.Relay != "" {
		relay = v.Attempts[n-1].Decision.Relay
	}
	status := map[verdict.Outcome]string{verdict.OutcomeDeliver: "sent", verdict.OutcomeDefer: "deferred", verdict.OutcomeBounce: "bounced"}[v.Outcome]
	if status == "" {
		status = string(v.Outcome)
	}
	s := fmt.Sprintf("relay=%s, dsn=%s, status=%s", relay, v.DSN, status)
	switch {
	case v.Reason != "":
		s += " (" + v.Reason + ")"
	case v.Outcome == verdict.OutcomeDeliver && v.Recipient.Check == verdict.RecipientAccepted:
		s += " (the server accepted the recipient; the message itself, DATA, was not sent)"
	case v.Outcome == verdict.OutcomeDeliver && r.probed && v.Recipient.Note != "":
		s += " (" + v.Recipient.Note + ")"
	case v.Outcome == verdict.OutcomeDeliver:
		s += " (the recipient was not tested: check stops before MAIL FROM; -probe-rcpt asks the server)"
	}
	return s
}

// recipientLine says what is known of the recipient, for the "recipient" line.
func recipientLine(r *report) string {
	rs := r.verdict.Recipient
	if rs.Check == verdict.RecipientNotTested || rs.Check == "" {
		return "not tested"
	}
	s := string(rs.Check)
	if rs.Address != "" {
		s += " <" + rs.Address + ">"
	}
	if rs.Sender != nil {
		s += " from <" + *rs.Sender + ">"
	}
	if rs.Reply != nil {
		s += ": " + rs.Reply.OneLine()
	}
	return s
}
