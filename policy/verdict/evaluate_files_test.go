package verdict_test

import (
	"testing"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// TestEvaluateFromFiles is the offline check from files: a PEM chain and TLSA text
// (testdata/eval/fastmail, valid until 2125), the CAfile loaded through LoadTrust, and the
// fastmail.fm policy computed by Settings for Postfix 3.7.11.
func TestEvaluateFromFiles(t *testing.T) {
	c := fastmailCase(t, policy.V(3, 7, 11), "fastmail.fm = secure", true)
	d, p, hop, obs, trust := c.d, c.p, c.hop, c.obs, c.trust
	if d.Outcome != verdict.OutcomeDefer || d.Reason != verdict.ReasonNotVerified || d.Trust != verdict.TrustUntrusted {
		t.Fatalf("B-1 fastmail.fm secure: %+v", d)
	}
	if len(d.Findings) == 0 || d.Findings[0].Code != finding.SecureNexthopMismatch || len(d.Findings[0].Fixes) == 0 || d.Findings[0].Fixes[0].String() != "fastmail.fm secure match=.messagingengine.com" {
		t.Fatalf("findings %+v", d.Findings)
	}
	hasDane := false
	for _, f := range d.Findings[0].Fixes {
		hasDane = hasDane || f.String() == "fastmail.fm dane"
	}
	if !hasDane {
		t.Errorf("TLSA records published, but no dane fix: %q", d.Findings[0].Fixes)
	}
	// The same observation under dane: the 3 1 1 record matches.
	p.Level = policy.Dane
	p.DANE = &policy.DANEConfig{InsecureMXPolicy: "dane", Digests: []string{"sha512", "sha256"}}
	if d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: trust}); d.Outcome != verdict.OutcomeDeliver || d.Trust != verdict.TrustVerified {
		t.Errorf("dane: %+v", d)
	}
}
