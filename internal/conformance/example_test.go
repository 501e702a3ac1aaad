package conformance_test

import (
	"fmt"

	"github.com/postfixtls/postfixtls/internal/conformance"
)

// ParseMaillog turns the maillog_file lines of one delivery into the verdict the suite
// compares with the library's.
func ExampleParseMaillog() {
	log := `Nov 22 03:51:18 client postfix/pickup[41]: 4A1B2C3D: uid=0 from=<sender@conformance.test>
Nov 22 03:51:18 client postfix/smtp[45]: Untrusted TLS connection established to in1-smtp.messagingengine.test[127.0.1.10]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)
Nov 22 03:51:18 client postfix/smtp[45]: 4A1B2C3D: to=<user@fastmail.test>, relay=in1-smtp.messagingengine.test[127.0.1.10]:25, delay=0.1, delays=0/0/0.1/0, dsn=4.7.5, status=deferred (Server certificate not verified)
`
	o := conformance.ParseMaillog(log)
	fmt.Println(o.Outcome, o.DSN, o.Trust)
	fmt.Println(o.Reason)
	// Output:
	// defer 4.7.5 Untrusted
	// Server certificate not verified
}
