package verdict_test

import (
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy"
)

// FuzzEvaluate judges one fixed chain under arbitrary policy values (level, match list,
// protocols, ciphers, exclusions, TLSA text, versions): Evaluate must never panic and must
// always give an outcome and, for failures, a reason.
func FuzzEvaluate(f *testing.F) {
	h, _ := pki.NewHierarchy()
	leaf, _ := pki.New(pki.Spec{CN: []string{"mx.example.com"}, DNS: []string{"mx.example.com", "*.example.com"}}, h.Inter)
	f.Add(8, "nexthop:dot-nexthop", ">=TLSv1", "medium", "", "3 1 1 00", 3, 7, 11)
	f.Add(3, "AA:BB|zz", "!SSLv2", "high", "RC4", "", 3, 5, 0)
	f.Add(5, ".", "<=0x303", "null", "!x", "2 0 1 ab", 3, 11, 0)
	f.Add(6, "[192.0.2.1]:.example.com", "TLSv1.4", "bogus", "", "1 1 1 ab\n3 1 255 00", 2, 11, 0)
	f.Fuzz(func(t *testing.T, level int, match, protocols, ciphers, exclude, tlsa string, major, minor, patch int) {
		p := policy.Policy{Level: policy.Level(level%11 - 1), Invalid: level%13 == 0, Match: strings.Split(match, ":"), MatchFrom: policy.MatchFromEntry,
			Protocols: protocols, Ciphers: ciphers, FingerprintDigest: "sha256", DANE: &policy.DANEConfig{InsecureMXPolicy: "dane"}}
		if exclude != "" {
			p.Exclude = []string{exclude}
		}
		obs := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.1", HaveMX: level%2 == 0, MXSecure: level%3 == 0, AddrSecure: true,
			STARTTLSOffered: level%5 != 0, Chain: verdict.Chain{leaf.Cert, h.Inter.Cert},
			TLSA: &verdict.TLSAObservation{Records: strings.Split(tlsa, "\n")}}
		hop := policy.NextHop{Key: "example.com", Domain: "example.com", Port: 25, MX: true}
		v := policy.V(major%4, minor%13, patch%20)
		d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{Version: v})
		if d.Outcome == "" || (d.Outcome != verdict.OutcomeDeliver && d.Reason == "") {
			t.Fatalf("no outcome or reason: %+v", d)
		}
	})
}
