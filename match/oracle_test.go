package match

import (
	"context"
	"crypto/tls"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/finger"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
)

// oracleCerts are the certificate kinds of the agreement matrix.
var oracleCerts = []struct {
	name string
	spec certSpec
}{
	{"SAN only", certSpec{dns: []string{"mx.example.com"}}},
	{"CN only", certSpec{cn: []string{"mx.example.com"}}},
	{"SAN and CN", certSpec{dns: []string{"other.example.com"}, cn: []string{"mx.example.com"}}},
	{"two CNs", certSpec{cn: []string{"first.example.com", "second.example.com"}}},
	{"wildcard one level", certSpec{dns: []string{"*.example.com"}}},
	{"wildcard two levels down", certSpec{dns: []string{"*.b.example.com"}}},
	{"wildcard under TLD", certSpec{dns: []string{"*.com"}}},
	{"partial wildcard", certSpec{dns: []string{"mx*.example.com"}}},
	{"star in second label", certSpec{dns: []string{"foo.*.example.com"}}},
	{"fastmail", certSpec{dns: []string{"*.messagingengine.com", "messagingengine.com"}}},
	{"IDN A-labels", certSpec{dns: []string{"xn--bcher-kva.example", "*.xn--bcher-kva.example"}}},
	{"trailing dot SAN", certSpec{dns: []string{"dot.example.com."}}},
	{"IP SAN and DNS SAN", certSpec{dns: []string{"mx.example.com"}, ips: []string{"192.0.2.10"}}},
	{"IP SAN and CN", certSpec{cn: []string{"mx.example.com"}, ips: []string{"192.0.2.10", "127.0.0.1"}}},
	{"underscore names", certSpec{dns: []string{"a_b.example.com", "*.u.example.com"}}},
}

// oracleRefs are the match arguments; posttls-finger takes one name per argument.
var oracleRefs = [][]string{
	{"mx.example.com"}, {"MX.Example.COM"}, {"example.com"}, {".example.com"}, {"a.b.example.com"},
	{"x.example.com"}, {"x.b.example.com"}, {"second.example.com"}, {"mx1.example.com"}, {"*.example.com"},
	{"bücher.example"}, {"BÜCHER.example"}, {"mx.bücher.example"}, {"\u3002bücher.example"}, {"."}, {".com"},
	{"example.com."}, {"dot.example.com."}, {"dot.example.com"}, {"192.0.2.10"}, {"mx.example.com", "192.0.2.10"},
	{"192.0.2.10", "192.0.2.11"}, {"nexthop"}, {"dot-nexthop"}, {"hostname"}, {"nexthop", "dot-nexthop"},
	{"fastmail.fm", ".fastmail.fm"}, {".messagingengine.com"}, {"in1-smtp.messagingengine.com"},
	{"foo.bar.example.com"}, {"a_b.example.com"}, {"x_y.u.example.com"}, {"x.u.example.com"},
}

// nameWarnings keeps the warnings about match names, without the address prefix.
func nameWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.Contains(w, "match name") || strings.Contains(w, "peer name checks") {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// TestOracleAgreement checks Check against real posttls-finger (Postfix 3.7.11, OpenSSL 3)
// on every certificate kind x reference list at level secure.
func TestOracleAgreement(t *testing.T) {
	finger.Require(t)
	if testing.Short() {
		t.Skip("oracle matrix skipped in -short mode")
	}
	h := pki.MustHierarchy(t)
	ctx := context.Background()
	sem := make(chan struct{}, 3)
	var mu sync.Mutex
	verified, failed := 0, 0
	t.Cleanup(func() {
		// The matrix must exercise both outcomes broadly, or it proves little.
		if !t.Failed() {
			assert.True(t, verified >= 50 && failed >= 50, "matrix too one-sided: %d verified, %d failed", verified, failed)
		}
		t.Logf("posttls-finger agreement: %d verified, %d failed", verified, failed)
	})
	for _, kind := range oracleCerts {
		spec := pki.Spec{DNS: kind.spec.dns, CN: kind.spec.cn}
		for _, ip := range kind.spec.ips {
			spec.IPs = append(spec.IPs, net.ParseIP(ip))
		}
		leaf := h.Leaf(t, spec)
		srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.0.1:0", Certificates: []tls.Certificate{pki.TLSCertificate(leaf, h.Inter)}})
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		dest := "[127.0.0.1]:" + strconv.Itoa(srv.Port())
		for _, refs := range oracleRefs {
			t.Run(kind.name+"/"+strings.Join(refs, ":"), func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				fr, err := finger.Run(ctx, finger.Options{Destination: dest, Level: "secure", Match: refs, CAPEM: h.Root.PEM()})
				<-sem
				require.NoError(t, err)
				list, warns := References(refs, "127.0.0.1", "127.0.0.1", Options{})
				r := Check(leaf.Cert, list, Options{})
				var ours []string
				for _, w := range warns {
					ours = append(ours, w.Render(""))
				}
				for i := range ours {
					ours[i] = strings.TrimPrefix(ours[i], ": ")
				}
				sort.Strings(ours)
				bad := false
				if !assert.Equal(t, fr.Trust == "Verified", r.Matched, "matched, posttls-finger says %q (%s); ours: %s", fr.Trust, fr.VerifyFailure, r.Summary()) {
					bad = true
				}
				if !r.Matched && !assert.Equal(t, fr.VerifyFailure, r.Error, "verification error") {
					bad = true
				}
				if fr.PeerName != "" && !assert.Equal(t, fr.PeerName, r.MatchedName, "matched name against posttls-finger's matched peername") {
					bad = true
				}
				if !assert.Equal(t, strings.Join(nameWarnings(fr.Warnings), "\n"), strings.Join(ours, "\n"), "warnings") {
					bad = true
				}
				if bad {
					t.Logf("posttls-finger %q:\n%s", fr.Args, strings.Join(fr.Lines, "\n"))
				}
				mu.Lock()
				if fr.Trust == "Verified" {
					verified++
				} else {
					failed++
				}
				mu.Unlock()
			})
		}
	}
}
