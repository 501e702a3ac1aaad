package dane

import (
	"context"
	"encoding/pem"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func TestReadTrustAnchors(t *testing.T) {
	c := pki.Must(t, pki.Spec{CN: []string{"ca"}}, nil)
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: c.SPKI()})
	old := pem.EncodeToMemory(&pem.Block{Type: "X509 CERTIFICATE", Bytes: c.DER})
	cases := []struct {
		name    string
		in      string
		recs    []string // "u s m" of each record
		skipped int
		err     string
	}{
		{"§6.5 CERTIFICATE becomes 2 0 0 and 3 0 0", string(c.PEM()), []string{"2 0 0", "3 0 0"}, 0, ""},
		{"§6.5 X509 CERTIFICATE too", string(old), []string{"2 0 0", "3 0 0"}, 0, ""},
		{"§6.5 PUBLIC KEY becomes 2 1 0 and 3 1 0", string(pub), []string{"2 1 0", "3 1 0"}, 0, ""},
		{"§6.5 other PEM blocks skipped but count as read", string(c.KeyPEM()) + string(c.PEM()), []string{"2 0 0", "3 0 0"}, 1, ""},
		{"§6.5 only a private key: still a valid (useless) file", string(c.KeyPEM()), nil, 1, ""},
		{"§6.5 empty file is invalid", "", nil, 0, "no PEM object"},
		{"§6.5 text without PEM is invalid", "hello\n", nil, 0, "no PEM object"},
		{"malformed PEM block is invalid", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n" + string(c.PEM()), nil, 0, "malformed PEM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta, err := ReadTrustAnchors(strings.NewReader(tc.in), "/etc/postfix/ta.pem")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrTrustAnchorFile) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range ta.Records {
				got = append(got, r.String()[:5])
			}
			if strings.Join(got, ",") != strings.Join(tc.recs, ",") || len(ta.Skipped) != tc.skipped {
				t.Fatalf("records %q skipped %q", got, ta.Skipped)
			}
		})
	}
}

func TestLoadTrustAnchorFileOpenError(t *testing.T) {
	_, err := LoadTrustAnchorFile(context.Background(), fstest.MapFS{}, "/etc/postfix/missing.pem")
	var te *TrustAnchorError
	if !errors.As(err, &te) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	// §6.5: "warning: error opening trust anchor file: <file>: <errno text>"
	if !strings.HasPrefix(te.Warning, "error opening trust anchor file: /etc/postfix/missing.pem: ") {
		t.Fatalf("warning %q", te.Warning)
	}
}

func TestTrustAnchorVerification(t *testing.T) {
	h := pki.MustHierarchy(t)
	past := time.Now().Add(-48 * time.Hour)
	leaf := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}})
	expired := h.Leaf(t, pki.Spec{DNS: []string{"mx.example.com"}, NotBefore: past, NotAfter: past.Add(time.Hour)})
	load := func(c *pki.Cert) *RecordSet {
		ta, err := LoadTrustAnchorFile(context.Background(), fstest.MapFS{"ta.pem": {Data: c.PEM()}}, "ta.pem")
		if err != nil {
			t.Fatal(err)
		}
		return ta.RecordSet(Options{NamAddrPort: nap})
	}
	opts := VerifyOptions{Names: []string{"mx.example.com"}, EENameChecks: true}
	cases := []struct {
		name  string
		ta    *pki.Cert
		chain []*pki.Cert
		names []string
		ok    bool
		depth int
		log   string
	}{
		{"§9 vector 70: tafile with the issuing CA verifies at depth 1", h.Inter, []*pki.Cert{leaf, h.Inter}, nil, true, 1, ""},
		{"§9 vector 70: tafile holding the expired leaf, name matches: verified (no dates)", expired, []*pki.Cert{expired, h.Inter}, nil, true, 0, ""},
		{"§9 vector 70: tafile holding the leaf, name does not match: hostname mismatch", leaf, []*pki.Cert{leaf, h.Inter},
			[]string{"other.example.com"}, false, 0, "server certificate verification failed for " + nap + ": num=62:hostname mismatch"},
		{"§6.5 CA anchor: expired leaf fails", h.Inter, []*pki.Cert{expired, h.Inter}, nil, false, 0,
			"server certificate verification failed for " + nap + ": certificate has expired"},
		{"§6.5 non-matching TA: num=65", h.Other, []*pki.Cert{leaf, h.Inter}, nil, false, 0,
			"CA certificate verification failed for " + nap + ": num=65:no matching DANE TLSA records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts
			if c.names != nil {
				o.Names = c.names
			}
			r := load(c.ta).Verify(chainOf(c.chain...), o)
			if r.Verified != c.ok {
				t.Fatalf("verified %v err %v", r.Verified, r.Err)
			}
			if c.ok {
				if r.Match.Depth != c.depth {
					t.Fatalf("depth %d", r.Match.Depth)
				}
				return
			}
			if got := r.Err.LogLine(nap); got != c.log {
				t.Fatalf("log %q", got)
			}
		})
	}
}
