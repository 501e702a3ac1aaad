package verdict_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
)

// Mail for fastmail.fm goes to in1-smtp.messagingengine.com, whose certificate names
// *.messagingengine.com. Under "secure" Postfix 3.7 refuses it; Evaluate says so, with the
// trust word Postfix logs, and proposes the narrow fix.
func ExampleEvaluate() {
	// The chain the server sends (leaf and intermediate) and the root in smtp_tls_CAfile.
	chainPEM, _ := os.ReadFile("testdata/example/messagingengine-chain.pem")
	rootPEM, _ := os.ReadFile("testdata/example/root.pem")
	chain, _ := verdict.ReadPEMChain(bytes.NewReader(chainPEM))
	roots, _ := verdict.ReadPEMChain(bytes.NewReader(rootPEM))

	hop := policy.NextHop{Nexthop: "fastmail.fm", Key: "fastmail.fm", Domain: "fastmail.fm", Port: 25, MX: true, Client: policy.SMTP}
	p := policy.Policy{Level: policy.Secure, Match: []string{"nexthop", "dot-nexthop"}, Protocols: ">=TLSv1", Ciphers: "medium"}
	obs := verdict.Observation{
		Host: "in1-smtp.messagingengine.com", Addr: "192.0.2.10", HaveMX: true,
		STARTTLSOffered: true, TLSVersion: "TLSv1.3", Cipher: "TLS_AES_256_GCM_SHA384",
		Chain: chain,
	}
	d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{
		Version: policy.V(3, 7, 11),
		Trust:   &verdict.Trust{CAs: roots},
	})
	fmt.Println(d.Outcome, d.DSN, d.Reason)
	for _, l := range d.Log {
		fmt.Println(l)
	}
	fmt.Println(d.Findings[0].Code)
	fmt.Println(d.Findings[0].Fixes[0])
	// Output:
	// defer 4.7.5 Server certificate not verified
	// server certificate verification failed for in1-smtp.messagingengine.com[192.0.2.10]:25: num=62:hostname mismatch
	// Untrusted TLS connection established to in1-smtp.messagingengine.com[192.0.2.10]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
	// secure-nexthop-mismatch
	// fastmail.fm secure match=.messagingengine.com
}
