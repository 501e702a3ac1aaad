// Command genexamplepki writes the certificates the Example functions of importable
// packages read from their testdata directories (Examples must not need internal test
// kits): a root CA, an intermediate, a leaf for *.messagingengine.com (the fastmail
// question), a leaf with its key for mx.example.test, and two self-signed certificates.
// They are valid from 2026 to 2126, so the examples' output does not change with the date.
//
//	go run ./internal/cmd/genexamplepki -o DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func main() {
	dir := flag.String("o", ".", "output directory")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "genexamplepki:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(100, 0, 0)
	spec := func(s pki.Spec) pki.Spec { s.NotBefore, s.NotAfter = from, to; return s }
	root, err := pki.New(spec(pki.Spec{CN: []string{"Example Root CA"}, Org: "postfixtls examples", CA: true}), nil)
	if err != nil {
		return err
	}
	inter, err := pki.New(spec(pki.Spec{CN: []string{"Example Intermediate CA"}, Org: "postfixtls examples", CA: true}), root)
	if err != nil {
		return err
	}
	me, err := pki.New(spec(pki.Spec{CN: []string{"*.messagingengine.com"}, DNS: []string{"*.messagingengine.com", "messagingengine.com"}}), inter)
	if err != nil {
		return err
	}
	mx, err := pki.New(spec(pki.Spec{CN: []string{"mx.example.test"}, DNS: []string{"mx.example.test"}}), nil)
	if err != nil {
		return err
	}
	self, err := pki.New(spec(pki.Spec{CN: []string{"self-signed"}}), nil)
	if err != nil {
		return err
	}
	other, err := pki.New(spec(pki.Spec{CN: []string{"someone else"}}), nil)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"root.pem":                  root.PEM(),
		"messagingengine-chain.pem": pki.ChainPEM(me, inter),
		"mx.example.test.pem":       mx.PEM(),
		"mx.example.test-key.pem":   mx.KeyPEM(),
		"self-signed.pem":           self.PEM(),
		"someone-else.pem":          other.PEM(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
