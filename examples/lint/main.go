// Command lint is a short example of embedding package policy/lint: it lints the tables
// main.cf names in -c dir (and any TABLE arguments) and prints one line per finding. The
// full command is "postfixtls lint" (cmd/postfixtls).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/postfixtls/postfixtls/policy/lint"
)

func main() {
	dir := flag.String("c", "", "Postfix configuration directory")
	flag.Parse()
	sum, err := lint.Run(context.Background(), lint.Options{ConfigDir: *dir, Tables: flag.Args()}, func(f lint.Finding) error {
		fmt.Printf("%s:%d: %s: %s: %s\n", f.File, f.Line, f.Severity, f.Code, f.Message)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d errors, %d warnings, %d notes\n", sum.Errors, sum.Warnings, sum.Notes)
}
