package conformance

import (
	"regexp"
	"strings"
)

var (
	// pickupRE finds the queue id pickup(8) assigned: "postfix/pickup[12]: 4Xyz: uid=0 from=<...>".
	pickupRE = regexp.MustCompile(`postfix/pickup\[\d+\]: ([0-9A-Za-z]+): `)
	// statusRE is a delivery status record: "QID: to=<rcpt>, relay=..., dsn=4.7.5, status=deferred (reason)".
	statusRE = regexp.MustCompile(`: ([0-9A-Za-z]+): to=<[^>]*>,.* dsn=([0-9.]+), status=([a-z]+) \((.*)\)$`)
	// trustRE is smtp(8)'s TLS summary: "Verified TLS connection established to ...".
	trustRE = regexp.MustCompile(`postfix/smtp\[\d+\]: ([A-Za-z]+) TLS connection established`)
)

// postfixOutcomes maps the status= word of the log to the library's outcome words.
var postfixOutcomes = map[string]string{"sent": "deliver", "deferred": "defer", "bounced": "bounce"}

// ParseMaillog reads Postfix's maillog_file text and returns the status of the first message
// picked up: outcome (deliver, defer, bounce; "" while no status was logged yet), DSN, reason
// text, the trust word of the last TLS session smtp(8) established, and the smtp(8) lines,
// warnings and errors. Lines it does not recognise are kept in Log only when they come from
// smtp(8) or are warnings.
func ParseMaillog(text string) Outcome {
	var o Outcome
	qid := ""
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		if qid == "" {
			if m := pickupRE.FindStringSubmatch(line); m != nil {
				qid = m[1]
			}
		}
		if m := trustRE.FindStringSubmatch(line); m != nil {
			o.Trust = m[1]
		}
		if strings.Contains(line, "postfix/smtp[") || strings.Contains(line, "warning:") ||
			strings.Contains(line, "fatal:") || strings.Contains(line, "panic:") {
			if i := strings.Index(line, "postfix/"); i >= 0 {
				o.Log = append(o.Log, line[i:])
			} else {
				o.Log = append(o.Log, line)
			}
		}
		if m := statusRE.FindStringSubmatch(line); m != nil && qid != "" && m[1] == qid && o.Outcome == "" {
			o.DSN, o.Reason = m[2], m[4]
			o.Outcome = postfixOutcomes[m[3]]
			if o.Outcome == "" {
				o.Outcome = m[3]
			}
		}
	}
	return o
}
