package dnskit_test

import (
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
)

// Start serves signed, insecure and bogus zones through a validating resolver for one test.
func ExampleStart() {
	t := &testing.T{} // in a real test, the *testing.T of the test
	srv := dnskit.Start(t, dnskit.Config{Records: []string{
		"example IN MX 10 mx.test.", // example.test. in the signed zone
		"mx IN A 127.0.0.10",
		"_25._tcp.mx IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"mx.insecure.test. IN A 127.0.0.11", // unsigned child: answers are not validated
		"mx.bogus.test. IN A 127.0.0.12",    // bogus child: the resolver answers SERVFAIL
	}})
	_ = srv.Resolver // "127.0.0.1:<port>": point a dnssec.Client at it
}
