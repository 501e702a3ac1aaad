package dnssec

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupMX(t *testing.T) {
	ctx := context.Background()
	f := new(MockResolver).MustAdd("example.com. 300 IN MX 20 b.example.com.", "example.com. 300 IN MX 10 a.example.com.",
		"nomx.example.net. 300 IN A 192.0.2.1", "null.example.net. 300 IN MX 0 .", "bogus.example.net. 300 IN MX 10 mx.example.net.")
	f.SetSecurity("example.com", Insecure)
	f.SetSecurity("bogus.example.net", Bogus)

	mx, err := LookupMX(ctx, f, "example.com")
	require.NoError(t, err)
	assert.False(t, mx.Authentic, "insecure zone")
	assert.Equal(t, []MXHost{{10, "a.example.com."}, {20, "b.example.com."}}, mx.Hosts, "sorted by preference")

	mx, err = LookupMX(ctx, f, "nomx.example.net")
	require.NoError(t, err, "§6.2 no MX (A fallback)")
	assert.True(t, mx.NoMX)
	assert.True(t, mx.Authentic, "validated NODATA")

	mx, err = LookupMX(ctx, f, "null.example.net")
	require.NoError(t, err)
	assert.True(t, mx.NullMX)

	_, err = LookupMX(ctx, f, "gone.example.net")
	require.ErrorIs(t, err, ErrNXDomain)
	assert.True(t, IsNotFound(err))

	// §9 vector 62: the MX lookup of a bogus zone fails for every level.
	_, err = LookupMX(ctx, f, "bogus.example.net")
	require.ErrorIs(t, err, ErrServFail)
	assert.False(t, IsNotFound(err))
	assert.Contains(t, err.Error(), "Name service error for name=bogus.example.net type=MX: Host not found, try again")
}

func TestLookupHost(t *testing.T) {
	ctx := context.Background()
	f := new(MockResolver).MustAdd("mx.example.com. 300 IN A 192.0.2.10", "mx.example.com. 300 IN AAAA 2001:db8::10",
		"alias.example.org. 300 IN CNAME mx.example.com.", "v6.example.net. 300 IN AAAA 2001:db8::20", "www.example.net. 300 IN TXT x")
	f.SetSecurity("example.net", Insecure)

	h, err := LookupHost(ctx, f, "mx.example.com")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")}, h.Addrs)
	assert.True(t, h.Secure)

	h, err = LookupHost(ctx, f, "alias.example.org")
	require.NoError(t, err)
	assert.Equal(t, "alias.example.org.", h.QName)
	assert.Equal(t, "mx.example.com.", h.RName, "the CNAME target owns the addresses")
	assert.Equal(t, []Hop{{Owner: "alias.example.org.", Target: "mx.example.com.", Authentic: true}}, h.CNAMEs)

	h, err = LookupHost(ctx, f, "v6.example.net")
	require.NoError(t, err, "NODATA for A is not a failure when AAAA has an address")
	assert.False(t, h.Secure)

	_, err = LookupHost(ctx, f, "www.example.net")
	require.ErrorIs(t, err, ErrNoData, "no address in either family")
	assert.True(t, IsNotFound(err))
}

func TestLookupHostLongName(t *testing.T) {
	long := strings.Repeat("a.", 130) + "example.com"
	_, err := LookupHost(context.Background(), new(MockResolver), long)
	require.ErrorIs(t, err, ErrNameTooLong)
}

// TestLookupHostFamilies: with inet_protocols = ipv4 Postfix sends no AAAA query, so a
// SERVFAIL on AAAA cannot fail the host (and with ipv6 alone, none for A).
func TestLookupHostFamilies(t *testing.T) {
	ctx := context.Background()
	f := new(MockResolver).MustAdd("mx.example.com. 300 IN A 192.0.2.10")
	f.Fail("mx.example.com", dns.TypeAAAA, ErrServFail)

	// dns_lookup_rv() (real Postfix 3.7.11, conformance dns/aaaa-servfail/all): the most
	// preferred status of all types decides, so the A answer makes the host usable.
	h, err := LookupHost(ctx, f, "mx.example.com")
	require.NoError(t, err, "both families: the A answer wins over the AAAA SERVFAIL")
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.10")}, h.Addrs)

	before := len(f.Queries())
	h, err = LookupHostFamilies(ctx, f, "mx.example.com", Families{NoIPv6: true})
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.10")}, h.Addrs)
	for _, q := range f.Queries()[before:] {
		assert.NotContains(t, q, "AAAA", "no AAAA query for IPv4 only")
	}

	_, err = LookupHostFamilies(ctx, f, "mx.example.com", Families{NoIPv4: true})
	require.ErrorIs(t, err, ErrServFail)
	_, err = LookupHostFamilies(ctx, f, "mx.example.com", Families{NoIPv4: true, NoIPv6: true})
	require.Error(t, err)
}

// TestLookupHostFailurePreference (dns_lookup_rv(), real Postfix 3.7.11 with inet_protocols
// = all): when no type answers, "try again" is preferred over "not found", and among equal
// statuses the last type's text is reported (conformance dns/a-servfail-aaaa-missing/inet-all,
// dns/mx-without-address/inet-all).
func TestLookupHostFailurePreference(t *testing.T) {
	ctx := context.Background()
	f := new(MockResolver).MustAdd("noaddr.example.com. 300 IN TXT x", "v4fail.example.com. 300 IN TXT x")
	f.Fail("v4fail.example.com", dns.TypeA, ErrServFail)

	_, err := LookupHost(ctx, f, "noaddr.example.com")
	require.ErrorIs(t, err, ErrNoData)
	assert.Contains(t, err.Error(), "type=AAAA", "equal statuses: the last type's text")
	assert.NotContains(t, err.Error(), "type=A:")

	_, err = LookupHost(ctx, f, "v4fail.example.com")
	require.ErrorIs(t, err, ErrServFail, "try again beats not found")
	assert.False(t, IsNotFound(err))
	assert.Contains(t, err.Error(), "type=A:")
}
