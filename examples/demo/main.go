// Command demo replays the questions Postfix admins ask most, offline, on an embedded
// configuration: it writes a main.cf and a tls_policy table, generates the certificates the
// servers would present, and asks the library what Postfix 3.7.11 would decide and why.
//
//	go run ./examples/demo
//
// Scenarios:
//  1. fastmail-like hosted domain: "secure" never matches the MX certificate, "verify" and
//     "secure match=.messagingengine.com" do;
//  2. a certificate with only a subject CN, matched by name;
//  3. DANE "3 1 1" record left stale after a key rollover;
//  4. a fingerprint pin made with SHA-1 while Postfix compares SHA-256;
//  5. no CA bundle configured.
//
// It needs no network. Live checks against real servers come with package smtpclient.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/match"
	"github.com/postfixtls/postfixtls/policy"
)

const mainCF = `# embedded demo configuration
compatibility_level = 3.6
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtp_dns_support_level = dnssec
smtp_tls_policy_maps = texthash:{{dir}}/tls_policy
`

const tlsPolicy = `# destination        policy
fastmail.fm          secure
verify.fastmail.fm   verify
fixed.fastmail.fm    secure match=.messagingengine.com
hearst.example       verify
dane.example         dane
pinned.example       fingerprint
    match=%s
noca.example         verify
`

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type demo struct {
	w   io.Writer
	s   *policy.Settings
	pki *pki.Hierarchy
}

func run(ctx context.Context, w io.Writer) error {
	h, err := pki.NewHierarchy()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "postfixtls-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The pinned server's certificate, and the SHA-1 pin an admin copied from a browser.
	pinned, err := pki.New(pki.Spec{CN: []string{"mx.pinned.example"}, DNS: []string{"mx.pinned.example"}}, h.Inter)
	if err != nil {
		return err
	}
	sha1Pin, err := fingerprint.Compute(pinned.Cert, "sha1")
	if err != nil {
		return err
	}
	table := fmt.Sprintf(tlsPolicy, sha1Pin.CertString())
	if err := os.WriteFile(filepath.Join(dir, "tls_policy"), []byte(table), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(strings.ReplaceAll(mainCF, "{{dir}}", dir)), 0o644); err != nil {
		return err
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir, MyHostname: "client.example.net"})
	if err != nil {
		return err
	}
	d := &demo{w: w, s: s, pki: h}
	fmt.Fprintf(w, "postfixtls demo: what Postfix %s would decide, offline, on an embedded main.cf and tls_policy\n", s.Version())

	steps := []func(context.Context) error{d.fastmail, d.cnOnly, func(ctx context.Context) error { return d.daneRollover(ctx) },
		func(ctx context.Context) error { return d.sha1Pin(ctx, pinned) }, d.noCA}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// policyFor resolves a recipient and prints the policy and where it came from.
func (d *demo) policyFor(ctx context.Context, rcpt string) (policy.Policy, policy.NextHop, error) {
	r, err := d.s.Resolve(ctx, rcpt)
	if err != nil {
		return policy.Policy{}, policy.NextHop{}, err
	}
	h := r.Hops[0]
	fmt.Fprintf(d.w, "   %s -> next hop %q, policy %s", rcpt, h.Key, h.Policy.Level)
	if !h.Policy.Valid {
		fmt.Fprintf(d.w, " INVALID: deferred %s (%s)", h.Policy.DSN, h.Policy.Reason)
	}
	if len(h.Policy.Match) > 0 {
		fmt.Fprintf(d.w, " (match %s from %s)", strings.Join(h.Policy.Match, ":"), h.Policy.MatchFrom)
	}
	fmt.Fprintf(d.w, "\n      decided by %s\n", relSource(h.Policy.Source.String()))
	for _, w := range h.Policy.Warnings {
		fmt.Fprintf(d.w, "      warning: %s\n", w)
	}
	return h.Policy, h.NextHop, nil
}

func relSource(s string) string {
	if i := strings.Index(s, "/tls_policy"); i >= 0 {
		if j := strings.LastIndex(s[:i], ":"); j >= 0 {
			return s[:j+1] + s[i+1:]
		}
	}
	return s
}

// names checks a certificate against a policy's match list for one MX host name.
func (d *demo) names(p policy.Policy, hop policy.NextHop, host string, cert *x509.Certificate) match.Result {
	refs, _ := match.References(p.Match, hop.Domain, host, match.Options{})
	res := match.Check(cert, refs, match.Options{})
	verdict := "would be Verified: delivered"
	if !res.Matched {
		verdict = "fails: deferred (Server certificate not verified)"
	}
	fmt.Fprintf(d.w, "      server %s presents %s\n      -> %s\n      -> %s\n", host, certNames(cert), verdict, res.Summary())
	return res
}

func certNames(c *x509.Certificate) string {
	var n []string
	for _, x := range match.Names(c, match.Options{}).All() {
		n = append(n, fmt.Sprintf("%s %s", x.Kind, x.Value))
	}
	return strings.Join(n, ", ")
}

func (d *demo) fastmail(ctx context.Context) error {
	fmt.Fprintln(d.w, "\n1. Hosted domain: fastmail.fm's MX is in1-smtp.messagingengine.com")
	cert, err := pki.New(pki.Spec{CN: []string{"*.messagingengine.com"}, DNS: []string{"*.messagingengine.com", "messagingengine.com"}}, d.pki.Inter)
	if err != nil {
		return err
	}
	const mx = "in1-smtp.messagingengine.com"
	for _, rcpt := range []string{"user@fastmail.fm", "user@verify.fastmail.fm", "user@fixed.fastmail.fm"} {
		p, hop, err := d.policyFor(ctx, rcpt)
		if err != nil {
			return err
		}
		res := d.names(p, hop, mx, cert.Cert)
		if !res.Matched && p.Level == policy.Secure {
			fmt.Fprintf(d.w, "      fix (narrowest first): %s secure match=.messagingengine.com\n", hop.Key)
			fmt.Fprintf(d.w, "      note: verify (match=hostname) accepts the MX name, but trusts the unsigned MX lookup\n")
		}
	}
	return nil
}

func (d *demo) cnOnly(ctx context.Context) error {
	fmt.Fprintln(d.w, "\n2. A certificate with no subjectAltName, only CN=mx.hearst.example")
	cert, err := pki.New(pki.Spec{CN: []string{"mx.hearst.example"}}, d.pki.Inter)
	if err != nil {
		return err
	}
	p, hop, err := d.policyFor(ctx, "user@hearst.example")
	if err != nil {
		return err
	}
	d.names(p, hop, "mx.hearst.example", cert.Cert)
	return nil
}

func (d *demo) daneRollover(ctx context.Context) error {
	fmt.Fprintln(d.w, "\n3. DANE: the server rolled its key, the TLSA record still names the old one")
	p, _, err := d.policyFor(ctx, "user@dane.example")
	if err != nil {
		return err
	}
	old, err := pki.New(pki.Spec{CN: []string{"mx.dane.example"}, DNS: []string{"mx.dane.example"}}, nil)
	if err != nil {
		return err
	}
	cur, err := pki.New(pki.Spec{CN: []string{"mx.dane.example"}, DNS: []string{"mx.dane.example"}}, nil)
	if err != nil {
		return err
	}
	published := fmt.Sprintf("_25._tcp.mx.dane.example. IN TLSA 3 1 1 %s", spkiSHA256(old))
	recs, err := dane.ParseRecords(strings.TrimPrefix(published, "_25._tcp.mx.dane.example. IN TLSA "))
	if err != nil {
		return err
	}
	set := dane.Classify(recs, "_25._tcp.mx.dane.example", "_25._tcp.mx.dane.example", dane.Options{Digests: nil})
	res := set.Verify([]*x509.Certificate{cur.Cert}, dane.VerifyOptions{Names: []string{"mx.dane.example", "dane.example"}})
	fmt.Fprintf(d.w, "      published: %s\n", published)
	fmt.Fprintf(d.w, "      policy stays %s (DNSSEC lookups on: %v)\n", p.Level, p.DANE != nil && p.DANE.Problem == "")
	for _, line := range res.Explain() {
		fmt.Fprintf(d.w, "      -> %s\n", line)
	}
	if !res.Verified {
		fmt.Fprintf(d.w, "      -> deferred (Server certificate not verified); no plaintext fallback at dane\n")
		fmt.Fprintf(d.w, "      fix: publish _25._tcp.mx.dane.example. IN TLSA 3 1 1 %s (keep both records during a rollover)\n", spkiSHA256(cur))
	}
	return nil
}

func spkiSHA256(c *pki.Cert) string {
	sum := sha256.Sum256(c.SPKI())
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func (d *demo) sha1Pin(ctx context.Context, cert *pki.Cert) error {
	fmt.Fprintln(d.w, "\n4. A fingerprint pin copied as SHA-1, while Postfix compares SHA-256")
	p, _, err := d.policyFor(ctx, "user@pinned.example")
	if err != nil {
		return err
	}
	list, _, err := fingerprint.ParseList(p.Match, fingerprint.Table, fingerprint.Options{Digest: p.FingerprintDigest, ColonsOptional: true})
	if err != nil {
		return err
	}
	res := fingerprint.Check(cert.Cert, list)
	fmt.Fprintf(d.w, "      smtp_tls_fingerprint_digest = %s\n      -> %s\n", p.FingerprintDigest, res.Summary())
	for _, id := range res.Identified {
		if id.Found {
			fmt.Fprintf(d.w, "      -> the pin is %s\n", id.Why)
		}
	}
	fp, err := fingerprint.Compute(cert.Cert, p.FingerprintDigest)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "      fix: pinned.example fingerprint match=%s   (the public key's %s; survives certificate renewals with the same key)\n", fp.PublicKeyString(), p.FingerprintDigest)
	return nil
}

func (d *demo) noCA(ctx context.Context) error {
	fmt.Fprintln(d.w, "\n5. verify with no CA bundle configured")
	p, _, err := d.policyFor(ctx, "user@noca.example")
	if err != nil {
		return err
	}
	if p.CAFile == "" && p.CAPath == "" && len(p.TrustAnchorFiles) == 0 {
		fmt.Fprintln(d.w, "      smtp_tls_CAfile and smtp_tls_CApath are empty: Postfix trusts no CA at all,")
		fmt.Fprintln(d.w, "      so every certificate fails with \"untrusted issuer\": deferred (Server certificate not verified)")
		fmt.Fprintln(d.w, "      fix: smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt   (main.cf)")
	}
	return nil
}
