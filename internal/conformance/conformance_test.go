package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
)

// Environment of the re-executed test binary inside the namespaces.
const (
	envWorld = "CONFORMANCE_WORLD" // work directory of one case (holds case.json)
	envCerts = "CONFORMANCE_CERTS" // certificate directory
)

// requirements are the programs the suite runs, with the Debian package that has them.
var requirements = [][2]string{
	{"unshare", "util-linux"}, {"ip", "iproute2"}, {"postfix", "postfix"}, {"postconf", "postfix"},
	{"sendmail", "postfix"}, {"nsd", "nsd"}, {"unbound", "unbound"}, {"ldns-keygen", "ldnsutils"},
	{"ldns-signzone", "ldnsutils"}, {"mta-sts-daemon", "postfix-mta-sts-resolver"},
}

// unavailable says why the suite cannot run here, or "".
func unavailable() string {
	if os.Geteuid() != 0 {
		return "must run as root (Linux namespaces, a private Postfix instance)"
	}
	for _, r := range requirements {
		if _, err := exec.LookPath(r[0]); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + r[0]); err2 != nil {
				return fmt.Sprintf("%s not found: install the Debian package %s", r[0], r[1])
			}
		}
	}
	if out, err := exec.Command("unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot create Linux namespaces: %v: %s", err, out)
	}
	return ""
}

// knownDiff is one row of known-differences.md.
type knownDiff struct {
	postfix, library, reason string
}

// triple is how known-differences.md writes an outcome: "outcome dsn trust", "-" for no TLS.
func triple(o Outcome) string {
	tr := o.Trust
	if tr == "" {
		tr = "-"
	}
	return o.Outcome + " " + o.DSN + " " + tr
}

// knownDiffRE is a row of known-differences.md: | `case` | releases | Postfix | library | reason |.
var knownDiffRE = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|([^|]*)\\|([^|]*)\\|([^|]*)\\|(.*)\\|\\s*$")

// knownDifferences reads the rows of known-differences.md whose first cell is a case name in
// backquotes and whose release cell names the release label (Release.Label: "debian" or a
// version such as 3.5.27; several separated by commas; "*" for every release). It returns
// the rows for label and the names of the cases of all rows.
func knownDifferences(t *testing.T, label string) (map[string]knownDiff, []string) {
	f, err := os.Open("known-differences.md")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]knownDiff{}
	var all []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := knownDiffRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		all = append(all, m[1])
		for _, r := range strings.Split(m[2], ",") {
			if r = strings.TrimSpace(r); r == label || r == "*" {
				require.NotContains(t, out, m[1], "known-differences.md has two rows for %s and release %s", m[1], label)
				out[m[1]] = knownDiff{strings.TrimSpace(m[3]), strings.TrimSpace(m[4]), strings.TrimSpace(m[5])}
			}
		}
	}
	return out, all
}

// oracleRecord is what the shared oracle's record-versions wrote for an oracle case and a
// release (cases/NAME/postfix-VERSION.json), as the Outcome the suite compares; nil when
// there is no such record.
func oracleRecord(name, version string) *Outcome {
	n, ok := strings.CutPrefix(name, "oracle/")
	if !ok {
		return nil
	}
	var rec struct {
		Outcome, Reason, DSN string
		Trust                *string
	}
	if err := ReadJSON(filepath.Join(OracleDir(), "cases", n, "postfix-"+version+".json"), &rec); err != nil {
		return nil
	}
	o := &Outcome{Outcome: map[string]string{"sent": "deliver", "deferred": "defer", "bounced": "bounce"}[rec.Outcome],
		DSN: rec.DSN, Reason: rec.Reason}
	if o.Outcome == "" {
		return nil
	}
	if rec.Trust != nil {
		o.Trust = *rec.Trust
	}
	return o
}

// withRecords gives each oracle case the record of the release that runs: the translated
// 3.7.11 records for 3.7.11 (Debian's or upstream's), else the oracle's postfix-VERSION.json
// (record-versions), else none.
func withRecords(cases []Case, version string) []Case {
	if version == "3.7.11" {
		return cases
	}
	out := make([]Case, len(cases))
	for i, c := range cases {
		c.Oracle = oracleRecord(c.Name, version)
		out[i] = c
	}
	return out
}

// testRelease is the release that CONFORMANCE_POSTFIX selects (see SelectRelease), built
// into the cache when needed. A release that cannot be built here skips the test with the
// reason; any other build failure fails it loudly.
func testRelease(t *testing.T) Release {
	t.Helper()
	spec := os.Getenv("CONFORMANCE_POSTFIX")
	t0 := time.Now()
	rel, err := SelectRelease(context.Background(), spec, os.Stdout)
	switch {
	case errors.Is(err, ErrUnbuildable):
		fmt.Printf("release %s: skipped: %v\n", spec, err)
		t.Skipf("CONFORMANCE_POSTFIX=%s: %v", spec, err)
	case err != nil:
		fmt.Printf("release %s: BUILD FAILED: %v\n", spec, err)
		t.Fatalf("CONFORMANCE_POSTFIX=%s: %v", spec, err)
	}
	fmt.Printf("release %s: %s, compatibility_level %q, ready in %s\n", rel.Label(), rel, rel.Compat, time.Since(t0).Round(100*time.Millisecond))
	return rel
}

// compare lists the disagreements between Postfix and the library for one case, and
// between Postfix and the outcome the shared oracle recorded.
func compare(c Case, r Result) []string {
	var p []string
	if r.Error != "" {
		return []string{"world: " + r.Error}
	}
	pf, lib := r.Postfix, r.Library
	if pf.Outcome != "deliver" && pf.Outcome != "defer" && pf.Outcome != "bounce" {
		return []string{fmt.Sprintf("Postfix gave no status: %s %s", pf.Outcome, pf.Reason)}
	}
	if o := c.Oracle; o != nil {
		if pf.Outcome != o.Outcome || pf.Trust != o.Trust || pf.DSN != o.DSN ||
			(o.Outcome != "deliver" && pf.Reason != o.Reason) {
			p = append(p, fmt.Sprintf("Postfix here differs from the oracle's record: %+v vs recorded %+v", pf, *o))
		}
	}
	if pf.Outcome != lib.Outcome {
		p = append(p, fmt.Sprintf("outcome: Postfix %s, library %s", pf.Outcome, lib.Outcome))
	}
	if pf.Outcome != "deliver" && pf.Outcome == lib.Outcome {
		if pf.DSN != lib.DSN {
			p = append(p, fmt.Sprintf("dsn: Postfix %s, library %s", pf.DSN, lib.DSN))
		}
		if pf.Reason != lib.Reason {
			p = append(p, fmt.Sprintf("reason: Postfix %q, library %q", pf.Reason, lib.Reason))
		}
	}
	if pf.Trust != lib.Trust {
		p = append(p, fmt.Sprintf("trust: Postfix %q, library %q", pf.Trust, lib.Trust))
	}
	if c.MTASTS != nil && lib.Outcome != "deliver" && lib.Outcome == pf.Outcome {
		// Every non-delivery of an MTA-STS case is the resolver's policy: a finding must say so.
		said := false
		for _, f := range lib.Findings {
			said = said || strings.Contains(f, "this is an MTA-STS policy")
		}
		if !said {
			p = append(p, fmt.Sprintf("findings: none says the policy came from MTA-STS: %q", lib.Findings))
		}
	}
	libWarn := map[string]bool{}
	for _, l := range lib.Log {
		if w, ok := strings.CutPrefix(l, "warning: "); ok {
			libWarn[w] = true
		}
	}
	for _, l := range pf.Log {
		m := smtpWarningRE.FindStringSubmatch(l)
		if m == nil || strings.HasPrefix(m[1], "TLS library problem: ") {
			continue
		}
		if !libWarn[m[1]] {
			p = append(p, fmt.Sprintf("warning: Postfix logs %q, the library does not", m[1]))
		}
	}
	return p
}

// smtpWarningRE is a warning logged by smtp(8). "TLS library problem: " lines are OpenSSL's
// internal error stack (source file and line of libcrypto), which the library does not
// reproduce; every other smtp(8) warning must be among the library's log lines word for word.
var smtpWarningRE = regexp.MustCompile(`^postfix/smtp\[\d+\]: warning: (.*)$`)

// runCase runs one case against rel in fresh namespaces by re-executing this test binary there.
func runCase(ctx context.Context, c Case, work, certs string, rel Release) (Result, error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return Result{}, err
	}
	if err := WriteJSON(filepath.Join(work, "case.json"), c); err != nil {
		return Result{}, err
	}
	if err := WriteJSON(filepath.Join(work, "release.json"), rel); err != nil {
		return Result{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child",
		os.Args[0], "-test.run=^TestConformanceWorld$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envWorld+"="+work, envCerts+"="+certs)
	out, err := cmd.CombinedOutput()
	var r Result
	if rerr := ReadJSON(filepath.Join(work, "result.json"), &r); rerr != nil {
		return r, fmt.Errorf("no result (%v): %v\n%s", rerr, err, out)
	}
	return r, nil
}

// needOracle skips a test against real Postfix in -short mode, and when the oracle's
// tools are missing — except in CI (CI=true), where that fails loudly.
func needOracle(t *testing.T, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip(what + " against real Postfix: skipped in -short mode")
	}
	if why := unavailable(); why != "" {
		need.Missing(t, "%s cannot run in CI: %s", what, why)
	}
}

// TestConformance runs every case through real Postfix and through the library, each in its
// own Linux namespaces, and asserts that they agree (or differ exactly as
// known-differences.md says, never with the library delivering where Postfix defers).
func TestConformance(t *testing.T) {
	needOracle(t, "conformance suite")
	rel := testRelease(t)
	t0 := time.Now()
	base, err := os.MkdirTemp("", "conformance.")
	require.NoError(t, err)
	t.Cleanup(func() {
		if !t.Failed() || os.Getenv("CONFORMANCE_KEEP") == "" {
			os.RemoveAll(base)
		}
	})
	require.NoError(t, os.Chmod(base, 0o755))
	certs, err := NewCerts(filepath.Join(base, "certs"), time.Now())
	require.NoError(t, err)
	cases := withRecords(append(OracleCases(certs), MatrixCases(certs)...), rel.Version)
	known, listed := knownDifferences(t, rel.Label())
	names := map[string]bool{}
	for _, c := range cases {
		require.False(t, names[c.Name], "duplicate case name %s", c.Name)
		names[c.Name] = true
	}
	for _, k := range listed {
		assert.True(t, names[k], "known-differences.md lists %s, which is no case", k)
	}
	cases = selectCases(t, cases)
	jobs := 3
	if n, err := strconv.Atoi(os.Getenv("CONFORMANCE_JOBS")); err == nil && n > 0 {
		jobs = n
	}
	sem := make(chan struct{}, jobs)
	var passed, failed atomic.Int64
	var mu sync.Mutex
	var results []Result
	ctx := context.Background()
	t.Run("cases", func(t *testing.T) {
		for i, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				r, err := runCase(ctx, c, filepath.Join(base, "cases", strconv.Itoa(i)), certs.Dir, rel)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if err != nil {
					failed.Add(1)
					t.Fatalf("%s: %v", c.Name, err)
				}
				diffs := compare(c, r)
				kd, isKnown := known[c.Name]
				switch {
				case r.Postfix.Outcome == "defer" && r.Library.Outcome == "deliver":
					failed.Add(1)
					t.Errorf("FORBIDDEN: the library delivers where Postfix defers: %v\npostfix: %+v\nlibrary: %+v", diffs, r.Postfix, r.Library)
				case isKnown && len(diffs) == 0:
					failed.Add(1)
					t.Errorf("listed in known-differences.md but Postfix and the library now agree: remove the row")
				case isKnown && (triple(r.Postfix) != kd.postfix || triple(r.Library) != kd.library):
					failed.Add(1)
					t.Errorf("known difference changed shape: known-differences.md says Postfix %q, library %q; now Postfix %q, library %q: %v",
						kd.postfix, kd.library, triple(r.Postfix), triple(r.Library), diffs)
				case isKnown:
					passed.Add(1)
					t.Logf("known difference (%s): %v", kd.reason, diffs)
				case len(diffs) > 0:
					failed.Add(1)
					t.Errorf("%s: %s\n  %s\npostfix: %+v\nlibrary: %+v", c.Name, c.Desc, strings.Join(diffs, "\n  "), r.Postfix, r.Library)
				default:
					passed.Add(1)
				}
			})
		}
	})
	if out := os.Getenv("CONFORMANCE_OUT"); out != "" {
		if f, err := os.Create(out); err == nil {
			enc := json.NewEncoder(f)
			for _, r := range results {
				_ = enc.Encode(r)
			}
			f.Close()
		}
	}
	t.Logf("%d cases against %s in %s", len(cases), rel, time.Since(t0).Round(time.Second))
	fmt.Printf("release %s: %d cases in %s\n", rel.Label(), len(cases), time.Since(t0).Round(time.Second))
	fmt.Printf("%d passed, %d failed\n", passed.Load(), failed.Load())
}

// TestConformanceWorld is the part of the suite that runs inside a case's namespaces (PID 1
// of a fresh pid namespace, started by TestConformance). Run directly it skips.
func TestConformanceWorld(t *testing.T) {
	work := os.Getenv(envWorld)
	if work == "" {
		t.Skip("runs only inside a case's namespaces, started by TestConformance")
	}
	var c Case
	require.NoError(t, ReadJSON(filepath.Join(work, "case.json"), &c))
	var rel Release
	require.NoError(t, ReadJSON(filepath.Join(work, "release.json"), &rel))
	ctx, cancel := context.WithTimeout(context.Background(), 140*time.Second)
	defer cancel()
	r := RunWorld(ctx, c, work, os.Getenv(envCerts), rel)
	require.NoError(t, WriteJSON(filepath.Join(work, "result.json"), r))
}
