package dnssec

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ Resolver = (*MockResolver)(nil)

func TestMockResolverZeroValue(t *testing.T) {
	var r MockResolver
	ans, err := r.Lookup(context.Background(), "example.com", dns.TypeMX)
	require.ErrorIs(t, err, ErrNXDomain)
	var le *LookupError
	require.ErrorAs(t, err, &le)
	assert.True(t, le.Authentic, "a validated denial")
	assert.Equal(t, dns.RcodeNameError, le.Rcode)
	require.NotNil(t, ans, "NXDOMAIN comes with its answer")
	assert.Equal(t, "example.com.", ans.QName)
	assert.Equal(t, []string{"example.com. MX"}, r.Queries())
}

func TestMockResolverAnswers(t *testing.T) {
	ctx := context.Background()
	r := new(MockResolver).MustAdd(
		"mx.example.com. 300 IN A 192.0.2.10",
		"mx.example.com. 300 IN A 192.0.2.11",
		"alias.example.com. 300 IN CNAME mx.example.com.",
		"alias2.example.net. 300 IN CNAME ALIAS.example.com.",
		"_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 00ff",
		"loop1.example.com. 300 IN CNAME loop2.example.com.",
		"loop2.example.com. 300 IN CNAME loop1.example.com.",
	)

	ans, err := r.Lookup(ctx, "MX.example.com", dns.TypeA)
	require.NoError(t, err)
	assert.Len(t, ans.Records, 2)
	assert.True(t, ans.Authentic)
	assert.Equal(t, 1, ans.Exchanges)

	ans, err = r.Lookup(ctx, "alias2.example.net.", dns.TypeA)
	require.NoError(t, err, "CNAME chains are followed, names compared without case")
	assert.Equal(t, "mx.example.com.", ans.Name)
	assert.Equal(t, []Hop{{"alias2.example.net.", "ALIAS.example.com.", true}, {"ALIAS.example.com.", "mx.example.com.", true}}, ans.CNAMEs)

	ans, err = r.Lookup(ctx, "alias.example.com", dns.TypeCNAME)
	require.NoError(t, err, "a CNAME query returns the CNAME itself")
	require.Len(t, ans.Records, 1)
	assert.Equal(t, "mx.example.com.", ans.Records[0].(*dns.CNAME).Target)

	ans, err = r.Lookup(ctx, "mx.example.com", dns.TypeAAAA)
	require.ErrorIs(t, err, ErrNoData, "the name exists")
	assert.True(t, IsNotFound(err))
	assert.NotNil(t, ans)

	_, err = r.Lookup(ctx, "_tcp.mx.example.com", dns.TypeTLSA)
	require.ErrorIs(t, err, ErrNoData, "an empty non-terminal exists (RFC 8020)")

	_, err = r.Lookup(ctx, "mx.example.com", dns.TypeCNAME)
	require.ErrorIs(t, err, ErrNoData)

	_, err = r.Lookup(ctx, "none.example.com", dns.TypeCNAME)
	require.ErrorIs(t, err, ErrNXDomain)

	_, err = r.Lookup(ctx, "loop1.example.com", dns.TypeA)
	require.ErrorIs(t, err, ErrCNAMELoop)
	assert.False(t, IsNotFound(err))

	_, err = r.Lookup(ctx, strings.Repeat("a", 64)+".example.com", dns.TypeA)
	require.ErrorIs(t, err, ErrBadName)

	// Returned records are copies.
	ans, err = r.Lookup(ctx, "mx.example.com", dns.TypeA)
	require.NoError(t, err)
	ans.Records[0].(*dns.A).A[3] = 99
	ans, err = r.Lookup(ctx, "mx.example.com", dns.TypeA)
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.10", ans.Records[0].(*dns.A).A.String())
}

func TestMockResolverCNAMEChainTooLong(t *testing.T) {
	r := new(MockResolver)
	for i := 0; i <= maxHops; i++ {
		r.MustAdd(fmt.Sprintf("a%d.example. 300 IN CNAME a%d.example.", i, i+1))
	}
	r.MustAdd(fmt.Sprintf("a%d.example. 300 IN A 192.0.2.1", maxHops+1))
	_, err := r.Lookup(context.Background(), "a0.example", dns.TypeA)
	require.ErrorIs(t, err, ErrCNAMEChain)
}

func TestMockResolverSecurity(t *testing.T) {
	ctx := context.Background()
	r := new(MockResolver).MustAdd(
		"mx.example.com. 300 IN A 192.0.2.10",
		"mx.insecure.example.com. 300 IN A 192.0.2.11",
		"signed.insecure.example.com. 300 IN A 192.0.2.12",
		"mx.bogus.example.com. 300 IN A 192.0.2.13",
		"alias.example.com. 300 IN CNAME mx.insecure.example.com.",
		"alias.insecure.example.com. 300 IN CNAME mx.example.com.",
	)
	r.SetSecurity("insecure.example.com", Insecure)
	r.SetSecurity("signed.insecure.example.com.", Secure)
	r.SetSecurity("BOGUS.example.com", Bogus)

	cases := []struct {
		name      string
		authentic bool
		err       error
	}{
		{"mx.example.com", true, nil},
		{"mx.insecure.example.com", false, nil},
		{"signed.insecure.example.com", true, nil},
		{"mx.bogus.example.com", false, ErrServFail},
		{"alias.example.com", false, nil},
		{"alias.insecure.example.com", false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ans, err := r.Lookup(ctx, c.name, dns.TypeA)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				assert.Nil(t, ans, "a validating resolver gives no data for a bogus name")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.authentic, ans.Authentic)
		})
	}

	ans, err := r.Lookup(ctx, "alias.insecure.example.com", dns.TypeA)
	require.NoError(t, err)
	assert.False(t, ans.CNAMEs[0].Authentic, "the hop is owned by the insecure zone")

	_, err = r.Lookup(ctx, "gone.insecure.example.com", dns.TypeA)
	var le *LookupError
	require.ErrorAs(t, err, &le)
	assert.True(t, le.NotFound())
	assert.False(t, le.Authentic, "an unvalidated denial")

	r.SetSecurity(".", Insecure)
	ans, err = r.Lookup(ctx, "mx.example.com", dns.TypeA)
	require.NoError(t, err)
	assert.False(t, ans.Authentic, "the root's status is every name's default")
}

func TestMockResolverFail(t *testing.T) {
	ctx := context.Background()
	r := new(MockResolver).MustAdd("mx.example.com. 300 IN A 192.0.2.10", "alias.example.com. 300 IN CNAME mx.example.com.")
	cases := []struct {
		err    error
		rcode  int
		answer bool
		text   string
	}{
		{ErrServFail, dns.RcodeServerFailure, false, "Host not found, try again"},
		{ErrTimeout, -1, false, "Host not found, try again"},
		{ErrRefused, dns.RcodeRefused, false, "Non-recoverable error"},
		{ErrNXDomain, dns.RcodeNameError, true, "Host not found"},
		{ErrNoData, dns.RcodeSuccess, true, "Host found but no data record of requested type"},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			r.Fail("mx.example.com", dns.TypeA, c.err)
			defer r.Fail("mx.example.com", dns.TypeA, nil)
			ans, err := r.Lookup(ctx, "alias.example.com", dns.TypeA)
			require.ErrorIs(t, err, c.err, "also when reached through a CNAME")
			var le *LookupError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, c.rcode, le.Rcode)
			assert.Equal(t, "mx.example.com", strings.TrimSuffix(le.Name, "."))
			assert.Equal(t, c.answer, ans != nil)
			assert.True(t, strings.HasSuffix(err.Error(), c.text), err.Error())

			_, err = r.Lookup(ctx, "mx.example.com", dns.TypeAAAA)
			require.ErrorIs(t, err, ErrNoData, "other types are not affected")
		})
	}
	_, err := r.Lookup(ctx, "mx.example.com", dns.TypeA)
	require.NoError(t, err, "Fail(..., nil) removes the failure")

	r.Fail("mx.example.com", dns.TypeNone, ErrServFail)
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTLSA} {
		_, err := r.Lookup(ctx, "mx.example.com", qt)
		require.ErrorIs(t, err, ErrServFail, "TypeNone fails every type")
	}
}

func TestMockResolverContext(t *testing.T) {
	r := new(MockResolver).MustAdd("mx.example.com. 300 IN A 192.0.2.10")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Lookup(ctx, "mx.example.com", dns.TypeA)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.Canceled)
}

func TestMockResolverAddError(t *testing.T) {
	r := new(MockResolver)
	require.Error(t, r.Add("mx.example.com. 300 IN A 192.0.2.10", "not a record"))
	_, err := r.Lookup(context.Background(), "mx.example.com", dns.TypeA)
	require.ErrorIs(t, err, ErrNXDomain, "nothing added")
	require.Panics(t, func() { r.MustAdd("x. IN A nope") })
}

// TestMockResolverConcurrent is for the race detector: lookups, additions and status changes
// from many goroutines.
func TestMockResolverConcurrent(t *testing.T) {
	r := new(MockResolver)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("mx%d.example.com.", i)
			r.MustAdd(name + " 300 IN A 192.0.2.1")
			r.SetSecurity(name, Insecure)
			r.Fail("other.example.com", dns.TypeA, ErrServFail)
			for range 20 {
				ans, err := r.Lookup(context.Background(), name, dns.TypeA)
				assert.NoError(t, err)
				assert.False(t, ans.Authentic)
			}
			_ = r.Queries()
		}()
	}
	wg.Wait()
	assert.Len(t, r.Queries(), 8*20)
}
