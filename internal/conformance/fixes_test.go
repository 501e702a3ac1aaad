package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/policy/finding"
)

func TestApplyFix(t *testing.T) {
	c := Case{Name: "x", Policy: []string{"other.test none", "example.test verify", "EXAMPLE.test secure"},
		MainCF: []string{"smtp_tls_fingerprint_digest = md5"}, Zone: []string{"example.test. IN MX 10 mx.example.test."}}

	n, err := ApplyFix(c, finding.Fix{Kind: finding.FixTableRow, Table: policyTable, Key: "example.test", Value: "secure match=.example.test",
		Requires: []finding.Fix{{Kind: finding.FixFile, Key: "/etc/postfix/tls/mx.pem", Content: "PEM"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"other.test none", "example.test secure match=.example.test"}, n.Policy)
	assert.Equal(t, map[string]string{"/etc/postfix/tls/mx.pem": "PEM"}, n.Files)
	assert.Equal(t, []string{"other.test none", "example.test verify", "EXAMPLE.test secure"}, c.Policy, "the case itself is unchanged")
	assert.Nil(t, c.Files)

	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixTableRow, Table: policyTable, Key: "new.test", Value: "may"})
	require.NoError(t, err)
	assert.Equal(t, "new.test may", n.Policy[3])
	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixTableRow, Table: policyTable, Key: "example.test", Delete: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"other.test none"}, n.Policy)

	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_fingerprint_digest", Value: "sha256"})
	require.NoError(t, err)
	assert.Equal(t, []string{"smtp_tls_fingerprint_digest = sha256"}, n.MainCF)
	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Value: "/x.pem"})
	require.NoError(t, err)
	assert.Equal(t, "smtp_tls_CAfile = /x.pem", n.MainCF[1])
	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_fingerprint_digest", Delete: true})
	require.NoError(t, err)
	assert.Empty(t, n.MainCF)
	_, err = ApplyFix(c, finding.Fix{Kind: finding.FixMainCF, Key: "smtp_tls_CAfile", Delete: true})
	assert.ErrorIs(t, err, ErrNotApplicable)

	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixDNSRecord, Key: "_25._tcp.mx.example.test.", Value: "IN TLSA 3 1 1 ab12", ReceiverSide: true})
	require.NoError(t, err)
	assert.Equal(t, "_25._tcp.mx.example.test. IN TLSA 3 1 1 ab12", n.Zone[1])

	n, err = ApplyFix(c, finding.Fix{Kind: finding.FixFile, Key: "/etc/postfix/tls_policy", Content: "other.test none\nexample.test verify\n"})
	require.NoError(t, err)
	assert.Equal(t, []string{"other.test none", "example.test verify"}, n.Policy, "the policy table's file is the world's Policy")
	assert.Nil(t, n.Files)

	_, err = ApplyFix(c, finding.Fix{Kind: finding.FixCommand, Value: "postmap hash:/etc/postfix/tls_policy"})
	assert.NoError(t, err)
	for _, fx := range []finding.Fix{
		{Kind: finding.FixMasterCF, Key: "smtp-x", Value: "unix - - n - - smtp"},
		{Kind: finding.FixServer, Value: "install a certificate"},
		{Kind: finding.FixText, Value: "something"},
		{Kind: finding.FixCommand, Value: "systemctl reload postfix"},
		{Kind: finding.FixFile, Key: "/etc/ssl/certs/x.pem"},
		{Kind: finding.FixTableRow, Table: "hash:/etc/postfix/other", Key: "k", Value: "v"},
		{Kind: finding.FixTableRow, Table: policyTable, Key: "k", Value: "v",
			Requires: []finding.Fix{{Kind: finding.FixMasterCF, Key: "s", Value: "v"}}},
	} {
		_, err := ApplyFix(c, fx)
		assert.ErrorIs(t, err, ErrNotApplicable, "%+v", fx)
	}
}

// outcomeLine is how the fixes report writes an outcome: "defer 4.7.5 (reason)".
// serverReplies reports whether a case's servers are configured to answer MAIL FROM or
// RCPT TO with a failure (the rcpt/* cases).
func serverReplies(c Case) bool {
	for _, s := range c.Servers {
		if s.RcptReply != "" || s.MailReply != "" {
			return true
		}
	}
	return false
}

func outcomeLine(r Result, o Outcome) string {
	if r.Error != "" {
		return "world error: " + r.Error
	}
	return strings.TrimSpace(o.Outcome + " " + o.DSN + " (" + o.Reason + ")")
}

// runCases runs the cases through runCase, jobs at a time, each in work/<prefix><index>;
// results are in the order of the cases (a failed run has Error set).
func runCases(ctx context.Context, cases []Case, work, prefix, certs string, rel Release, jobs int) []Result {
	out := make([]Result, len(cases))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := runCase(ctx, c, filepath.Join(work, prefix+strconv.Itoa(i)), certs, rel)
			if err != nil {
				r = Result{Case: c.Name, Error: err.Error()}
			}
			out[i] = r
		}()
	}
	wg.Wait()
	return out
}

// selectCases keeps the cases whose names match CONFORMANCE_CASES (a regular expression),
// all of them when it is not set.
func selectCases(t *testing.T, cases []Case) []Case {
	t.Helper()
	pat := os.Getenv("CONFORMANCE_CASES")
	if pat == "" {
		return cases
	}
	re, err := regexp.Compile(pat)
	require.NoError(t, err, "CONFORMANCE_CASES")
	var sel []Case
	for _, c := range cases {
		if re.MatchString(c.Name) {
			sel = append(sel, c)
		}
	}
	return sel
}

// TestConformanceFixes measures the library's first fixes against real Postfix: every case
// runs once; for each case where Postfix defers and the library proposes a fix, the first
// fix is applied to the case (ApplyFix) and the fixed case runs again. It prints
// "fixes: N deferred, ..." and the cases whose first fix does not make Postfix deliver.
// Besides the gating of TestConformance it needs CONFORMANCE_FIXES=1; CONFORMANCE_CASES=REGEXP
// runs only the cases whose names match.
func TestConformanceFixes(t *testing.T) {
	if os.Getenv("CONFORMANCE_FIXES") != "1" {
		t.Skip("conformance fixes: set CONFORMANCE_FIXES=1 (make conformance-fixes)")
	}
	needOracle(t, "conformance fixes")
	rel := testRelease(t)
	t0 := time.Now()
	base, err := os.MkdirTemp("", "conformance-fixes.")
	require.NoError(t, err)
	t.Cleanup(func() {
		if os.Getenv("CONFORMANCE_KEEP") == "" {
			os.RemoveAll(base)
		}
	})
	require.NoError(t, os.Chmod(base, 0o755))
	certs, err := NewCerts(filepath.Join(base, "certs"), time.Now())
	require.NoError(t, err)
	cases := append(OracleCases(certs), MatrixCases(certs)...)
	cases = selectCases(t, cases)
	jobs := 3
	if n, err := strconv.Atoi(os.Getenv("CONFORMANCE_JOBS")); err == nil && n > 0 {
		jobs = n
	}
	ctx := context.Background()
	first := runCases(ctx, cases, base, "cases/", certs.Dir, rel, jobs)
	t.Logf("first run: %d cases in %s", len(cases), time.Since(t0).Round(time.Second))

	var deferred, withFix, applied, notApplicable, withoutFix int
	var fixed []Case
	var fixes []finding.Fix
	var notes []string
	for i, r := range first {
		if r.Error != "" || r.Postfix.Outcome != "defer" {
			continue
		}
		deferred++
		if r.FirstFix == nil {
			withoutFix++
			notes = append(notes, fmt.Sprintf("no fix: %s: Postfix %s; library %s", cases[i].Name, outcomeLine(r, r.Postfix), outcomeLine(r, r.Library)))
			continue
		}
		withFix++
		n, err := ApplyFix(cases[i], *r.FirstFix)
		if err != nil {
			if !errors.Is(err, ErrNotApplicable) {
				t.Errorf("%s: %v", cases[i].Name, err)
			}
			notApplicable++
			notes = append(notes, fmt.Sprintf("not applicable: %s: %s %s (%v)", cases[i].Name, r.FirstFix.Kind, r.FirstFix.String(), err))
			continue
		}
		applied++
		fixed = append(fixed, n)
		fixes = append(fixes, *r.FirstFix)
	}
	second := runCases(ctx, fixed, base, "fixed/", certs.Dir, rel, jobs)
	var deliver, downgrades, serverReply, stillFail int
	var failing []string
	for i, r := range second {
		fx := fixes[i]
		if r.Error == "" && r.Postfix.Outcome == "deliver" {
			deliver++
			if fx.IsDowngrade() {
				downgrades++
				notes = append(notes, fmt.Sprintf("downgrade: %s: fix %s %q (%s)", fixed[i].Name, fx.Kind, fx.String(), fx.Downgrade))
			}
			continue
		}
		if r.Error == "" && serverReplies(fixed[i]) &&
			(strings.Contains(r.Postfix.Reason, "in reply to RCPT TO command") || strings.Contains(r.Postfix.Reason, "in reply to MAIL FROM command")) &&
			outcomeLine(r, r.Postfix) == outcomeLine(r, r.Library) {
			// The fix got past the TLS failure; the server then gave the reply the case
			// configured it to give (rcpt/*), as the library says: the fix did its part.
			serverReply++
			if fx.IsDowngrade() {
				downgrades++
			}
			notes = append(notes, fmt.Sprintf("past TLS: %s: fix %s %q: Postfix %s, as the library says (the case's server rejects the recipient)",
				fixed[i].Name, fx.Kind, fx.String(), outcomeLine(r, r.Postfix)))
			continue
		}
		stillFail++
		failing = append(failing, fmt.Sprintf("still fails: %s: fix %s %q (library's proof: %q): Postfix %s; library %s",
			fixed[i].Name, fx.Kind, fx.String(), fx.Proven, outcomeLine(r, r.Postfix), outcomeLine(r, r.Library)))
	}
	summary := fmt.Sprintf("fixes: %d deferred, %d with a first fix, %d applied, %d deliver after the fix and %d reach the server's configured RCPT/MAIL reply (%d of them downgrades), %d still fail, %d not applicable, %d deferred without any fix",
		deferred, withFix, applied, deliver, serverReply, downgrades, stillFail, notApplicable, withoutFix)
	for _, l := range append(failing, notes...) {
		t.Log(l)
		fmt.Println(l)
	}
	t.Logf("%d cases and %d fixed cases in %s", len(cases), len(fixed), time.Since(t0).Round(time.Second))
	t.Log(summary)
	fmt.Println(summary)
}
