package finger

import (
	"context"
	"crypto/tls"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	assert.Equal(t, "Untrusted", r.Trust)
	assert.Equal(t, "num=62:hostname mismatch", r.VerifyFailure)
	assert.Equal(t, "server", r.VerifyPurpose)
	assert.Equal(t, "*.example.com", r.PeerName)
	if assert.Len(t, r.Matched, 2) {
		assert.Equal(t, "Matched fingerprint: 0011", r.Matched[1])
	}
	assert.Equal(t, []string{`ignoring invalid match name: "."`}, r.Warnings)
	assert.True(t, r.HasWarning("invalid match"))
	assert.Len(t, r.Lines, 5)
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
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	dest := "[127.0.0.1]:" + strconv.Itoa(srv.Port())
	r, err := Run(ctx, Options{Destination: dest, Level: "secure", Match: []string{"mx.example.com"}, CAPEM: h.Root.PEM()})
	require.NoError(t, err, "secure match")
	require.Equal(t, "Verified", r.Trust, "secure match: %q", r.Lines)
	require.Equal(t, "*.example.com", r.PeerName, "secure match: %q", r.Lines)
	r, err = Run(ctx, Options{Destination: dest, Level: "secure", Match: []string{"a.b.example.com"}, CAPEM: h.Root.PEM()})
	require.NoError(t, err, "secure mismatch")
	require.NotEqual(t, "Verified", r.Trust, "secure mismatch: %q", r.Lines)
	require.Equal(t, "num=62:hostname mismatch", r.VerifyFailure, "secure mismatch: %q", r.Lines)
	r, err = Run(ctx, Options{Destination: dest, Level: "fingerprint", Digest: "sha1", Match: []string{"00"}})
	require.NoError(t, err, "fingerprint")
	require.True(t, r.HasWarning("unusable TLSA RR: 3 1 255 00"), "fingerprint: %q", r.Lines)
	require.Equal(t, "num=1:unspecified certificate verification error", r.VerifyFailure, "fingerprint: %q", r.Lines)
}
