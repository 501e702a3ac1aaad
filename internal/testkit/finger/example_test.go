package finger_test

import (
	"fmt"

	"github.com/postfixtls/postfixtls/internal/testkit/finger"
)

// Parse turns posttls-finger's log lines into a verdict.
func ExampleParse() {
	out := "posttls-finger: server certificate verification failed for mx.example.com[127.0.0.1]:25: num=62:hostname mismatch\n" +
		"posttls-finger: Untrusted TLS connection established to mx.example.com[127.0.0.1]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)\n"
	r := finger.Parse([]byte(out))
	fmt.Println(r.Trust, r.VerifyPurpose, r.VerifyFailure)
	// Output:
	// Untrusted server num=62:hostname mismatch
}
