package match_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/postfixtls/postfixtls/match"
)

// exampleCert makes a self-signed certificate with the given DNS SANs.
func exampleCert(cn string, dns ...string) *x509.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dns,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// The fastmail.fm case: recipient domain fastmail.fm, MX in1-smtp.messagingengine.com,
// certificate for *.messagingengine.com. The secure level's default match list
// "nexthop, dot-nexthop" cannot match; verify's "hostname" and an explicit
// match=.messagingengine.com can.
func ExampleCheck() {
	cert := exampleCert("messagingengine.com", "*.messagingengine.com", "messagingengine.com")
	opt := match.Options{Mode: match.OpenSSL} // Postfix >= 3.6

	secure, _ := match.References([]string{"nexthop", "dot-nexthop"}, "fastmail.fm", "in1-smtp.messagingengine.com", opt)
	r := match.Check(cert, secure, opt)
	fmt.Println("secure:", r.Matched, r.Error)
	fmt.Println(r.Summary())

	verify, _ := match.References([]string{"hostname"}, "fastmail.fm", "in1-smtp.messagingengine.com", opt)
	fmt.Println("verify:", match.Check(cert, verify, opt).Summary())

	fix, _ := match.References([]string{".messagingengine.com"}, "fastmail.fm", "in1-smtp.messagingengine.com", opt)
	fmt.Println("fix:", match.Check(cert, fix, opt).Summary())
	// Output:
	// secure: false num=62:hostname mismatch
	// hostname mismatch: no certificate name (DNS SANs: *.messagingengine.com, messagingengine.com) matches "fastmail.fm" (nexthop) or any name ending in ".fastmail.fm" (dot-nexthop)
	// verify: certificate name "*.messagingengine.com" matches "in1-smtp.messagingengine.com" (hostname)
	// fix: certificate name "*.messagingengine.com" matches any name ending in ".messagingengine.com"
}

// A deep MX name under a one-label wildcard: Postfix >= 3.6 refuses it, Postfix 3.5 with
// the default tls_wildcard_matches_multiple_labels = yes accepted it.
func ExampleCheck_wildcardDepth() {
	cert := exampleCert("", "*.example.com")
	for _, opt := range []match.Options{
		{Mode: match.OpenSSL},
		{Mode: match.Legacy, WildcardMultipleLabels: true},
	} {
		refs, _ := match.References([]string{"hostname"}, "example.com", "a.b.example.com", opt)
		r := match.Check(cert, refs, opt)
		fmt.Printf("%s: %v: %s\n", opt.Mode, r.Matched, r.Summary())
	}
	// Output:
	// openssl: false: hostname mismatch: no certificate name (DNS SANs: *.example.com) matches "a.b.example.com" (hostname); *.example.com vs "a.b.example.com": the wildcard covers exactly one label
	// legacy: true: certificate name "*.example.com" matches "a.b.example.com" (hostname)
}

// Building reference names: keywords, suffixes, IDNA and the ignored ".".
func ExampleReferences() {
	refs, warns := match.References([]string{"NextHop", ".", ".Example.NET", "bücher.example"},
		"example.com", "mx.example.com", match.Options{})
	for _, r := range refs.Refs {
		fmt.Printf("%-14s %-9s installed=%v %s\n", r.Item, r.Kind, r.Installed, r.Name)
	}
	for _, w := range warns {
		fmt.Println("warning:", w.Render("mx.example.com[192.0.2.10]:25"))
	}
	// Output:
	// NextHop        host      installed=true example.com
	// .              host      installed=false .
	// .Example.NET   subdomain installed=true .Example.NET
	// bücher.example host      installed=true xn--bcher-kva.example
	// warning: mx.example.com[192.0.2.10]:25: ignoring invalid match name: "."
}

// Which certificate names take part, and why the others do not.
func ExampleNames() {
	cert := exampleCert("mx.example.com", "other.example.com")
	n := match.Names(cert, match.Options{})
	for _, c := range n.All() {
		line := fmt.Sprintf("%s %s considered=%v", c.Kind, c.Value, c.Considered)
		if c.Why != "" {
			line += " (" + c.Why + ")"
		}
		fmt.Println(line)
	}
	// Output:
	// DNS SAN other.example.com considered=true
	// CN mx.example.com considered=false (CN ignored: the certificate has DNS SANs)
}
