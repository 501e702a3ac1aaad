package finger

import (
	"context"
	"crypto/tls"
	"strconv"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
)

const sample = `posttls-finger: warning: 127.0.0.1[127.0.0.1]:25: ignoring invalid match name: "."
posttls-finger: server certificate verification failed for 127.0.0.1[127.0.0.1]:25: num=62:hostname mismatch
posttls-finger: 127.0.0.1[127.0.0.1]:25: matched peername: *.example.com
posttls-finger: 127.0.0.1[127.0.0.1]:25: Matched fingerprint: 0011
posttls-finger: Untrusted TLS connection established to 127.0.0.1[127.0.0.1]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)
`

func TestParse(t *testing.T) {
	r := Parse([]byte(sample))
	if r.Trust != "Untrusted" || r.VerifyFailure != "num=62:hostname mismatch" || r.VerifyPurpose != "server" {
		t.Errorf("trust %q failure %q purpose %q", r.Trust, r.VerifyFailure, r.VerifyPurpose)
	}
	if r.PeerName != "*.example.com" || len(r.Matched) != 2 || r.Matched[1] != "Matched fingerprint: 0011" {
		t.Errorf("matched %q peername %q", r.Matched, r.PeerName)
	}
	if len(r.Warnings) != 1 || r.Warnings[0] != `ignoring invalid match name: "."` || !r.HasWarning("invalid match") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if len(r.Lines) != 5 {
		t.Errorf("lines %d", len(r.Lines))
	}
}

// One live run per verdict kind: the runner must see Verified, a hostname mismatch and
// a fingerprint match exactly as posttls-finger prints them.
func TestRunLive(t *testing.T) {
	if testing.Short() {
		t.Skip("posttls-finger run: skipped in -short mode")
	}
	Require(t)
	h := pki.MustHierarchy(t)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"*.example.com"}})
	ctx := context.Background()
	srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.0.1:0", Certificates: []tls.Certificate{pki.TLSCertificate(leaf, h.Inter)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dest := "[127.0.0.1]:" + strconv.Itoa(srv.Port())
	r, err := Run(ctx, Options{Destination: dest, Level: "secure", Match: []string{"mx.example.com"}, CAPEM: h.Root.PEM()})
	if err != nil || r.Trust != "Verified" || r.PeerName != "*.example.com" {
		t.Fatalf("secure match: err=%v trust=%q peer=%q\n%q", err, r.Trust, r.PeerName, r.Lines)
	}
	r, err = Run(ctx, Options{Destination: dest, Level: "secure", Match: []string{"a.b.example.com"}, CAPEM: h.Root.PEM()})
	if err != nil || r.Trust == "Verified" || r.VerifyFailure != "num=62:hostname mismatch" {
		t.Fatalf("secure mismatch: err=%v trust=%q failure=%q\n%q", err, r.Trust, r.VerifyFailure, r.Lines)
	}
	r, err = Run(ctx, Options{Destination: dest, Level: "fingerprint", Digest: "sha1", Match: []string{"00"}})
	if err != nil || !r.HasWarning("unusable TLSA RR: 3 1 255 00") || r.VerifyFailure != "num=1:unspecified certificate verification error" {
		t.Fatalf("fingerprint: err=%v %q", err, r.Lines)
	}
}
