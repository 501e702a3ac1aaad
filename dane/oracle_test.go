package dane

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// TestOracleOpenSSL checks Verify against the DANE code of the real OpenSSL (the library
// Postfix >= 3.6 delegates to): "openssl s_client -dane_tlsa_rrdata ... -dane_ee_no_namechecks"
// (Postfix sets DANE_FLAG_NO_DANE_EE_NAMECHECKS) against a loopback TLS server presenting the
// chain. Each case has at most one verification error, so OpenSSL's final error (the last one
// raised) and Postfix's reported error (the one nearest the leaf) coincide.
func TestOracleOpenSSL(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle test")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		need.Missing(t, "openssl missing (apt-get install openssl)")
	}
	h := pki.MustHierarchy(t)
	past := time.Now().Add(-48 * time.Hour)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}})
	other := h.Leaf(t, pki.Spec{DNS: []string{"other.example.net"}})
	wild := h.Leaf(t, pki.Spec{DNS: []string{"*.example.com"}})
	expiredLeaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}, NotBefore: past, NotAfter: past.Add(time.Hour)})
	self := pki.Must(t, pki.Spec{CN: []string{"self"}}, nil)
	expiredSelf := pki.Must(t, pki.Spec{CN: []string{"self"}, NotBefore: past, NotAfter: past.Add(time.Hour)}, nil)
	oldInter := pki.Must(t, pki.Spec{CN: []string{"Old Intermediate"}, CA: true, NotBefore: past, NotAfter: past.Add(time.Hour)}, h.Root)
	underOld := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, oldInter)
	notCA := pki.Must(t, pki.Spec{CN: []string{"Not A CA"}}, h.Root)
	underNotCA := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, notCA)
	cnOnly := h.Leaf(t, pki.Spec{CN: []string{"mx.example.com"}})
	oldRoot := pki.Must(t, pki.Spec{CN: []string{"Old Root"}, CA: true, NotBefore: past, NotAfter: past.Add(time.Hour)}, nil)
	interOld := pki.Must(t, pki.Spec{CN: []string{"Inter Under Old Root"}, CA: true}, oldRoot)
	leafOld := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, interOld)
	futureInter := pki.Must(t, pki.Spec{CN: []string{"Future Intermediate"}, CA: true, NotBefore: time.Now().Add(24 * time.Hour)}, h.Root)
	underFuture := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, futureInter)

	// A cross-signed copy of the root (same subject and key, issued by the other root) and an
	// expired copy of the intermediate (same subject and key).
	crossRoot := pki.Must(t, pki.Spec{CN: []string{"Test Root CA"}, Org: "postfixtls tests", CA: true, Signer: h.Root.Key}, h.Other)
	expiredInterCopy := pki.Must(t, pki.Spec{CN: []string{"Test Intermediate CA"}, Org: "postfixtls tests", CA: true, Signer: h.Inter.Key,
		NotBefore: past, NotAfter: past.Add(time.Hour)}, h.Root)
	ta := func(c *pki.Cert) []Record { return []Record{rec(2, 0, 0, c), rec(3, 0, 0, c)} } // §6.5 tafile records
	cases := []struct {
		name   string
		recs   []Record
		chain  []*pki.Cert
		tafile bool // trust-anchor file: EE matches get name checks too
	}{
		{"§9 vector 57: 3 1 1 match, self-signed", []Record{rec(3, 1, 1, self)}, []*pki.Cert{self}, false},
		{"§9 vector 58: 3 1 1 mismatch", []Record{rec(3, 1, 1, other)}, []*pki.Cert{self}, false},
		{"§6.4 DANE-EE ignores expiry", []Record{rec(3, 1, 1, expiredSelf)}, []*pki.Cert{expiredSelf}, false},
		{"§6.4 DANE-EE ignores names", []Record{rec(3, 0, 1, other)}, []*pki.Cert{other, h.Inter}, false},
		{"§9 vector 66: 2 1 1 intermediate, name ok", []Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§9 vector 66: 2 1 1 intermediate, name mismatch", []Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{other, h.Inter}, false},
		{"§6.4 2 0 0 root not sent", []Record{rec(2, 0, 0, h.Root)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§6.4 2 1 0 root key not sent", []Record{rec(2, 1, 0, h.Root)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§6.4 2 x x never matches the leaf", []Record{rec(2, 1, 1, leaf)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§9 vector 69: digest agility", []Record{wrong(rec(3, 1, 2, leaf)), rec(3, 1, 1, leaf)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§6.3 agility per selector", []Record{wrong(rec(3, 1, 2, leaf)), rec(3, 0, 1, leaf)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§6.3 agility per usage", []Record{wrong(rec(3, 1, 2, leaf)), rec(2, 1, 1, h.Inter)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§6.4 DANE-TA with expired leaf", []Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{expiredLeaf, h.Inter}, false},
		{"§6.4 DANE-TA: expired trust anchor certificate", []Record{rec(2, 0, 1, oldInter)}, []*pki.Cert{underOld, oldInter}, false},
		{"§6.4 DANE-TA: unrelated root", []Record{rec(2, 1, 1, h.Other)}, []*pki.Cert{leaf, h.Inter, h.Root}, false},
		{"§6.4 DANE-TA: root sent, chain of 3", []Record{rec(2, 0, 1, h.Root)}, []*pki.Cert{leaf, h.Inter, h.Root}, false},
		{"§6.4 DANE-TA: non-CA issuer", []Record{rec(2, 0, 1, h.Root)}, []*pki.Cert{underNotCA, notCA, h.Root}, false},
		{"§4.2 DANE-TA: wildcard", []Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{wild, h.Inter}, false},
		{"§4.2 DANE-TA: CN used without DNS SAN", []Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{cnOnly, h.Inter}, false},
		{"§6.4 DANE-TA: expired self-signed root sent, as anchor", []Record{rec(2, 0, 1, oldRoot)}, []*pki.Cert{leafOld, interOld, oldRoot}, false},
		{"§6.4 DANE-TA: expired self-signed root from 2 0 0, not sent", []Record{rec(2, 0, 0, oldRoot)}, []*pki.Cert{leafOld, interOld}, false},
		{"§6.4 DANE-TA: bare key of an expired root signing the top", []Record{rec(2, 1, 0, oldRoot)}, []*pki.Cert{leafOld, interOld}, false},
		{"§6.4 DANE-TA: not-yet-valid intermediate anchor", []Record{rec(2, 1, 1, futureInter)}, []*pki.Cert{underFuture, futureInter}, false},
		{"§6.4 DANE-TA: not-yet-valid intermediate below the root anchor", []Record{rec(2, 0, 1, h.Root)}, []*pki.Cert{underFuture, futureInter, h.Root}, false},
		{"§9 vector 70: tafile with the expired leaf, name matches", ta(expiredLeaf), []*pki.Cert{expiredLeaf, h.Inter}, true},
		{"§9 vector 70: tafile with the leaf, name does not match", ta(other), []*pki.Cert{other, h.Inter}, true},
		{"§9 vector 70: tafile with the issuing CA", ta(h.Inter), []*pki.Cert{leaf, h.Inter}, true},
		{"§6.5 tafile CA, expired leaf", ta(h.Inter), []*pki.Cert{expiredLeaf, h.Inter}, true},
		{"§6.4 DANE-TA: chain cut at the anchor, expired root above it ignored", []Record{rec(2, 1, 1, interOld)}, []*pki.Cert{leafOld, interOld, oldRoot}, false},
		{"§6.4 DANE-TA only, self-signed leaf", []Record{rec(2, 1, 1, h.Root)}, []*pki.Cert{self}, false},
		{"§6.4 DANE-EE and DANE-TA both fail: EE mismatch, TA mismatch", []Record{rec(3, 1, 1, other), rec(2, 1, 1, h.Other)}, []*pki.Cert{leaf, h.Inter}, false},
		{"§6.4 DANE-TA: the 2 0 0 root beats the cross-signed copy the server sends", []Record{rec(2, 0, 0, h.Root)}, []*pki.Cert{leaf, h.Inter, crossRoot}, false},
		{"§6.4 DANE-TA: of two copies of the issuer the one valid now is taken", []Record{rec(2, 0, 1, h.Root)}, []*pki.Cert{leaf, expiredInterCopy, h.Inter, h.Root}, false},
		{"§6.4 DANE-TA: unrelated extra certificate sent", []Record{rec(2, 1, 1, h.Inter)}, []*pki.Cert{leaf, h.Other, h.Inter}, false},
	}
	// One TLS server; the SNI name picks the chain.
	chains := map[string]tls.Certificate{}
	for i, c := range cases {
		chains[fmt.Sprintf("case%d.test", i)] = pki.TLSCertificate(c.chain[0], c.chain[1:]...)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
		c, ok := chains[hi.ServerName]
		if !ok {
			return nil, fmt.Errorf("unknown SNI %q", hi.ServerName)
		}
		return &c, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_ = c.(*tls.Conn).Handshake()
				buf := make([]byte, 1)
				_, _ = c.Read(buf)
			}(conn)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	codeRE := regexp.MustCompile(`Verify return code: (\d+)`)
	errRE := regexp.MustCompile(`depth=(\d+)[^\n]*\nverify error:num=(\d+)`)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"s_client", "-connect", l.Addr().String(), "-servername", fmt.Sprintf("case%d.test", i),
				"-dane_tlsa_domain", "mx.example.com"}
			if !c.tafile {
				args = append(args, "-dane_ee_no_namechecks")
			}
			for _, r := range c.recs {
				args = append(args, "-dane_tlsa_rrdata", r.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, openssl, args...)
			cmd.Stdin = bytes.NewReader(nil)
			out, _ := cmd.CombinedOutput()
			if codeRE.FindSubmatch(out) == nil {
				t.Fatalf("no verify code from openssl:\n%s", out)
			}
			// The error Postfix would report from OpenSSL's sequence of callbacks.
			errs := &errorState{}
			for _, m := range errRE.FindAllSubmatch(out, -1) {
				d, _ := strconv.Atoi(string(m[1]))
				n, _ := strconv.Atoi(string(m[2]))
				errs.add(&VerifyError{Num: X509Error(n), Depth: d})
			}
			want := X509Error(0)
			if errs.err != nil {
				want = errs.err.Num
			}
			res := Classify(c.recs, "q", "q", Options{}).Verify(chainOf(c.chain...), VerifyOptions{Names: []string{"mx.example.com"}, EENameChecks: c.tafile})
			got := X509Error(0)
			if !res.Verified {
				got = res.Err.Num
			}
			if got != want {
				t.Fatalf("ours %d (%v), OpenSSL %d\n%s", got, res.Err, want, regexp.MustCompile(`(?m)^(depth=.*|verify .*)$`).FindAll(out, -1))
			}
		})
	}
}
