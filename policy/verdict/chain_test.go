package verdict_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy"
)

func TestLoadTrust(t *testing.T) {
	h := pki.MustHierarchy(t)
	sys := pki.Must(t, pki.Spec{CN: []string{"System Root"}, CA: true}, nil)
	fsys := fstest.MapFS{
		"etc/ssl/ca.pem":               {Data: pki.ChainPEM(h.Root, h.Inter)},
		"etc/ssl/certs/1a2b3c4d.0":     {Data: h.Root.PEM()},
		"etc/ssl/certs/other-root.pem": {Data: h.Other.PEM()},
		"etc/postfix/ta.pem":           {Data: h.Inter.PEM()},
	}
	ctx := context.Background()
	t.Run("§3.1 CAfile: every certificate", func(t *testing.T) {
		tr, err := verdict.LoadTrust(ctx, fsys, policy.Policy{CAFile: "/etc/ssl/ca.pem"}, nil)
		if err != nil || len(tr.CAs) != 2 {
			t.Fatalf("%v %+v", err, tr)
		}
	})
	t.Run("A-3 CApath: only hash-named files count, like OpenSSL", func(t *testing.T) {
		tr, err := verdict.LoadTrust(ctx, fsys, policy.Policy{CAPath: "/etc/ssl/certs"}, nil)
		if err != nil || len(tr.CAs) != 1 || len(tr.Notes) != 2 {
			t.Fatalf("%v %+v", err, tr)
		}
	})
	t.Run("§3.1 tls_append_default_CA adds the system roots only with a CAfile", func(t *testing.T) {
		tr, _ := verdict.LoadTrust(ctx, fsys, policy.Policy{CAFile: "/etc/ssl/ca.pem", AppendDefaultCA: true}, []*x509.Certificate{sys.Cert})
		if len(tr.CAs) != 3 {
			t.Errorf("CAs %d", len(tr.CAs))
		}
		tr, _ = verdict.LoadTrust(ctx, fsys, policy.Policy{AppendDefaultCA: true}, []*x509.Certificate{sys.Cert})
		if len(tr.CAs) != 0 {
			t.Errorf("system roots without CAfile: %d", len(tr.CAs))
		}
	})
	t.Run("§6.5 trust-anchor files", func(t *testing.T) {
		tr, err := verdict.LoadTrust(ctx, fsys, policy.Policy{TrustAnchorFiles: []string{"/etc/postfix/ta.pem", "/etc/postfix/missing.pem"}}, nil)
		if err != nil || tr.TrustAnchors["/etc/postfix/ta.pem"] == nil || tr.TrustAnchors["/etc/postfix/missing.pem"] != nil || len(tr.Notes) != 1 {
			t.Fatalf("%v %+v", err, tr)
		}
	})
	t.Run("H-1 unreadable CAfile disables TLS", func(t *testing.T) {
		_, err := verdict.LoadTrust(ctx, fsys, policy.Policy{CAFile: "/nope.pem"}, nil)
		if !errors.Is(err, verdict.ErrCAFile) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a missing CApath does not disable TLS (conformance table/capath-missing)", func(t *testing.T) {
		tr, err := verdict.LoadTrust(ctx, fsys, policy.Policy{CAPath: "/etc/postfix/rootcas/"}, nil)
		if err != nil || len(tr.CAs) != 0 || len(tr.Notes) != 1 || !strings.Contains(tr.Notes[0], "cannot be read") {
			t.Fatalf("%v %+v", err, tr)
		}
	})
	t.Run("context cancellation", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := verdict.LoadTrust(c, fsys, policy.Policy{CAFile: "/etc/ssl/ca.pem"}, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
}

func TestChainErrorLogLines(t *testing.T) {
	const na = "mx.example.com[192.0.2.10]:25"
	for _, c := range []struct {
		name string
		e    verdict.ChainError
		want string
	}{
		{"§3.4 expired CA uses the CA prefix", verdict.ChainError{Num: verdict.X509Expired, Depth: 1},
			"CA certificate verification failed for " + na + ": certificate has expired"},
		{"§3.4 not yet valid leaf", verdict.ChainError{Num: verdict.X509NotYetValid},
			"server certificate verification failed for " + na + ": certificate not yet valid"},
		{"§3.4 purpose", verdict.ChainError{Num: verdict.X509InvalidPurpose},
			"certificate verification failed for " + na + ": not designated for use as a server certificate"},
		{"§3.4 chain too long", verdict.ChainError{Num: verdict.X509ChainTooLong, Depth: 11},
			"certificate verification failed for " + na + ": certificate chain longer than limit(10)"},
		{"§3.4 generic num=", verdict.ChainError{Num: verdict.X509InvalidCA, Text: verdict.X509InvalidCA.Text(), Depth: 1},
			"CA certificate verification failed for " + na + ": num=79:invalid CA certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.LogLine(na); got != c.want {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestVerifyChainNotACA(t *testing.T) {
	h := pki.MustHierarchy(t)
	// A leaf that signs another leaf: the "intermediate" is not a CA.
	mid := h.Leaf(t, pki.Spec{CN: []string{"not a ca"}})
	leaf := pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, mid)
	r := verdict.VerifyChain([]*x509.Certificate{leaf.Cert, mid.Cert, h.Inter.Cert}, verdict.ChainOptions{Roots: []*x509.Certificate{h.Root.Cert}})
	if r.OK {
		t.Fatalf("a non-CA issuer was accepted: %+v", r)
	}
}
