package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	require.NoError(t, run(ctx, &out, false))
	require.Less(t, time.Since(start), 5*time.Second, "issue 6: the demo finishes in under 5 s")
	got := out.String()
	for _, want := range []string{
		// 1. §4.5 example 1: secure deferred, verify and the explicit match delivered, fix offered.
		`user@fastmail.fm -> next hop "fastmail.fm", policy secure match=nexthop:dot-nexthop`,
		"num=62:hostname mismatch",
		"fix: fastmail.fm secure match=.messagingengine.com",
		// 2. §4.2: the CN is used when there is no DNS SAN.
		"mx.hearst.example[192.0.2.20]:25: Verified TLS",
		// 3. §6.4: stale DANE-EE record, the record to publish.
		"num=65:no matching DANE TLSA records",
		"fix: _25._tcp.mx.dane.example. IN TLSA 3 1 1 ",
		// 4. §5.1: SHA-1 pin while Postfix compares SHA-256.
		"is the SHA-1 fingerprint of mx.pinned.example's certificate, but Postfix compares SHA-256",
		// 5. §3.1: no CA configured. The server's CA is the demo's private one: the system
		// bundle would not hold it, so the proven fix is a trust anchor for this next hop.
		"why [no-ca-configured]",
		"fix: noca.example verify tafile=/etc/postfix/tls/mx.noca.example-ca.pem",
	} {
		require.Contains(t, got, want)
	}
	require.Equal(t, 3, strings.Count(got, "=> delivered (status=sent)"), "verify, the explicit match and the CN-only certificate")
	require.Equal(t, 4, strings.Count(got, "=> status=deferred (Server certificate not verified), dsn=4.7.5"))
}

func TestDemoJSON(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, true))
	var verdicts []map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &verdicts))
	require.Len(t, verdicts, 7)
	for _, v := range verdicts {
		for _, k := range []string{"destination", "nexthop", "postfix_version", "policy", "outcome", "dsn", "reason", "trust", "attempts", "findings"} {
			require.Contains(t, v, k, "design.md JSON contract")
		}
	}
	require.Equal(t, "defer", verdicts[0]["outcome"])
}
