package lint_test

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/lint"
)

// ExampleRun lints a table file on its own (no main.cf: Postfix's built-in defaults), and
// prints each finding as it comes.
func ExampleRun() {
	o := lint.Options{Version: policy.MustParseVersion("3.7.11"), Tables: []string{"testdata/tls_policy"}}
	sum, err := lint.Run(context.Background(), o, func(f lint.Finding) error {
		fmt.Printf("%s:%d: %s: %s: %s\n\tfix: %s\n", f.File, f.Line, f.Severity, f.Code, f.Message, f.Fix)
		return nil
	})
	if err != nil {
		fmt.Println("lint:", err)
		return
	}
	fmt.Printf("%d errors, %d warnings, %d notes\n", sum.Errors, sum.Warnings, sum.Notes)
	// Output:
	// testdata/tls_policy:2: error: unknown-attribute: smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "tls_connection_reuse"
	// 	fix: the attribute is connection_reuse=yes; until then smtp(8) defers mail for this destination with 4.7.5; corrected row: example.com secure connection_reuse=yes; or: example.com secure
	// testdata/tls_policy:4: warning: wildcard-key: key "*.example.net" is a literal string, not a wildcard: no next hop is ever "*.example.net"
	// 	fix: .example.net verify   (a leading dot matches every subdomain; replaces the row *.example.net)
	// 1 errors, 1 warnings, 0 notes
}

// ExampleRun_config lints a configuration directory whose main.cf sets an obsolete boolean to
// "true": Postfix reads only "yes" and "no" as booleans, so smtp(8) would stop with "fatal:
// bad boolean configuration".
func ExampleRun_config() {
	o := lint.Options{ConfigDir: "testdata/config", Version: policy.MustParseVersion("3.7.11")}
	_, err := lint.Run(context.Background(), o, func(f lint.Finding) error {
		if f.Severity == lint.SeverityError {
			fmt.Printf("%s:%d: %s: %s\n", filepath.Base(f.File), f.Line, f.Code, f.Message)
		}
		return nil
	})
	if err != nil {
		fmt.Println("lint:", err)
	}
	// Output:
	// main.cf:3: main-cf: bad boolean configuration: smtp_enforce_tls = true
}
