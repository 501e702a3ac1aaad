package fingerprint_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/postfixtls/postfixtls/fingerprint"
)

func exampleCert() *x509.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "mx.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// A pin copied from `openssl x509 -fingerprint` (SHA-1 by default in old OpenSSL) while
// Postfix >= 3.6 compares SHA-256: the value is unusable, and the result says why.
func ExampleCheck() {
	cert := exampleCert()
	sum := sha1.Sum(cert.Raw)
	pin := hex.EncodeToString(sum[:])

	list, warns, err := fingerprint.ParseList([]string{pin}, fingerprint.Table,
		fingerprint.Options{Digest: "sha256", ColonsOptional: true})
	fmt.Println(len(warns), err)

	r := fingerprint.Check(cert, list)
	fmt.Println(r.Matched, r.Error)
	fmt.Println(r.Warnings[2].Render("mx.example.com[192.0.2.10]:25"))
	fmt.Println(r.Identified[0].Why)
	// Output:
	// 0 <nil>
	// false num=1:unspecified certificate verification error
	// mx.example.com[192.0.2.10]:25: all fingerprints unusable
	// the SHA-1 fingerprint of the certificate
}

// Reading a main.cf list: "|" is no separator there.
func ExampleParseList() {
	_, warns, err := fingerprint.ParseList([]string{"AB:CD|EF:01"}, fingerprint.MainCF,
		fingerprint.Options{ColonsOptional: true})
	fmt.Println(warns[0].Text)
	fmt.Println("nexthop domain example.com: " + err.Error())
	// Output:
	// malformed fingerprint value: AB:CD|EF:01
	// nexthop domain example.com: configured at fingerprint security level, but with no fingerprints to match.
}

// Fingerprints in Postfix's format.
func ExampleFormat() {
	fmt.Println(fingerprint.Format([]byte{0xab, 0xcd, 0x01}))
	// Output: AB:CD:01
}
