package dnssec

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/dnskit"
)

// TestIntegrationRealDNS runs Client against a real nsd serving a signed zone, an unsigned
// child and a bogus child, behind a real validating unbound (dnskit), and checks that
// MockResolver, given the same records and zone statuses, answers the same way.
func TestIntegrationRealDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	zone := []string{
		"example.test. 300 IN MX 10 mx.test.",
		"mx.test. 300 IN A 127.0.0.10",
		"_25._tcp.mx.test. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"alias.test. 300 IN CNAME mx.test.",
		"toinsecure.test. 300 IN CNAME mx.insecure.test.",
		"insecure.test. 300 IN MX 10 mx.insecure.test.",
		"mx.insecure.test. 300 IN A 127.0.0.16",
		"bogus.test. 300 IN MX 10 mx.bogus.test.",
		"mx.bogus.test. 300 IN A 127.0.0.17",
	}
	var big []string
	for i := range 4 {
		// Four 600-octet records: more than a 512-octet UDP answer holds.
		big = append(big, fmt.Sprintf("_25._tcp.big.test. 300 IN TLSA 3 0 0 %0600x%02x", 0, i))
	}
	zone = append(zone, big...)
	srv := dnskit.Start(t, dnskit.Config{Records: zone})
	client := &Client{Servers: []string{srv.Resolver}, Timeout: 3 * time.Second}
	mock := new(MockResolver).MustAdd(zone...)
	mock.SetSecurity(dnskit.InsecureZone, Insecure)
	mock.SetSecurity(dnskit.BogusZone, Bogus)

	cases := []struct {
		name      string
		qname     string
		qtype     uint16
		err       error
		authentic bool
		records   int
		hops      int
	}{
		{"signed zone: AD from a loopback resolver is believed", "example.test", dns.TypeMX, nil, true, 1, 0},
		{"signed TLSA RRset", "_25._tcp.mx.test", dns.TypeTLSA, nil, true, 1, 0},
		{"CNAME chain inside the signed zone", "alias.test", dns.TypeA, nil, true, 1, 1},
		{"CNAME into the unsigned child: not authentic", "toinsecure.test", dns.TypeA, nil, false, 1, 1},
		{"unsigned child: no AD", "insecure.test", dns.TypeMX, nil, false, 1, 0},
		{"bogus child: SERVFAIL", "bogus.test", dns.TypeMX, ErrServFail, false, 0, 0},
		{"bogus child, any name: SERVFAIL", "mx.bogus.test", dns.TypeA, ErrServFail, false, 0, 0},
		{"validated NODATA", "mx.test", dns.TypeAAAA, ErrNoData, true, 0, 0},
		{"validated NXDOMAIN", "gone.test", dns.TypeA, ErrNXDomain, true, 0, 0},
		{"unvalidated NXDOMAIN in the unsigned child", "gone.insecure.test", dns.TypeA, ErrNXDomain, false, 0, 0},
	}
	for _, c := range cases {
		for _, r := range []struct {
			name string
			r    Resolver
		}{{"Client", client}, {"MockResolver", mock}} {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ans, err := r.r.Lookup(ctx, c.qname, c.qtype)
				if c.err != nil {
					require.ErrorIs(t, err, c.err)
					var le *LookupError
					require.ErrorAs(t, err, &le)
					if le.NotFound() {
						assert.Equal(t, c.authentic, le.Authentic, "denial authenticity")
						require.NotNil(t, ans)
					} else {
						assert.Nil(t, ans)
					}
					return
				}
				require.NoError(t, err)
				assert.Equal(t, c.authentic, ans.Authentic, "authentic")
				assert.Len(t, ans.Records, c.records)
				assert.Len(t, ans.CNAMEs, c.hops)
			})
		}
	}

	t.Run("truncated TLSA answer needs TCP", func(t *testing.T) {
		small := &Client{Servers: []string{srv.Resolver}, UDPSize: 512, Timeout: 3 * time.Second}
		ans, err := small.Lookup(context.Background(), "_25._tcp.big.test", dns.TypeTLSA)
		require.NoError(t, err)
		assert.True(t, ans.UsedTCP)
		assert.Len(t, ans.Records, 4)
		assert.True(t, ans.Authentic)
	})

	t.Run("TrustADNever makes every answer insecure", func(t *testing.T) {
		never := &Client{Servers: []string{srv.Resolver}, TrustAD: TrustADNever, Timeout: 3 * time.Second}
		ans, err := never.Lookup(context.Background(), "example.test", dns.TypeMX)
		require.NoError(t, err)
		assert.False(t, ans.Authentic)
	})
}
