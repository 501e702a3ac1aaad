package maillog_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/maillog"
	"github.com/postfixtls/postfixtls/policy"
)

// The seed question: mail to fastmail.fm defers at level secure. The smtp_tls_loglevel 2
// lines show the certificate's name; with the policy table the finding proposes the row.
func Example() {
	log := `Nov 22 03:00:00 mx postfix/smtp[228]: setting up TLS connection to in1-smtp.messagingengine.com[66.111.4.72]:25
Nov 22 03:00:00 mx postfix/smtp[228]: server certificate verification failed for in1-smtp.messagingengine.com[66.111.4.72]:25: num=62:hostname mismatch
Nov 22 03:00:00 mx postfix/smtp[228]: in1-smtp.messagingengine.com[66.111.4.72]:25: subject_CN=*.messagingengine.com, issuer_CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, fingerprint=AA:BB, pkey_fingerprint=CC:DD
Nov 22 03:00:00 mx postfix/smtp[228]: Untrusted TLS connection established to in1-smtp.messagingengine.com[66.111.4.72]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
Nov 22 03:00:00 mx postfix/smtp[228]: 9EFC79891C3: to=<user@fastmail.fm>, relay=in1-smtp.messagingengine.com[66.111.4.72]:25, delay=0.08, delays=0.04/0.04/0.01/0, dsn=4.7.5, status=deferred (Server certificate not verified)
`
	settings, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"smtp_tls_policy_maps": "inline:{fastmail.fm=secure}",
		"smtp_tls_CAfile":      "/etc/ssl/certs/ca-certificates.crt",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := maillog.NewReader(strings.NewReader(log), maillog.Options{Year: 2026})
	ex, err := maillog.Explain(context.Background(), r, maillog.ExplainOptions{Settings: settings})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range ex {
		fmt.Println(e.Destination, "-", e.Verdict)
		for _, f := range e.Findings {
			fmt.Println(f.Code, "->", f.Fixes[0])
		}
	}
	// Output:
	// fastmail.fm - deferred: Server certificate not verified (dsn=4.7.5, relay=in1-smtp.messagingengine.com[66.111.4.72]:25)
	// secure-nexthop-mismatch -> fastmail.fm secure match=.messagingengine.com
}

func ExampleParseLine() {
	l, err := maillog.ParseLine([]byte("Nov 22 03:00:00 mx postfix-out/smtp[1234]: Verified TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"), 2026)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Time.Format("2006-01-02 15:04:05"), l.Host, l.SyslogName, l.Service, l.PID)
	// Output: 2026-11-22 03:00:00 mx postfix-out smtp 1234
}
