package smtpclient

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// tls_proto_mask_lims() and tls_client_start(): the handshake mapping and the evaluator
// read the protocol list and the cipher settings through the same rule, so a transcript can
// never contradict its verdict. The inputs are those on which the two former copies
// disagreed (3.3.1 "TLSv1.3", 3.3.2 "!TLSv1.3", 3.7.11 ">=0x", ">=+0x303", ">=-0") and
// their neighbours.
func TestHandshakeAndVerdictAgreeOnSetup(t *testing.T) {
	lists := []string{"TLSv1.3", "!TLSv1.3", ">=0x", ">=+0x303", ">=-0", ">=-1", ">=TLSv1.2", "<=TLSv1.1",
		"!SSLv2, !SSLv3", "TLSv1.2:TLSv1.3", "", ">=", "bogus", ">=80000000", "<=None", "!tlsv1"}
	releases := []policy.Version{policy.V(3, 3, 1), policy.V(3, 3, 2), policy.V(3, 5, 25), policy.V(3, 7, 11), policy.V(3, 11, 6)}
	obs := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.10", Port: 25, STARTTLSOffered: true,
		HandshakeError: "observed failure"}
	hop := policy.NextHop{Domain: "example.com", Port: 25}
	for _, v := range releases {
		for _, list := range lists {
			p := policy.Policy{Level: policy.Encrypt, Protocols: list, Ciphers: "medium", Exclude: []string{"eNULL"}, Release: v}
			m, _ := TLSConfigFor(TLSParams{Protocols: list, Grade: "medium", Exclusions: []string{"eNULL"}, Level: policy.Encrypt, Release: v})
			d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{NoFindings: true})
			evalAborts := strings.Contains(strings.Join(d.Log, "\n"), "Invalid TLS protocol list")
			mapAborts := m.Abort != nil && strings.Contains(m.Abort.Warning, "Invalid TLS protocol list")
			assert.Equal(t, mapAborts, evalAborts, "%s at %s: handshake mapping aborts %v, evaluator %v", list, v, mapAborts, evalAborts)
		}
	}
}
