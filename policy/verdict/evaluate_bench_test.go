package verdict_test

import (
	"testing"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
)

// BenchmarkEvaluateVerify measures one verify-level decision (PKIX chain of three against
// one root, then the name check), without findings, as a live check makes it per server.
func BenchmarkEvaluateVerify(b *testing.B) {
	f := newFixture(b)
	p := pol(policy.Verify, "hostname")
	obs := obsTLS("mx.example.com", f.chain(f.mx))
	opt := verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: f.trust, NoFindings: true}
	b.ReportAllocs()
	for b.Loop() {
		if d := verdict.Evaluate(p, f.hop, obs, opt); d.Outcome != verdict.OutcomeDeliver {
			b.Fatal(d.Reason)
		}
	}
}

// BenchmarkEvaluateVerifyCached is the same with a SignatureCache (the same chain judged
// again, e.g. another address of the host or another policy).
func BenchmarkEvaluateVerifyCached(b *testing.B) {
	f := newFixture(b)
	p := pol(policy.Verify, "hostname")
	obs := obsTLS("mx.example.com", f.chain(f.mx))
	opt := verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: f.trust, NoFindings: true, ChainCache: &verdict.SignatureCache{}}
	b.ReportAllocs()
	for b.Loop() {
		if d := verdict.Evaluate(p, f.hop, obs, opt); d.Outcome != verdict.OutcomeDeliver {
			b.Fatal(d.Reason)
		}
	}
}

// BenchmarkEvaluateSecureMismatchWithFindings measures a failing secure decision including
// the findings (which re-evaluate alternative policies).
func BenchmarkEvaluateSecureMismatchWithFindings(b *testing.B) {
	f := newFixture(b)
	p := pol(policy.Secure, "nexthop", "dot-nexthop")
	obs := obsTLS("in1-smtp.messagingengine.com", f.chain(f.fastmail))
	opt := verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: f.trust}
	b.ReportAllocs()
	for b.Loop() {
		if d := verdict.Evaluate(p, f.fmHop, obs, opt); len(d.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
