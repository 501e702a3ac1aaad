package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDemo runs the demo as `go run ./examples/demo` does and checks the verdicts it prints
// for each seed scenario.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	require.NoError(t, run(ctx, &out))
	require.Less(t, time.Since(start), 10*time.Second)
	got := out.String()
	for _, want := range []string{
		// 1. §4.5 example 1: secure fails, verify and the explicit match pass, the fix is offered.
		`user@fastmail.fm -> next hop "fastmail.fm", policy secure (match nexthop:dot-nexthop from smtp_tls_secure_cert_match)`,
		`matches "fastmail.fm" (nexthop) or any name ending in ".fastmail.fm" (dot-nexthop)`,
		"fix (narrowest first): fastmail.fm secure match=.messagingengine.com",
		`certificate name "*.messagingengine.com" matches "in1-smtp.messagingengine.com" (hostname)`,
		`certificate name "*.messagingengine.com" matches any name ending in ".messagingengine.com"`,
		// 2. §4.2 CN used when there is no DNS SAN.
		`certificate name "mx.hearst.example" matches "mx.hearst.example" (hostname)`,
		// 3. §6.4 stale DANE-EE record.
		"num=65:no matching DANE TLSA records",
		"fix: publish _25._tcp.mx.dane.example. IN TLSA 3 1 1 ",
		// 4. §5.1 SHA-1 pin while Postfix compares SHA-256.
		"is the SHA-1 fingerprint of the certificate, but Postfix compares SHA-256",
		// 5. §3.1 no CA configured.
		"fix: smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt",
	} {
		require.Contains(t, got, want)
	}
	require.Equal(t, 3, strings.Count(got, "would be Verified: delivered"), "verify, explicit match and CN-only pass")
}
