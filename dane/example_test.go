package dane_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/dane/dnssec"
)

// Classify shows what Postfix does with each record of a TLSA RRset.
func ExampleClassify() {
	recs, _ := dane.ParseRecords(`
_25._tcp.mx.example.com. IN TLSA 1 1 1 ABCD
_25._tcp.mx.example.com. IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD
`)
	set := dane.Classify(recs, "_25._tcp.mx.example.com", "_25._tcp.mx.example.com",
		dane.Options{NamAddrPort: "mx.example.com[192.0.2.10]:25"})
	for _, r := range set.Reports {
		fmt.Printf("%s: %s\n", r.Record.PostfixString(), r.Status)
	}
	for _, w := range set.Warnings(true) {
		fmt.Println("warning:", w)
	}
	// Output:
	// 1 1 1 ABCD: unsupported usage
	// 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD: unusable
	// warning: _25._tcp.mx.example.com unsupported TLSA certificate usage: 1 1 1 ABCD
	// warning: mx.example.com[192.0.2.10]:25: unusable TLSA RR: 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD
	// warning: mx.example.com[192.0.2.10]:25: all TLSA records unusable, fallback to unauthenticated TLS
}

// RecordSet.Verify checks the chain a server presented against DANE-EE and DANE-TA records.
func ExampleRecordSet_Verify() {
	key := readCert("testdata/example/self-signed.pem")
	sum := sha256.Sum256(key.RawSubjectPublicKeyInfo)
	rr, _ := dane.ParseRecord("3 1 1 " + strings.ToUpper(hex.EncodeToString(sum[:])))
	set := dane.Classify([]dane.Record{rr}, "_25._tcp.mx.example.com", "_25._tcp.mx.example.com", dane.Options{})

	res := set.Verify([]*x509.Certificate{key}, dane.VerifyOptions{Names: []string{"mx.example.com", "example.com"}})
	fmt.Println("verified:", res.Verified, "at depth", res.Match.Depth)

	other := readCert("testdata/example/someone-else.pem")
	res = set.Verify([]*x509.Certificate{other}, dane.VerifyOptions{})
	fmt.Println(res.Err.LogLine("mx.example.com[192.0.2.10]:25"))
	// Output:
	// verified: true at depth 0
	// server certificate verification failed for mx.example.com[192.0.2.10]:25: num=65:no matching DANE TLSA records
}

// Decide turns the DNS facts into what Postfix does at level dane or dane-only.
func ExampleDecide() {
	none := &dane.TLSAResult{BaseDomain: "mx.example.com", Why: "no TLSA records at _25._tcp.mx.example.com"}
	for _, daneOnly := range []bool{false, true} {
		d := dane.Decide(dane.DecideInput{DaneOnly: daneOnly, HaveMX: true, MXSecure: true, TLSA: none})
		fmt.Printf("%s reason=%q dsn=%q\n", d.Outcome, d.Reason, d.DSN)
	}
	// Output:
	// may reason="no TLSA records found" dsn=""
	// defer reason="no TLSA records found" dsn="4.7.5"
}

// LookupTLSA follows Postfix's TLSA lookup; a dnssec.MockResolver stands in for the validating
// resolver.
func ExampleLookupTLSA() {
	r := new(dnssec.MockResolver).MustAdd(
		"example.com. 300 IN MX 10 mx.example.com.",
		"mx.example.com. 300 IN A 192.0.2.10",
		"_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD",
		"mx.example.net. 300 IN A 192.0.2.20",
		"_25._tcp.mx.example.net. 300 IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD",
	)
	r.SetSecurity("example.net", dnssec.Insecure)
	ctx := context.Background()
	for _, name := range []string{"mx.example.com", "mx.example.net"} {
		host, _ := dnssec.LookupHost(ctx, r, name)
		res, err := dane.LookupTLSA(ctx, r, dane.TLSAQuery{Host: *host, Port: 25})
		fmt.Println(res.Why, err)
	}
	// Output:
	// 1 validated TLSA record(s) at _25._tcp.mx.example.com <nil>
	// the address records of mx.example.net are not DNSSEC-validated: no TLSA lookup <nil>
}

// readCert reads one PEM certificate.
func readCert(name string) *x509.Certificate {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		panic(err)
	}
	return c
}
