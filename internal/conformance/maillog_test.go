package conformance

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMaillog(t *testing.T) {
	const pickup = "Nov 22 03:51:18 h postfix/pickup[1]: AAA1: uid=0 from=<s@x>\n"
	tests := []struct {
		name, log                   string
		outcome, dsn, reason, trust string
	}{
		{"sent with the last TLS trust word",
			pickup + "h postfix/smtp[2]: Untrusted TLS connection established to a[1]:25: x\n" +
				"h postfix/smtp[2]: Verified TLS connection established to b[2]:25: x\n" +
				"h postfix/smtp[2]: AAA1: to=<u@example.test>, relay=b[2]:25, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)\n",
			"deliver", "2.0.0", "250 2.0.0 Ok: queued", "Verified"},
		{"status of another queue id (the bounce to the sender) is ignored",
			pickup + "h postfix/smtp[2]: BBB2: to=<s@x>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.4, status=bounced (nope)\n",
			"", "", "", ""},
		{"reason with parentheses",
			pickup + "h postfix/smtp[2]: AAA1: to=<u@x>, relay=none, delay=0, delays=0/0/0/0, dsn=4.4.3, status=deferred (Host (x) not found)\n",
			"defer", "4.4.3", "Host (x) not found", ""},
		{"no pickup line yet", "h postfix/smtp[2]: AAA1: to=<u@x>, relay=none, dsn=4.4.3, status=deferred (x)\n", "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ParseMaillog(tc.log)
			assert.Equal(t, tc.outcome, o.Outcome, "outcome")
			assert.Equal(t, tc.dsn, o.DSN, "dsn")
			assert.Equal(t, tc.reason, o.Reason, "reason")
			assert.Equal(t, tc.trust, o.Trust, "trust")
		})
	}
}

func FuzzParseMaillog(f *testing.F) {
	f.Add("Nov 22 03:51:18 h postfix/pickup[1]: AAA1: uid=0 from=<s@x>\nh postfix/smtp[2]: AAA1: to=<u@x>, relay=none, dsn=4.4.3, status=deferred (x)\n")
	f.Add("postfix/smtp[1]: Verified TLS connection established")
	f.Fuzz(func(t *testing.T, s string) {
		o := ParseMaillog(s)
		if o.Outcome != "" {
			require.Contains(t, s, "status=", "outcome %q without a status record", o.Outcome)
		}
		if utf8.ValidString(s) {
			require.True(t, utf8.ValidString(o.Reason), "reason not UTF-8")
		}
	})
}
