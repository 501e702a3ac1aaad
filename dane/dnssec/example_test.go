package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/postfixtls/postfixtls/dane/dnssec"
)

// ParseResolvConf decides whether the AD bit can be believed.
func ExampleParseResolvConf() {
	rc, _ := dnssec.ParseResolvConf(strings.NewReader("nameserver 192.0.2.53\noptions trust-ad\n"))
	c := rc.Client()
	fmt.Println(c.Servers, c.TrustAD == dnssec.TrustADAlways)
	_ = context.Background() // c.Lookup(ctx, "_25._tcp.mx.example.com", dns.TypeTLSA) would ask the server
	// Output:
	// [192.0.2.53:53] true
}

// A MockResolver stands in for a validating resolver in tests: a signed domain, an unsigned
// one and a bogus one, with the answers a validating resolver gives for each.
func ExampleMockResolver() {
	r := new(dnssec.MockResolver).MustAdd(
		"example.com. 300 IN MX 10 mx.example.com.",
		"mx.example.com. 300 IN A 192.0.2.10",
		"example.net. 300 IN MX 10 mail.example.net.",
		"mail.example.net. 300 IN CNAME mx.example.com.",
		"example.org. 300 IN MX 10 mx.example.org.",
	)
	r.SetSecurity("example.net", dnssec.Insecure) // unsigned: no AD bit
	r.SetSecurity("example.org", dnssec.Bogus)    // fails validation: SERVFAIL
	r.Fail("example.info", dns.TypeNone, dnssec.ErrTimeout)
	ctx := context.Background()

	for _, domain := range []string{"example.com", "example.net", "example.org", "example.info", "example.edu"} {
		mx, err := dnssec.LookupMX(ctx, r, domain)
		switch {
		case dnssec.IsNotFound(err):
			fmt.Printf("%s: not found\n", domain)
		case errors.Is(err, dnssec.ErrServFail):
			fmt.Printf("%s: SERVFAIL\n", domain)
		case err != nil:
			fmt.Printf("%s: %v\n", domain, err)
		default:
			fmt.Printf("%s: MX %s authentic=%v\n", domain, mx.Hosts[0].Name, mx.Authentic)
		}
	}
	h, _ := dnssec.LookupHost(ctx, r, "mail.example.net")
	fmt.Printf("mail.example.net: %v via %s, secure=%v\n", h.Addrs, h.RName, h.Secure)
	fmt.Println(r.Queries()[0])
	// Output:
	// example.com: MX mx.example.com. authentic=true
	// example.net: MX mail.example.net. authentic=false
	// example.org: SERVFAIL
	// example.info: Host or domain name not found. Name service error for name=example.info type=MX: Host not found, try again
	// example.edu: not found
	// mail.example.net: [192.0.2.10] via mx.example.com., secure=false
	// example.com. MX
}
