package policy_test

import (
	"context"
	"fmt"

	"github.com/postfixtls/postfixtls/policy"
)

// Resolve a recipient against a policy table: the parent-domain entry ".example.com" decides
// for mail to sub.example.com, and the match names stay those of sub.example.com.
func ExampleSettings_Resolve() {
	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{
		"compatibility_level":     "3.6",
		"smtp_tls_security_level": "may",
		"smtp_tls_policy_maps":    "inline:{ {.example.com = secure}, {[relay.example.net]:587 = encrypt} }",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, dest := range []string{"user@sub.example.com", "[relay.example.net]:587", "[relay.example.net]"} {
		r, err := s.Resolve(context.Background(), dest)
		if err != nil {
			fmt.Println(err)
			return
		}
		h := r.Hops[0]
		fmt.Printf("%s: key %s, level %s, match %v, from %s\n", dest, h.Key, h.Policy.Level, h.Policy.Match, h.Policy.Source.Kind)
	}
	// Output:
	// user@sub.example.com: key sub.example.com, level secure, match [nexthop dot-nexthop], from policy-table
	// [relay.example.net]:587: key [relay.example.net]:587, level encrypt, match [], from policy-table
	// [relay.example.net]: key [relay.example.net], level may, match [], from global
}

// An entry Postfix cannot parse is not skipped: the policy is invalid and mail defers.
func ExampleSettings_Resolve_invalidEntry() {
	s, _ := policy.NewSettings(policy.V(3, 7, 11), map[string]string{
		"smtp_tls_security_level": "secure",
		"smtp_tls_policy_maps":    "inline:{ {example.com = secure match = mx.example.com} }",
	})
	r, _ := s.Resolve(context.Background(), "user@example.com")
	p := r.Hops[0].Policy
	fmt.Println(!p.Invalid, p.DSN, p.Reason)
	fmt.Println(p.Warnings[0])
	// Output:
	// false 4.7.5 client TLS configuration problem
	// smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "match": missing '=' after attribute name
}
