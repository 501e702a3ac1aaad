package verdict_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// resolveFirst loads main.cf parameters and returns the first next hop's policy.
func resolveFirst(t *testing.T, v policy.Version, params map[string]string) policy.Hop {
	t.Helper()
	s, err := policy.NewSettings(v, params)
	require.NoError(t, err)
	res, err := s.Resolve(context.Background(), "example.com")
	require.NoError(t, err)
	require.NotEmpty(t, res.Hops)
	return res.Hops[0]
}

// §3.3 (smtp_trouble.c, smtp_tls_sess_fallback): at may a failed handshake falls back to
// plaintext once the message is minimal_backoff_time old — main.cf's value, not 300s, and
// read through the policy, so live and offline checks honour it.
func TestMinimalBackoffFromMainCF(t *testing.T) {
	hop := resolveFirst(t, policy.V(3, 7, 11), map[string]string{"smtp_tls_security_level": "may", "minimal_backoff_time": "1m"})
	require.Equal(t, time.Minute, hop.Policy.MinimalBackoff)
	obs := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.10", STARTTLSOffered: true,
		HandshakeError: "remote error: tls: handshake failure", MessageAge: 90 * time.Second}
	d := verdict.Evaluate(hop.Policy, hop.NextHop, obs, verdict.EvalOptions{})
	assert.Equal(t, verdict.OutcomePlaintextRetry, d.Outcome, "90 s is older than minimal_backoff_time = 1m")
	obs.MessageAge = 30 * time.Second
	d = verdict.Evaluate(hop.Policy, hop.NextHop, obs, verdict.EvalOptions{})
	assert.Equal(t, verdict.OutcomeDefer, d.Outcome, "30 s is younger than minimal_backoff_time = 1m")

	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{"minimal_backoff_time": "5x"})
	require.NoError(t, err)
	_, err = s.Resolve(context.Background(), "example.com")
	require.ErrorIs(t, err, policy.ErrConfig, "a bad time value stops Postfix")
	assert.Contains(t, err.Error(), "parameter minimal_backoff_time: bad time value or unit: 5x")
}

// tls_wildcard_matches_multiple_labels = no reaches the evaluator through the policy, with
// the release the settings emulate.
func TestWildcardAndReleaseFromSettings(t *testing.T) {
	hop := resolveFirst(t, policy.V(3, 5, 25), map[string]string{"smtp_tls_security_level": "may", "tls_wildcard_matches_multiple_labels": "no"})
	assert.True(t, hop.Policy.SingleLabelWildcards)
	assert.Equal(t, policy.V(3, 5, 25), hop.Policy.Release)
	hop = resolveFirst(t, policy.V(3, 5, 25), map[string]string{"smtp_tls_security_level": "may"})
	assert.False(t, hop.Policy.SingleLabelWildcards, "the default is yes")
	s, err := policy.NewSettings(policy.V(3, 5, 25), map[string]string{"tls_wildcard_matches_multiple_labels": "true"})
	require.NoError(t, err)
	_, err = s.Resolve(context.Background(), "example.com")
	require.ErrorIs(t, err, policy.ErrConfig, "mail_conf_bool: only yes and no")
}

// The zero Policy is a valid policy at level none: Postfix sends in plaintext.
func TestZeroPolicyIsUsable(t *testing.T) {
	d := verdict.Evaluate(policy.Policy{}, policy.NextHop{Domain: "example.com", Port: 25},
		verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.10", STARTTLSOffered: true}, verdict.EvalOptions{})
	assert.Equal(t, verdict.OutcomeDeliver, d.Outcome)
	assert.False(t, d.TLS)
}

// A configuration Postfix refuses to run with: the policy returned beside the error is
// invalid, so judging it anyway defers instead of delivering (fail closed).
func TestErrorPolicyFailsClosed(t *testing.T) {
	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{"smtp_tls_security_level": "bogus"})
	require.NoError(t, err)
	res, err := s.Route(context.Background(), "user@example.com")
	require.NoError(t, err)
	hop, err := policy.ParseNextHop(policy.SMTP, "example.com", policy.NextHopOptions{DefaultService: "smtp", DNS: true})
	require.NoError(t, err)
	p, err := s.PolicyFor(context.Background(), *res, hop, "mx.example.com")
	require.Error(t, err)
	d := verdict.Evaluate(p, hop, verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.10"}, verdict.EvalOptions{})
	assert.Equal(t, verdict.OutcomeDefer, d.Outcome)
}
