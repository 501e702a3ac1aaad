package verdict

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/match"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// ProveConfig is the proof a fix gets when no server has been observed (lint's advice,
// made before any mail is sent). The configuration is changed as fx says, with the
// mechanism Diagnose proves its fixes with (policy.Policy.With: p is the policy the next
// hop hop gets now, from Settings.PolicyFor or Resolve), the policy for hop is computed
// again, and it is judged by Evaluate against a server that offers STARTTLS (the session
// itself is not known). The fix is proven when:
//
//   - Postfix accepts the configuration: the policy is valid (no "invalid TLS policy"
//     warning, no attribute the release rejects, no level whose inputs are missing, such
//     as fingerprint without any fingerprint), and a table row the fix writes is the row
//     that decides, without warnings of its own;
//   - the evaluator does not defer for a configuration reason, whatever the server sends:
//     an invalid policy, smtp_tls_wrappermode below encrypt, a TLS engine that cannot
//     start, protocols or ciphers the TLS library rejects, a verify or secure match list
//     that installs no usable name;
//   - the level is not below want (the level the administrator's configuration gives now;
//     LevelNotSet: no bound) unless fx.Downgrade says what is given up.
//
// On success fx.Proven says so and the policy after the fix is returned; otherwise the
// error says why the fix is not shown.
func ProveConfig(ctx context.Context, p policy.Policy, hop policy.NextHop, fx *finding.Fix, want policy.Level) (policy.Policy, error) {
	if fx.ReceiverSide {
		return policy.Policy{}, errors.New("a change of the receiving side cannot be proven without an observation")
	}
	p2, err := p.With(ctx, hop, *fx)
	if err != nil {
		return p2, err
	}
	v := p2.Release.OrLatest()
	if p2.Invalid {
		return p2, fmt.Errorf("invalid policy for %s as Postfix %s computes it (%s)", hop.Key, v, strings.Join(p2.Warnings, "; "))
	}
	if fx.Kind == finding.FixTableRow && !fx.Delete {
		if p2.Source.Kind != policy.FromPolicyTable || p2.Source.Note != policy.FixNote {
			return p2, fmt.Errorf("the row %s does not decide the policy for %s (%s does)", fx.Key, hop.Key, p2.Source)
		}
		if p2.Entry != nil && len(p2.Entry.Warnings) > 0 {
			return p2, fmt.Errorf("the row draws warnings from Postfix %s: %s", v, strings.Join(p2.Entry.Warnings, "; "))
		}
	}
	obs := Observation{Host: hop.Domain, STARTTLSOffered: true}
	d := Evaluate(p2, hop, obs, EvalOptions{Version: v, NoFindings: true, TLSEngineUnavailable: len(p2.EngineUnavailable) > 0})
	if configCause(d.Cause) {
		return p2, fmt.Errorf("mail for %s would defer in Postfix %s: %s", hop.Key, v, d.Reason)
	}
	if p2.Level == policy.Verify || p2.Level == policy.Secure {
		// A match list that installs no name fails every verification ("could not
		// configure peer name checks", §4.1), whatever the server sends.
		e := newEvaluator(p2, hop, obs, EvalOptions{Version: v})
		if refs, _ := match.References(p2.Match, hop.Domain, obs.Host, e.matchOptions()); refs.MustFail {
			return p2, fmt.Errorf("the match list %q installs no usable name for %s", strings.Join(p2.Match, ":"), hop.Key)
		}
	}
	if want != policy.LevelNotSet && p2.Level < want && fx.Downgrade == "" {
		return p2, fmt.Errorf("the fix lowers the level for %s from %s to %s", hop.Key, want, p2.Level)
	}
	fx.Proven = fmt.Sprintf("Postfix %s accepts it: %s gets level %s; no server was observed, so check the delivery after the change", v, hop.Key, p2.Level)
	return p2, nil
}

// configCause reports whether a cause is the configuration's own, decided before the
// server's answers matter (§1.4, §2.4, §7).
func configCause(c Cause) bool {
	switch c {
	case CauseInvalidPolicy, CauseWrapperModeLevel, CauseTLSEngine, CauseProtocols, CauseCiphers:
		return true
	}
	return false
}

// Effect is what a configuration gives a next hop, for telling apart fixes that differ
// only in how they are written (two rows with one effect are one fix): the level and the
// settings the handshake and the verification use.
func Effect(p policy.Policy) string {
	return fmt.Sprintf("%v|%v|%s|%s|%s|%s|%s|%s|%v|%v|%v|%s", p.Invalid, p.Level, strings.Join(p.Match, ":"), p.Ciphers,
		strings.Join(p.Exclude, ":"), p.Protocols, strings.Join(p.TrustAnchorFiles, ":"), p.ServerName,
		p.ConnectionReuse, p.EnableRPK, p.WrapperMode, p.FingerprintDigest)
}
