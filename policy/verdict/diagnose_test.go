package verdict_test

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient/reply"
)

// fastmailCase judges the seed's fastmail observation (testdata/eval/fastmail: the chain,
// and its TLSA records when tlsa is set) under a policy table row, as release v, with the
// CAfile loaded through LoadTrust and the policy computed by Settings.
func fastmailCase(t *testing.T, v policy.Version, row string, tlsa bool) fmCase {
	t.Helper()
	return fastmailMaps(t, v, "inline:{{"+row+"}}", tlsa)
}

// fastmailMaps is fastmailCase with smtp_tls_policy_maps given whole.
func fastmailMaps(t *testing.T, v policy.Version, maps string, tlsa bool) fmCase {
	t.Helper()
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
		"smtp_tls_policy_maps":    maps,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fastmailJudge(t, s, tlsa)
}

// fastmailJudge judges the seed's fastmail observation under the Settings s.
func fastmailJudge(t *testing.T, s *policy.Settings, tlsa bool) fmCase {
	t.Helper()
	ctx := context.Background()
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

// TestDiagnoseSNIDetail (B-2): the servername=hostname hint is given only when the
// certificate presented does not already name the MX host; when it does, asking for that
// name with SNI cannot bring another certificate, and the hint would mislead.
func TestDiagnoseSNIDetail(t *testing.T) {
	sni := func(d verdict.Decision) bool {
		for _, f := range d.Findings {
			for _, x := range f.Details {
				if strings.Contains(x, "servername=hostname") {
					return true
				}
			}
		}
		return false
	}
	// secure for fastmail.fm: the certificate names the MX host (*.messagingengine.com).
	c := fastmailCase(t, policy.V(3, 7, 11), "fastmail.fm = secure", false)
	if c.d.Cause != verdict.CauseNameMismatch || sni(c.d) {
		t.Errorf("cause %s, SNI hint %v: %+v", c.d.Cause, sni(c.d), c.d.Findings)
	}
	// verify against an MX host the certificate does not name: SNI might help.
	obs := c.obs
	obs.Host = "mx.fastmail.fm"
	d := verdict.Evaluate(c.p, c.hop, obs, verdict.EvalOptions{Trust: c.trust})
	if d.Cause != verdict.CauseNameMismatch || !sni(d) {
		t.Errorf("cause %s, SNI hint %v: %+v", d.Cause, sni(d), d.Findings)
	}
}

// TestDiagnoseDuplicateKey (dict_thash.c): a texthash: table that holds a key twice is
// unavailable, every lookup fails and Postfix defers with "client TLS configuration
// problem". The fix deletes one of the two rows, proven: here only deleting the second
// (default secure) row delivers, so the other deletion is not shown.
func TestDiagnoseDuplicateKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tls_policy")
	rows := "# two rows for one key\nfastmail.fm secure match=.messagingengine.com ciphers=high\nfastmail.fm\n  secure\n"
	if err := os.WriteFile(file, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	d := fastmailMaps(t, policy.V(3, 7, 11), "texthash:"+file, false).d
	if d.Outcome != verdict.OutcomeDefer || d.Reason != policy.InvalidReason {
		t.Fatalf("decision %s %q", d.Outcome, d.Reason)
	}
	var fixes []finding.Fix
	for _, f := range d.Findings {
		fixes = append(fixes, f.Fixes...)
	}
	if len(fixes) != 1 || fixes[0].Kind != finding.FixFile || fixes[0].Key != file {
		t.Fatalf("fixes %+v", fixes)
	}
	fx := fixes[0]
	if fx.Content != "# two rows for one key\nfastmail.fm secure match=.messagingengine.com ciphers=high\n" || fx.Proven == "" ||
		!strings.Contains(fx.Note, "delete line 3 (fastmail.fm  secure)") {
		t.Errorf("fix %#v", fx)
	}
}

// TestDiagnoseTLSProxyMissing (smtp_proto.c, tlsproxy(8)): with connection reuse smtp(8)
// hands the TLS session to tlsproxy; a master.cf without that service fails every
// handshake ("connect to private/tlsproxy service: No such file or directory", real
// Postfix 3.7.11 in the conformance case main/connection-reuse-no-tlsproxy). The fixes:
// the master.cf line (keeps reuse), then the row without connection_reuse=, both proven.
func TestDiagnoseTLSProxyMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ca, err := os.ReadFile("testdata/eval/fastmail/cafile.pem")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"cafile.pem": string(ca),
		"main.cf":    "compatibility_level = 3.6\nsmtp_tls_CAfile = $config_directory/cafile.pem\nsmtp_tls_policy_maps = texthash:$config_directory/tls_policy\n",
		"master.cf":  "smtp      unix  -       -       n       -       -       smtp\n",
		"tls_policy": "fastmail.fm secure match=.messagingengine.com connection_reuse=yes ciphers=high\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := policy.Load(ctx, policy.LoadOptions{Version: policy.V(3, 7, 11), ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := fastmailJudge(t, s, false)
	if c.p.TLSProxyMissing != "tlsproxy" {
		t.Fatalf("TLSProxyMissing %q", c.p.TLSProxyMissing)
	}
	d := c.d
	if d.Cause != verdict.CauseTLSProxy || d.Reason != verdict.ReasonHandshake {
		t.Fatalf("decision %s %q", d.Cause, d.Reason)
	}
	if len(d.Findings) != 1 || d.Findings[0].Code != finding.TLSProxyMissing {
		t.Fatalf("findings %+v", d.Findings)
	}
	var got []string
	for _, fx := range d.Findings[0].Fixes {
		if fx.Proven == "" {
			t.Errorf("unproven %q", fx)
		}
		got = append(got, fx.String())
	}
	want := []string{"tlsproxy unix  -       -       n       -       0       tlsproxy", "fastmail.fm secure match=.messagingengine.com ciphers=high"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fixes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDiagnoseMissingTAFile (§6.5, tls_dane_load_trustfile()): a tafile= that cannot be
// opened makes the entry invalid; the first fix creates that file with the CA the server
// sent (proven: the row then delivers), before the correction that drops tafile= (a
// labelled downgrade).
func TestDiagnoseMissingTAFile(t *testing.T) {
	ta := filepath.Join(t.TempDir(), "fastmail-ca.pem")
	d := fastmailCase(t, policy.V(3, 7, 11), "fastmail.fm = secure match=.messagingengine.com tafile="+ta+" ciphers=high", false).d
	if d.Reason != policy.InvalidReason || len(d.Findings) == 0 || len(d.Findings[0].Fixes) < 2 {
		t.Fatalf("decision %q, findings %+v", d.Reason, d.Findings)
	}
	fx := d.Findings[0].Fixes[0]
	if fx.Kind != finding.FixFile || fx.Key != ta || !strings.Contains(fx.Content, "BEGIN CERTIFICATE") || fx.Proven == "" || fx.IsDowngrade() {
		t.Errorf("first fix %#v", fx)
	}
	if last := d.Findings[0].Fixes[len(d.Findings[0].Fixes)-1]; !last.IsDowngrade() || strings.Contains(last.Value, "tafile=") {
		t.Errorf("last fix %#v", last)
	}
}

// TestDiagnoseStalePostmap: the source was fixed but postmap not run: Postfix answers from
// the stale .db (whose row is invalid), and the fix is the postmap command.
func TestDiagnoseStalePostmap(t *testing.T) {
	bin, err := exec.LookPath("postmap")
	if err != nil {
		if bin, err = "/usr/sbin/postmap", nil; func() bool { _, e := os.Stat(bin); return e != nil }() {
			need.Missing(t, "postmap not found: install the postfix package")
		}
	}
	dir := t.TempDir()
	file := dir + "/tls_policy"
	if err := os.WriteFile(dir+"/main.cf", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("example.com bogus-level\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", dir, "hash:"+file).CombinedOutput(); err != nil {
		t.Fatalf("postmap: %v %s", err, out)
	}
	if err := os.WriteFile(file, []byte("example.com secure match=.example.net\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for name, age := range map[string]time.Duration{file: time.Hour, file + ".db": 2 * time.Hour} {
		if err := os.Chtimes(name, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{"smtp_tls_policy_maps": "hash:" + file})
	if err != nil {
		t.Fatal(err)
	}
	p, hop := policyFor(t, s, "user@example.com", "mx.example.net")
	if !p.Invalid || !strings.Contains(p.Source.Note, "older than source file") {
		t.Fatalf("policy %+v", p)
	}
	d := verdict.Evaluate(p, hop, verdict.Observation{Host: "mx.example.net", Addr: "192.0.2.1", HaveMX: true}, verdict.EvalOptions{})
	if d.Cause != verdict.CauseInvalidPolicy || len(d.Findings) == 0 || len(d.Findings[0].Fixes) == 0 {
		t.Fatalf("%s %+v", d.Cause, d.Findings)
	}
	fx := d.Findings[0].Fixes[0]
	if fx.Kind != finding.FixCommand || fx.Value != "postmap hash:"+file || !strings.Contains(fx.Proven, "gets past this failure") {
		t.Errorf("fix %#v", fx)
	}
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

// TestDiagnoseSTARTTLSRefused (§3.2, smtp_proto.c): a 4xx reply to STARTTLS defers at
// every level that requires TLS, while at may smtp(8) goes on in plaintext in the same
// session (real Postfix 3.7.11: conformance cases level/*/starttls-refused). The fix is a
// row at may for this next hop only, proven and labelled a downgrade; the row keeps the
// admin's other attributes (ciphers=) and drops what may cannot use (match=).
func TestDiagnoseSTARTTLSRefused(t *testing.T) {
	r, _, err := reply.Parse("454 4.7.0 TLS not available due to local problem\r\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"example.com = encrypt", "example.com = secure match=.example.net ciphers=high"} {
		s, err := policy.NewSettings(policy.V(3, 7, 11), map[string]string{"smtp_tls_policy_maps": "inline:{{" + row + "}}"})
		if err != nil {
			t.Fatal(err)
		}
		p, hop := policyFor(t, s, "user@example.com", "mx.example.com")
		obs := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.1", Port: 25, HaveMX: true, STARTTLSOffered: true, STARTTLSReply: r}
		d := verdict.Evaluate(p, hop, obs, verdict.EvalOptions{})
		if d.Outcome != verdict.OutcomeDefer || d.Cause != verdict.CauseSTARTTLSRefused || len(d.Findings) != 1 {
			t.Fatalf("%s: %s %s %+v", row, d.Outcome, d.Cause, d.Findings)
		}
		fx := d.Findings[0].Fixes
		if len(fx) != 1 || !fx[0].IsDowngrade() || fx[0].Proven == "" || !strings.HasPrefix(fx[0].String(), "example.com may") ||
			strings.Contains(fx[0].Value, "match=") || (strings.Contains(row, "ciphers=high") && !strings.Contains(fx[0].Value, "ciphers=high")) {
			t.Errorf("%s: fixes %#v", row, fx)
		}
	}
}

// TestDiagnosePatternRow: a regexp: or pcre: rule whose pattern matches only the next hop
// (/^fastmail\.fm$/) is a row for it, so its fix rewrites the rule in place with the other
// attributes kept (conformance table/regexp-case-sensitive/lower-case-rcpt: real Postfix
// 3.7.11 delivers after it); a rule whose pattern covers more names gets no row fix.
func TestDiagnosePatternRow(t *testing.T) {
	for _, c := range []struct {
		typ, rule string
		want      string // the first fix; "" none
	}{
		{"regexp", `/^fastmail\.fm$/ secure ciphers=high`, `/^fastmail\.fm$/ secure match=.messagingengine.com ciphers=high`},
		{"pcre", `/^fastmail\.fm$/i secure ciphers=high`, `/^fastmail\.fm$/i secure match=.messagingengine.com ciphers=high`},
		{"regexp", `/fastmail\.fm$/ secure ciphers=high`, ""},
	} {
		file := filepath.Join(t.TempDir(), "tls_policy")
		if err := os.WriteFile(file, []byte(c.rule+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d := fastmailMaps(t, policy.V(3, 7, 11), c.typ+":"+file, false).d
		if d.Outcome != verdict.OutcomeDefer {
			t.Fatalf("%s: decision %s %q", c.rule, d.Outcome, d.Reason)
		}
		var first *finding.Fix
		for _, f := range d.Findings {
			for i := range f.Fixes {
				if first == nil && f.Fixes[i].Kind == finding.FixTableRow {
					first = &f.Fixes[i]
				}
			}
		}
		switch {
		case c.want == "" && first != nil:
			t.Errorf("%s: a row fix %q for a pattern that covers other names", c.rule, first.String())
		case c.want != "" && (first == nil || first.String() != c.want || first.Proven == "" || first.Table != c.typ+":"+file):
			t.Errorf("%s: first row fix %+v, want %q", c.rule, first, c.want)
		}
	}
}
