package verdict

import (
	"context"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProveConfig checks the proof of fixes made without an observation: a row Postfix
// accepts is proven; a row Postfix rejects, a row the evaluator defers for a configuration
// reason (fingerprint without match=, wrappermode below encrypt, a protocol list the
// library rejects) and an unlabelled downgrade are not.
func TestProveConfig(t *testing.T) {
	ctx := context.Background()
	pin := strings.Repeat("AB:", 31) + "AB"
	row := func(v string) finding.Fix {
		return finding.Fix{Kind: finding.FixTableRow, Table: "texthash:/etc/postfix/tls_policy", Key: "example.com", Value: v}
	}
	cases := []struct {
		name   string
		params map[string]string
		fix    finding.Fix
		want   policy.Level
		ok     bool
	}{
		{name: "secure row", fix: row("secure match=nexthop:.example.net ciphers=high"), want: policy.Secure, ok: true},
		{name: "fingerprint row with a pin", fix: row("fingerprint match=" + pin), want: policy.Fingerprint, ok: true},
		{name: "fingerprint row without match= defers", fix: row("fingerprint"), want: policy.Fingerprint},
		{name: "invalid attribute", fix: row("secure tls_connection_reuse=yes"), want: policy.Secure},
		{name: "attributes after none draw a warning", fix: row("none ciphers=high"), want: policy.None},
		{name: "unlabelled downgrade", fix: row("verify"), want: policy.Secure},
		{name: "labelled downgrade", fix: finding.Fix{Kind: finding.FixTableRow, Key: "example.com", Value: "verify", Downgrade: "trusts the MX lookup"}, want: policy.Secure, ok: true},
		{name: "wrappermode below encrypt defers", params: map[string]string{"smtp_tls_wrappermode": "yes"}, fix: row("may"), want: policy.May},
		{name: "a match list that installs no name", fix: row("secure match=:"), want: policy.Secure},
		{name: "dane-only without dnssec lookups is invalid", fix: row("dane-only"), want: policy.DaneOnly},
		{name: "main.cf fix that makes dane work", params: map[string]string{"smtp_tls_security_level": "dane"},
			fix: finding.Fix{Kind: finding.FixMainCF, Key: "smtp_dns_support_level", Value: "dnssec"}, want: policy.Dane, ok: true},
		{name: "main.cf fix that leaves dane inert", params: map[string]string{"smtp_tls_security_level": "dane"},
			fix: finding.Fix{Kind: finding.FixMainCF, Key: "smtp_dns_support_level", Value: "enabled"}, want: policy.Dane},
		{name: "unknown digest: the engine cannot start", params: map[string]string{"smtp_tls_security_level": "encrypt"},
			fix: finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_fingerprint_digest", Value: "sha3"}},
		{name: "receiver side", fix: finding.Fix{Kind: finding.FixDNSRecord, Key: "_25._tcp.example.com", ReceiverSide: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := policy.NewSettings(policy.V(3, 7, 11), c.params)
			require.NoError(t, err)
			hop, err := policy.ParseNextHop(policy.SMTP, "example.com", policy.NextHopOptions{DefaultService: "smtp"})
			require.NoError(t, err)
			rt := policy.Route{Destination: "example.com", Transport: "smtp", Client: policy.SMTP, Nexthop: "example.com"}
			p, err := s.PolicyFor(ctx, rt, hop, "")
			require.NoError(t, err)
			fx := c.fix
			_, err = ProveConfig(ctx, p, hop, &fx, c.want)
			if c.ok {
				assert.NoError(t, err)
				assert.Contains(t, fx.Proven, "Postfix 3.7.11 accepts it")
			} else {
				assert.Error(t, err)
			}
		})
	}
}
