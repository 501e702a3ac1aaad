package policy

import (
	"context"
	"testing"

	"github.com/postfixtls/postfixtls/policy/finding"

	"github.com/stretchr/testify/require"
)

func TestConfigFindings(t *testing.T) {
	cases := []struct {
		name  string
		main  string
		table string
		dest  string
		code  finding.Code
		fix   string
	}{
		{"E-4 §9.22 [host] row for a [host]:587 relayhost", "relayhost = [smtp.example.net]:587\n", "[smtp.example.net] secure\n",
			"user@example.com", finding.PolicyKeyMismatch, "[smtp.example.net]:587 secure"},
		{"E-4 §2.1 recipient-domain row when a relayhost decides the next hop", "relayhost = [smtp.example.net]\n", "example.com encrypt\n",
			"user@example.com", finding.PolicyKeyMismatch, "[smtp.example.net] encrypt"},
		{"E-4 §9.21 bare key does not cover subdomains", "", "example.com secure\n",
			"user@sub.example.com", finding.BareKeySubdomain, ".example.com secure"},
		{"E-5 legacy booleans decide", "smtp_tls_security_level =\nsmtp_enforce_tls = yes\n", "other.example none\n",
			"user@example.com", finding.LegacyTLSParameters, "smtp_tls_security_level = verify"},
		{"E-5 smtpd_ parameter set instead of smtp_", "smtp_tls_security_level =\nsmtpd_tls_security_level = encrypt\n", "other.example none\n",
			"user@example.com", finding.ServerSideParameter, "smtp_tls_security_level = encrypt"},
		{"E-5 duplicated parameter", "smtp_tls_CAfile = /a\nsmtp_tls_CAfile = /b\n", "other.example none\n",
			"user@example.com", finding.DuplicateParameter, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			main := "compatibility_level = 3.6\nsmtp_tls_security_level = may\nsmtp_tls_policy_maps = texthash:{{dir}}/tls_policy\n" + c.main
			s := world(t, V(3, 7, 11), main, map[string]string{"tls_policy": c.table})
			r, err := s.Resolve(context.Background(), c.dest)
			require.NoError(t, err)
			fs := s.ConfigFindings(context.Background(), r)
			var got *finding.Finding
			for i := range fs {
				if fs[i].Code == c.code {
					got = &fs[i]
				}
			}
			require.NotNil(t, got, "findings: %+v", fs)
			if c.fix != "" {
				require.Contains(t, got.FixLines(), c.fix)
			}
		})
	}
	// A row that matches produces no key finding.
	s := world(t, V(3, 7, 11), "smtp_tls_policy_maps = texthash:{{dir}}/tls_policy\nsmtp_tls_security_level = may\n", map[string]string{"tls_policy": "example.com secure\n"})
	r, err := s.Resolve(context.Background(), "user@example.com")
	require.NoError(t, err)
	require.Empty(t, s.ConfigFindings(context.Background(), r))
}
