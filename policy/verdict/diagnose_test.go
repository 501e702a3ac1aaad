package verdict_test

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// fastmailCase judges the seed's fastmail observation (testdata/eval/fastmail: the chain,
// and its TLSA records when tlsa is set) under a policy table row, as release v, with the
// CAfile loaded through LoadTrust and the policy computed by Settings.
func fastmailCase(t *testing.T, v policy.Version, row string, tlsa bool) fmCase {
	t.Helper()
	ctx := context.Background()
	// The CAfile where Postfix (and Settings, which checks it) can read it.
	ca, err := os.ReadFile("testdata/eval/fastmail/cafile.pem")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "cafile.pem")
	if err := os.WriteFile(caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := policy.NewSettings(v, map[string]string{
		"smtp_tls_security_level": "may",
		"smtp_tls_CAfile":         caFile,
		"smtp_dns_support_level":  "dnssec",
		"smtp_tls_policy_maps":    "inline:{{" + row + "}}",
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Resolve(ctx, "user@fastmail.fm")
	if err != nil {
		t.Fatal(err)
	}
	hop := res.Hops[0].NextHop
	p, err := s.PolicyFor(ctx, res.Route, hop, "in1-smtp.messagingengine.com")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verdict.LoadPolicyTrust(ctx, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := os.Open("testdata/eval/fastmail/chain.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	files := verdict.ObservationFiles{Host: "in1-smtp.messagingengine.com", Addr: "192.0.2.10", Chain: chain}
	if tlsa {
		r, err := os.Open("testdata/eval/fastmail/tlsa.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		files.TLSA = r
	}
	obs, err := verdict.ObservationFromFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	obs.HaveMX = true
	return fmCase{verdict.Evaluate(p, hop, obs, verdict.EvalOptions{Trust: trust}), p, hop, obs, trust}
}

// fmCase is what fastmailCase judged, and how.
type fmCase struct {
	d     verdict.Decision
	p     policy.Policy
	hop   policy.NextHop
	obs   verdict.Observation
	trust *verdict.Trust
}

// TestDiagnoseFastmailEveryRelease: the seed question on its own release. Findings are
// chosen by the cause, not by Postfix's words (which differ before 3.6), so every release
// gets secure-nexthop-mismatch, and the first fix rewrites the admin's row keeping
// ciphers=high.
func TestDiagnoseFastmailEveryRelease(t *testing.T) {
	for _, vs := range []string{"2.11.0", "2.11.11", "3.0.0", "3.3.0", "3.4.0", "3.5.0", "3.5.27", "3.6.0", "3.6.20", "3.7.11", "3.8.20", "3.9.14", "3.10.13", "3.11.6"} {
		t.Run(vs, func(t *testing.T) {
			d := fastmailCase(t, policy.MustParseVersion(vs), "fastmail.fm = secure ciphers=high", false).d
			if d.Outcome != verdict.OutcomeDefer || d.Cause != verdict.CauseNameMismatch {
				t.Fatalf("decision %s %s %q", d.Outcome, d.Cause, d.Reason)
			}
			if len(d.Findings) == 0 || d.Findings[0].Code != finding.SecureNexthopMismatch || len(d.Findings[0].Fixes) == 0 {
				t.Fatalf("findings %+v", d.Findings)
			}
			fx := d.Findings[0].Fixes[0]
			if fx.String() != "fastmail.fm secure match=.messagingengine.com ciphers=high" {
				t.Errorf("first fix %q", fx)
			}
			if fx.Old != "secure ciphers=high" || fx.IsDowngrade() || fx.Proven == "" {
				t.Errorf("first fix: %#v", fx)
			}
			for _, x := range d.Findings[0].Fixes {
				if x.Kind == finding.FixTableRow && !strings.Contains(x.Value, "ciphers=high") {
					t.Errorf("fix %q drops ciphers=high", x)
				}
			}
		})
	}
}

// TestDiagnoseProvesFixes: a fix is shown only when judging the observation again with it
// delivers; none of them is a downgrade unless labelled, and downgrades come last.
func TestDiagnoseProvesFixes(t *testing.T) {
	c := fastmailCase(t, policy.V(3, 7, 11), "fastmail.fm = secure match=nexthop ciphers=high", false)
	d, p, hop := c.d, c.p, c.hop
	if len(d.Findings) == 0 {
		t.Fatal("no findings")
	}
	seenDowngrade := false
	for _, fx := range d.Findings[0].Fixes {
		if seenDowngrade && !fx.IsDowngrade() {
			t.Errorf("%q after a downgrade", fx)
		}
		seenDowngrade = seenDowngrade || fx.IsDowngrade()
		p2, err := p.With(context.Background(), hop, fx)
		if err != nil {
			t.Fatalf("%q: %v", fx, err)
		}
		if p2.Level == policy.Verify && !fx.IsDowngrade() {
			t.Errorf("secure to verify unlabelled: %q", fx)
		}
	}
}

// TestDiagnoseInvalidEntry: a row Postfix rejects gets the corrected row, proven valid.
func TestDiagnoseInvalidEntry(t *testing.T) {
	for _, c := range []struct{ row, want string }{
		{"fastmail.fm = encrypt match=.messagingengine.com ciphers=high", "fastmail.fm encrypt ciphers=high"},
		{"fastmail.fm = secure match=.messagingengine.com,.fastmail.fm", "fastmail.fm secure match=.messagingengine.com:.fastmail.fm"},
		{"fastmail.fm = secrue match=.messagingengine.com ciphers=high", "fastmail.fm secure match=.messagingengine.com ciphers=high"},
	} {
		d := fastmailCase(t, policy.V(3, 7, 11), c.row, false).d
		if d.Cause != verdict.CauseInvalidPolicy || len(d.Findings) == 0 || d.Findings[0].Code != finding.InvalidPolicy {
			t.Fatalf("%s: %s %+v", c.row, d.Cause, d.Findings)
		}
		if len(d.Findings[0].Fixes) == 0 || d.Findings[0].Fixes[0].String() != c.want {
			t.Errorf("%s: fixes %q, want %q first", c.row, d.Findings[0].FixLines(), c.want)
		}
	}
}

// TestDiagnoseEngineUnavailable: an unreadable smtp_tls_CAfile stops the TLS engine (§2.4
// item 5); the finding quotes Postfix's log lines, and any fix shown was proven to start
// the engine.
func TestDiagnoseEngineUnavailable(t *testing.T) {
	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{
		"smtp_tls_CAfile": "/nonexistent/postfixtls/ca.pem", "smtp_tls_policy_maps": "inline:{{example.com = verify ciphers=high}}"})
	if err != nil {
		t.Fatal(err)
	}
	p, hop := policyFor(t, s, "user@example.com", "mx.example.com")
	if len(p.EngineUnavailable) == 0 {
		t.Fatalf("policy %+v", p)
	}
	obs := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.1", HaveMX: true, STARTTLSOffered: true}
	d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{TLSEngineUnavailable: true})
	if d.Cause != verdict.CauseTLSEngine || len(d.Findings) != 1 || d.Findings[0].Code != finding.TLSEngineUnavailable {
		t.Fatalf("%s %+v", d.Cause, d.Findings)
	}
	if !strings.Contains(strings.Join(d.Findings[0].Details, "\n"), "cannot load Certification Authority data") {
		t.Errorf("details %q", d.Findings[0].Details)
	}
	for _, fx := range d.Findings[0].Fixes {
		if fx.Kind != finding.FixMainCF || !strings.Contains(fx.Proven, "gets past this failure") {
			t.Errorf("fix %+v", fx)
		}
	}
}

// TestDiagnoseCApathWithoutHashLinks: a CApath whose files are not hash links is not "no CA
// configured, set smtp_tls_CAfile": OpenSSL reads no file of it, and the finding says to
// create the links.
func TestDiagnoseCApathWithoutHashLinks(t *testing.T) {
	f := newFixture(t)
	fsys := fstest.MapFS{"etc/postfix/rootcas/test-root.pem": {Data: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.h.Root.Cert.Raw})}}
	p := pol(policy.Verify, "hostname")
	p.CAFile, p.CAPath = "", "/etc/postfix/rootcas/" // the seed's spelling: a trailing slash reads the same directory
	trust, err := verdict.LoadTrust(context.Background(), fsys, p, nil)
	if err != nil || len(trust.CAs) != 0 || trust.UnhashedCAPathFiles != 1 {
		t.Fatalf("trust %+v: %v", trust, err)
	}
	d := verdict.Evaluate(p, f.hop, obsTLS("mx.example.com", f.chain(f.mx)), verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: trust})
	if d.Cause != verdict.CauseUntrustedIssuer || len(d.Findings) == 0 || d.Findings[0].Code != finding.NoCA {
		t.Fatalf("%s %+v", d.Cause, d.Findings)
	}
	if !strings.Contains(d.Findings[0].Summary, "hash links") || !strings.Contains(strings.Join(d.Findings[0].Details, "\n"), "openssl rehash /etc/postfix/rootcas/") {
		t.Errorf("finding %+v", d.Findings[0])
	}
	for _, fx := range d.Findings[0].Fixes {
		if !strings.HasPrefix(fx.Proven, "delivers at ") {
			t.Errorf("unproven fix %+v", fx)
		}
	}
}

// TestDiagnosePostmap: a hash: table whose .db was never built is a lookup error (Postfix
// defers without connecting); the fix is the postmap command, proven by reading the table
// as postmap would build it.
func TestDiagnosePostmap(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/tls_policy", []byte("example.com secure match=.example.net\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{"smtp_tls_policy_maps": "hash:" + dir + "/tls_policy"})
	if err != nil {
		t.Fatal(err)
	}
	p, hop := policyFor(t, s, "user@example.com", "mx.example.net")
	if !p.Invalid {
		t.Fatalf("policy %+v", p)
	}
	d := verdict.Evaluate(p, hop, verdict.Observation{Host: "mx.example.net", Addr: "192.0.2.1", HaveMX: true}, verdict.EvalOptions{})
	if d.Cause != verdict.CauseInvalidPolicy || len(d.Findings) == 0 || len(d.Findings[0].Fixes) == 0 {
		t.Fatalf("%s %+v", d.Cause, d.Findings)
	}
	fx := d.Findings[0].Fixes[0]
	if fx.Kind != finding.FixCommand || fx.Value != "postmap hash:"+dir+"/tls_policy" || !strings.Contains(fx.Proven, "gets past this failure") {
		t.Errorf("fix %#v", fx)
	}
}

// policyFor is the policy Settings compute for the recipient's first next hop and host
// (an invalid Policy comes with its error, which the callers judge).
func policyFor(t *testing.T, s *policy.Settings, rcpt, host string) (policy.Policy, policy.NextHop) {
	t.Helper()
	ctx := context.Background()
	res, err := s.Resolve(ctx, rcpt)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.PolicyFor(ctx, res.Route, res.Hops[0].NextHop, host)
	return p, res.Hops[0].NextHop
}

// TestDiagnoseSenderFixable: deferrals the sending side can fix, each with the Postfix rule
// that defers and the first fix Diagnose must prove (or, where there is nothing to prove a
// fix with, the advice it must give instead).
func TestDiagnoseSenderFixable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	rootFile := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(rootFile, f.h.Root.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	noNames := f.h.Leaf(t, pki.Spec{}) // no subjectAltName, no CN
	pinOf := func(c *pki.Cert, digest string) string {
		fp, err := fingerprint.Compute(c.Cert, digest)
		if err != nil {
			t.Fatal(err)
		}
		return fp.PublicKeyString()
	}
	full := verdict.Chain{f.mx.Cert, f.h.Inter.Cert, f.h.Root.Cert}
	for _, c := range []struct {
		name         string
		main         map[string]string
		row          string
		chain        verdict.Chain // nil: no session observed
		cause        verdict.Cause
		code         finding.Code
		first        string // the first fix (its String); "" = none
		requires     []string
		proven       string // substring of the first fix's Proven
		detail, note string // substrings of a detail and of the first fix's note
		fixes        []string
	}{
		{name: "§4.2 verify: a certificate without any name matches no match list; the pin of its key",
			row: "example.com = verify", chain: verdict.Chain{noNames.Cert, f.h.Inter.Cert},
			cause: verdict.CauseNameMismatch, code: finding.HostnameMismatch,
			first: "example.com fingerprint match=" + pinOf(noNames, "sha256"), proven: "delivers at fingerprint",
			detail: "names no host at all", note: "no match list accepts this certificate"},
		{name: "§4.3 secure: a certificate without any name; the pin, before the verify downgrade (which fails too)",
			row: "example.com = secure ciphers=high", chain: verdict.Chain{noNames.Cert, f.h.Inter.Cert},
			cause: verdict.CauseNameMismatch, code: finding.HostnameMismatch,
			first: "example.com fingerprint match=" + pinOf(noNames, "sha256") + " ciphers=high", proven: "delivers at fingerprint",
			fixes: []string{"example.com fingerprint match=" + pinOf(noNames, "sha256") + " ciphers=high"}},
		{name: "§5 the pin is in the digest the configuration gives level fingerprint (md5 below compatibility_level 3.6)",
			main: map[string]string{"compatibility_level": "0"}, row: "example.com = verify", chain: verdict.Chain{noNames.Cert, f.h.Inter.Cert},
			cause: verdict.CauseNameMismatch, code: finding.HostnameMismatch,
			first: "example.com fingerprint match=" + pinOf(noNames, "md5"), proven: "delivers at fingerprint"},
		{name: "§1.4 a level word that misspells no level: candidate rows, strongest first, the level meant unknown",
			row: "example.com = bogus-level", cause: verdict.CauseInvalidPolicy, code: finding.InvalidPolicy,
			first: "example.com secure", proven: "accepts it at level secure and gets past this failure",
			detail: "the level you meant is unknown", note: "a candidate, not a correction",
			fixes: []string{"example.com secure", "example.com verify", "example.com encrypt", "example.com may"}},
		{name: "§1.4 a misspelt level is still corrected to the nearest level",
			row: "example.com = verfy ciphers=high", cause: verdict.CauseInvalidPolicy, code: finding.InvalidPolicy,
			first: "example.com verify ciphers=high", proven: "gets past this failure",
			fixes: []string{"example.com verify ciphers=high"}},
		{name: "§5 fingerprint without match=, certificate observed: the row pinning it",
			row: "example.com = fingerprint ciphers=high", chain: f.chain(f.mx), cause: verdict.CauseInvalidPolicy, code: finding.InvalidPolicy,
			first: "example.com fingerprint match=" + pinOf(f.mx, "sha256") + " ciphers=high", proven: "delivers at fingerprint"},
		{name: "§5 fingerprint without match=, nothing observed: no fix, how to obtain the digest",
			row: "example.com = fingerprint", cause: verdict.CauseInvalidPolicy, code: finding.InvalidPolicy,
			detail: "posttls-finger -c -l fingerprint -d sha256 example.com"},
		{name: "§2.4 item 5 a missing CAfile stops the engine; the server sent no root: a CAfile with its CA, trusted for the next hop by tafile=",
			main: map[string]string{"smtp_tls_CAfile": "/nonexistent/ca.pem"}, row: "example.com = verify", chain: f.chain(f.mx),
			cause: verdict.CauseTLSEngine, code: finding.TLSEngineUnavailable,
			first:    "smtp_tls_CAfile = /etc/postfix/tls/mx.example.com-ca.pem",
			requires: []string{"example.com verify tafile=/etc/postfix/tls/mx.example.com-ca.pem"}, proven: "delivers at verify"},
		{name: "§2.4 item 5 a missing CAfile; the server sent its root: a CAfile with the root",
			main: map[string]string{"smtp_tls_CAfile": "/nonexistent/ca.pem"}, row: "example.com = verify", chain: full,
			cause: verdict.CauseTLSEngine, code: finding.TLSEngineUnavailable,
			first: "smtp_tls_CAfile = /etc/postfix/tls/mx.example.com-ca.pem", requires: []string{"/etc/postfix/tls/mx.example.com-ca.pem"},
			proven: "delivers at verify"},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := map[string]string{"compatibility_level": "3.7", "smtp_tls_CAfile": rootFile, "smtp_tls_policy_maps": "inline:{{" + c.row + "}}"}
			for k, v := range c.main {
				params[k] = v
			}
			s, err := policy.NewSettings(policy.V(3, 7, 11), params)
			if err != nil {
				t.Fatal(err)
			}
			p, hop := policyFor(t, s, "user@example.com", "mx.example.com")
			obs := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.1", Port: 25, HaveMX: true, STARTTLSOffered: true}
			if c.chain != nil {
				obs = obsTLS("mx.example.com", c.chain)
			}
			trust, _ := verdict.LoadPolicyTrust(ctx, nil, p, nil)
			d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{Trust: trust, TLSEngineUnavailable: len(p.EngineUnavailable) > 0})
			if d.Outcome != verdict.OutcomeDefer || d.Cause != c.cause || len(d.Findings) == 0 || d.Findings[0].Code != c.code {
				t.Fatalf("%s %s %q, findings %+v", d.Outcome, d.Cause, d.Reason, d.Findings)
			}
			fd := d.Findings[0]
			if c.detail != "" && !strings.Contains(strings.Join(fd.Details, "\n"), c.detail) {
				t.Errorf("details %q, want %q", fd.Details, c.detail)
			}
			if c.first == "" {
				if len(fd.Fixes) != 0 {
					t.Errorf("fixes %q, want none", fd.FixLines())
				}
				return
			}
			if len(fd.Fixes) == 0 {
				t.Fatalf("no fix, want %q (details %q)", c.first, fd.Details)
			}
			fx := fd.Fixes[0]
			if fx.String() != c.first || !strings.Contains(fx.Proven, c.proven) || fx.IsDowngrade() {
				t.Errorf("first fix %q (proven %q, downgrade %q), want %q proven %q", fx, fx.Proven, fx.Downgrade, c.first, c.proven)
			}
			if !strings.Contains(fx.Note, c.note) {
				t.Errorf("note %q, want %q", fx.Note, c.note)
			}
			var req []string
			var walk func(rs []finding.Fix)
			walk = func(rs []finding.Fix) {
				for _, r := range rs {
					if r.Kind == finding.FixFile {
						req = append(req, r.Key)
					} else {
						req = append(req, r.String())
					}
					walk(r.Requires)
				}
			}
			walk(fx.Requires)
			for _, w := range c.requires {
				if !strings.Contains(strings.Join(req, "\n"), w) {
					t.Errorf("requires %q, want %q", req, w)
				}
			}
			if c.fixes != nil {
				var got []string
				for _, x := range fd.Fixes {
					if !x.IsDowngrade() {
						got = append(got, x.String())
					}
				}
				if strings.Join(got, "\n") != strings.Join(c.fixes, "\n") {
					t.Errorf("fixes kept %q, want %q", got, c.fixes)
				}
			}
		})
	}
}
