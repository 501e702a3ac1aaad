package policy_test

import (
	"fmt"

	"github.com/postfixtls/postfixtls/policy"
)

// ExampleParseEntry parses two smtp_tls_policy_maps values the way Postfix 3.7.11 does: a
// good one, and one whose trailing "# comment" makes Postfix reject the whole entry.
func ExampleParseEntry() {
	ec := policy.EntryContext{Version: policy.V(3, 7, 11), Key: "example.com"}

	e := policy.ParseEntry("secure match=nexthop:dot-nexthop ciphers=high protocols=>=TLSv1.2", ec)
	fmt.Println(e.Valid, e.Level, e.Match, *e.Ciphers, *e.Protocols)

	e = policy.ParseEntry("secure # primary MX", ec)
	fmt.Println(e.Valid)
	for _, w := range e.Warnings {
		fmt.Println("warning:", w)
	}
	bad := e.Tokens[e.BadToken]
	fmt.Printf("bad token %q at byte %d\n", bad.Text, bad.Offset)
	// Output:
	// true secure [nexthop dot-nexthop] high >=TLSv1.2
	// false
	// warning: smtp_tls_policy_maps, next-hop destination "example.com": malformed attribute/value pair "#": missing '=' after attribute name
	// bad token "#" at byte 7
}

// ExampleParseEntry_versions shows an attribute whose meaning depends on the release: a brace
// group is an attribute in Postfix 3.10 and a broken token before.
func ExampleParseEntry_versions() {
	const value = "secure {match = mx.example.com:.example.com}"
	for _, v := range []policy.Version{policy.V(3, 9, 14), policy.V(3, 10, 0)} {
		e := policy.ParseEntry(value, policy.EntryContext{Version: v, Key: "example.com"})
		fmt.Println(v, e.Valid, e.Match, e.Problem)
	}
	// Output:
	// 3.9.14 false [] malformed attribute/value pair "{match": missing '=' after attribute name
	// 3.10 true [mx.example.com .example.com]
}
