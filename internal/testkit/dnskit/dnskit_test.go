package dnskit

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

func query(t *testing.T, s *Server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, _, err := (&dns.Client{Timeout: 3 * time.Second}).ExchangeContext(ctx, m, s.Resolver)
	require.NoError(t, err, "%s %s", name, dns.TypeToString[qtype])
	return r
}

func TestZones(t *testing.T) {
	s := Start(t, Config{Records: []string{
		"mx IN A 127.0.0.2",
		"mx.insecure.test. IN A 127.0.0.3",
		"mx.bogus.test. IN A 127.0.0.4",
	}})
	cases := []struct {
		name          string
		qname         string
		rcode         int
		authenticated bool
	}{
		{"signed zone validates (AD set)", "mx.test.", dns.RcodeSuccess, true},
		{"unsigned child is insecure (no AD)", "mx.insecure.test.", dns.RcodeSuccess, false},
		{"child with unrelated DS is bogus (SERVFAIL)", "mx.bogus.test.", dns.RcodeServerFailure, false},
		{"names outside test. are refused, never sent off the host", "example.com.", dns.RcodeRefused, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := query(t, s, c.qname, dns.TypeA)
			require.Equal(t, dns.RcodeToString[c.rcode], dns.RcodeToString[r.Rcode], "rcode")
			require.Equal(t, c.authenticated, r.AuthenticatedData, "AD bit")
		})
	}
}

func TestBadRecordIsConfigError(t *testing.T) {
	if err := Missing(); err != nil {
		unavailable(t, err) // t.Fatal when CI=true, else t.Skip naming the packages
	}
	_, err := start(t, Config{Records: []string{"www.example.com. IN A 127.0.0.1"}})
	require.Error(t, err, "record outside test. accepted")
}
