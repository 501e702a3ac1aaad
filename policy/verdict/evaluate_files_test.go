package verdict_test

import (
	"context"
	"os"
	"testing"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// TestEvaluateFromFiles is the offline check from files: a PEM chain and TLSA text
// (testdata/eval/fastmail, valid until 2125), the CAfile loaded through LoadTrust, and the
// fastmail.fm policy computed by Settings for Postfix 3.7.11.
func TestEvaluateFromFiles(t *testing.T) {
	ctx := context.Background()
	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{
		"compatibility_level":     "3.7",
		"smtp_tls_security_level": "may",
		"smtp_tls_CAfile":         "/fastmail/cafile.pem",
		"smtp_dns_support_level":  "dnssec",
		"smtp_tls_policy_maps":    "inline:{{fastmail.fm = secure}}",
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Resolve(ctx, "user@fastmail.fm")
	if err != nil {
		t.Fatal(err)
	}
	hop := res.Hops[0]
	p, err := s.PolicyFor(ctx, res.Route, hop.NextHop, "in1-smtp.messagingengine.com")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verdict.LoadTrust(ctx, os.DirFS("testdata/eval"), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := os.Open("testdata/eval/fastmail/chain.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	tlsa, err := os.Open("testdata/eval/fastmail/tlsa.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer tlsa.Close()
	obs, err := verdict.ObservationFromFiles(verdict.ObservationFiles{Host: "in1-smtp.messagingengine.com", Addr: "192.0.2.10", Chain: chain, TLSA: tlsa})
	if err != nil {
		t.Fatal(err)
	}
	d := verdict.Evaluate(p, hop.NextHop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: trust})
	if d.Outcome != verdict.OutcomeDefer || d.Reason != verdict.ReasonNotVerified || d.Trust != verdict.TrustUntrusted {
		t.Fatalf("B-1 fastmail.fm secure: %+v", d)
	}
	if len(d.Findings) == 0 || d.Findings[0].Code != finding.SecureNexthopMismatch || d.Findings[0].Fixes[0] != "fastmail.fm secure match=.messagingengine.com" {
		t.Fatalf("findings %+v", d.Findings)
	}
	hasDane := false
	for _, f := range d.Findings[0].Fixes {
		hasDane = hasDane || f == "fastmail.fm dane"
	}
	if !hasDane {
		t.Errorf("TLSA records published, but no dane fix: %q", d.Findings[0].Fixes)
	}
	// The same observation under dane: the 3 1 1 record matches.
	p.Level = policy.Dane
	p.DANE = &policy.DANEConfig{InsecureMXPolicy: "dane", Digests: []string{"sha512", "sha256"}}
	if d := verdict.Evaluate(p, hop.NextHop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: trust}); d.Outcome != verdict.OutcomeDeliver || d.Trust != verdict.TrustVerified {
		t.Errorf("dane: %+v", d)
	}
}
