package tables_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/policy/tables"
)

func ExampleOpen() {
	ctx := context.Background()
	t, err := tables.Open(ctx, "inline:{ {example.com = secure match=nexthop}, .example.net=may }",
		tables.Options{FoldFixed: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ := t.Lookup(ctx, "Example.COM")
	fmt.Println(r.Found, r.Value)
	fmt.Println(r.Source)
	r, _ = t.Lookup(ctx, "sub.example.com")
	fmt.Println(r.Found)
	// Output:
	// true secure match=nexthop
	// inline:{ {example.com = secure match=nexthop}, .example.net=may }: {example.com = secure match=nexthop}
	// false
}

func ExampleList() {
	ctx := context.Background()
	// The first table misses, the second (a hash table whose .db was never built) fails:
	// Postfix stops the search and defers, it does not fall back to the global level.
	l, err := tables.OpenList(ctx, "smtp_tls_policy_maps",
		"inline:{ example.org=may }, hash:/nonexistent/tls_policy, static:{secure}",
		tables.Options{FoldFixed: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	r, err := l.Lookup(ctx, "example.org")
	fmt.Println(r.Value, err)
	_, err = l.Lookup(ctx, "example.com")
	fmt.Println(errors.Is(err, tables.ErrLookup))
	var le *tables.LookupError
	if errors.As(err, &le) {
		fmt.Println(strings.Join(le.Messages, "\n"))
	}
	// Output:
	// may <nil>
	// true
	// hash:/nonexistent/tls_policy is unavailable. open database /nonexistent/tls_policy.db: No such file or directory
	// hash:/nonexistent/tls_policy lookup error for "example.com"
}

func ExampleParseSource() {
	src := `# TLS policy
example.com	fingerprint
# old key
	match=AB:CD:EF
example.net
`
	t, _ := tables.ParseSource(strings.NewReader(src), "/etc/postfix/tls_policy", "", tables.Options{FoldFixed: true})
	r, _ := t.Lookup(context.Background(), "example.com")
	fmt.Printf("%q\n", r.Value)
	fmt.Println(r.Source)
	for _, d := range t.Diagnostics() {
		fmt.Println(d)
	}
	// Output:
	// "fingerprint\tmatch=AB:CD:EF"
	// texthash:/etc/postfix/tls_policy:2: example.com	fingerprint	match=AB:CD:EF
	// warning: /etc/postfix/tls_policy, line 5: expected format: key whitespace value -- ignoring this line
}
