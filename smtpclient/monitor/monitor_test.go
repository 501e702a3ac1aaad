package monitor

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/dane/dnssec"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/internal/testkit/smtpd"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// fakeClock advances by step on every call.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// fakeChecker answers from a table that tests change between checks.
type fakeChecker struct {
	mu      sync.Mutex
	answers map[string]func() (*smtpclient.Verdict, error)
	calls   map[string]int
}

func newFakeChecker() *fakeChecker {
	return &fakeChecker{answers: map[string]func() (*smtpclient.Verdict, error){}, calls: map[string]int{}}
}

func (f *fakeChecker) set(dest string, v *smtpclient.Verdict, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[dest] = func() (*smtpclient.Verdict, error) { return v, err }
}

func (f *fakeChecker) check(_ context.Context, dest string) (*smtpclient.Verdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[dest]++
	a, ok := f.answers[dest]
	if !ok {
		return nil, fmt.Errorf("no answer for %s", dest)
	}
	return a()
}

func trustWord(w verdict.TrustWord) *verdict.TrustWord { return &w }

// attemptWithLeaf is an attempt whose session presented a leaf expiring at notAfter.
func attemptWithLeaf(t *testing.T, host string, notAfter time.Time) smtpclient.Attempt {
	t.Helper()
	c := pki.Must(t, pki.Spec{CN: []string{host}, DNS: []string{host}, NotAfter: notAfter}, nil)
	return smtpclient.Attempt{Host: host, Addr: "192.0.2.1", Port: 25,
		Session: &smtpclient.Session{TLS: &smtpclient.TLSInfo{PeerChain: []smtpclient.PeerCert{{DER: c.DER, Cert: c.Cert}}}}}
}

func newTestMonitor(t *testing.T, f *fakeChecker, clock *fakeClock, dests ...string) (*Monitor, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	mon, err := New(Config{Destinations: dests, Checker: f.check, Registry: reg, Now: clock.Now})
	require.NoError(t, err)
	return mon, reg
}

// histogram returns the sample count and sum of the duration histogram of dest.
func histogram(t *testing.T, reg prometheus.Gatherer, dest string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != MetricDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "destination") == dest {
				return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			}
		}
	}
	t.Fatalf("no %s series for %s", MetricDuration, dest)
	return 0, 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestVerdictMetrics(t *testing.T) {
	f := newFakeChecker()
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0), step: 1500 * time.Millisecond}
	mon, reg := newTestMonitor(t, f, clock, "example.com", "example.net")
	exp1 := time.Unix(1_900_000_000, 0)
	exp2 := time.Unix(1_850_000_000, 0)
	exp2b := time.Unix(1_840_000_000, 0)
	f.set("example.com", &smtpclient.Verdict{Destination: "example.com",
		Policy:  smtpclient.VerdictPolicy{Level: policy.Verify},
		Outcome: verdict.OutcomeDeliver, DSN: "2.0.0", Trust: trustWord(verdict.TrustVerified),
		Attempts: []smtpclient.Attempt{
			attemptWithLeaf(t, "mx1.example.com", exp1),
			attemptWithLeaf(t, "mx2.example.com", exp2),
			attemptWithLeaf(t, "mx2.example.com", exp2b), // another address of mx2: the earliest counts
			{Host: "mx3.example.com", Addr: "192.0.2.3"}, // no TLS: no series
		},
		Findings: []finding.Finding{{Code: finding.HostnameMismatch}},
	}, nil)
	f.set("example.net", &smtpclient.Verdict{Destination: "example.net",
		Policy:  smtpclient.VerdictPolicy{Level: policy.Encrypt},
		Outcome: verdict.OutcomeDefer, DSN: "4.7.4", Reason: "TLS is required, but was not offered by host mx.example.net[192.0.2.9]",
		Attempts: []smtpclient.Attempt{{Host: "mx.example.net", Addr: "192.0.2.9"}},
		Findings: []finding.Finding{{Code: finding.NoSTARTTLS}, {Code: finding.HostnameMismatch}},
	}, nil)

	mon.CheckAll(context.Background())

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP postfixtls_destination_deliver 1 when Postfix would deliver to the destination under its TLS policy, 0 when it would defer or bounce; level is the first next hop's policy level, trust Postfix's word for the TLS session (none without TLS).
# TYPE postfixtls_destination_deliver gauge
postfixtls_destination_deliver{destination="example.com",level="verify",trust="Verified"} 1
postfixtls_destination_deliver{destination="example.net",level="encrypt",trust="none"} 0
# HELP postfixtls_certificate_expiry_timestamp_seconds NotAfter (Unix seconds) of the leaf certificate the MX host presented in the destination's last check (the earliest over its addresses).
# TYPE postfixtls_certificate_expiry_timestamp_seconds gauge
postfixtls_certificate_expiry_timestamp_seconds{destination="example.com",mx="mx1.example.com"} 1.9e+09
postfixtls_certificate_expiry_timestamp_seconds{destination="example.com",mx="mx2.example.com"} 1.84e+09
# HELP postfixtls_findings_total Findings of the verdicts, by finding code.
# TYPE postfixtls_findings_total counter
postfixtls_findings_total{code="hostname-mismatch"} 2
postfixtls_findings_total{code="starttls-not-offered"} 1
# HELP postfixtls_check_errors_total Checks of the destination that gave no verdict (configuration or destination errors).
# TYPE postfixtls_check_errors_total counter
postfixtls_check_errors_total{destination="example.com"} 0
postfixtls_check_errors_total{destination="example.net"} 0
# HELP postfixtls_checks_total Checks of the destination that gave a verdict, by Postfix's outcome (deliver, defer, bounce).
# TYPE postfixtls_checks_total counter
postfixtls_checks_total{destination="example.com",outcome="deliver"} 1
postfixtls_checks_total{destination="example.net",outcome="defer"} 1
`), MetricDeliver, MetricCertExpiry, MetricFindings, MetricCheckErrors, MetricChecks))

	// The fake clock steps 1.5 s per call: each check takes 1.5 s and ends at start+1.5 s.
	for _, d := range []string{"example.com", "example.net"} {
		n, sum := histogram(t, reg, d)
		require.Equal(t, uint64(1), n, d)
		require.InDelta(t, 1.5, sum, 1e-9, d)
		ts := testutil.ToFloat64(mon.m.lastCheck.WithLabelValues(d))
		require.Greater(t, ts, 1_800_000_000.0, d)
		require.LessOrEqual(t, ts, 1_800_000_006.0, d)
	}
}

func TestStaleSeriesAreDeleted(t *testing.T) {
	f := newFakeChecker()
	mon, reg := newTestMonitor(t, f, &fakeClock{t: time.Unix(1_800_000_000, 0), step: time.Second}, "example.org")
	ctx := context.Background()
	f.set("example.org", &smtpclient.Verdict{Policy: smtpclient.VerdictPolicy{Level: policy.Dane},
		Outcome: verdict.OutcomeDeliver, Trust: trustWord(verdict.TrustVerified),
		Attempts: []smtpclient.Attempt{attemptWithLeaf(t, "mx1.example.org", time.Unix(1_900_000_000, 0))}}, nil)
	mon.CheckOne(ctx, "example.org")
	require.Equal(t, 1.0, testutil.ToFloat64(mon.m.deliver.WithLabelValues("example.org", "dane", "Verified")))

	// The DANE records went away: dane fell back to may, the session is Untrusted, another
	// MX answered first. The old series go; exactly one of each remains.
	f.set("example.org", &smtpclient.Verdict{Policy: smtpclient.VerdictPolicy{Level: policy.May},
		Outcome: verdict.OutcomeDeliver, Trust: trustWord(verdict.TrustUntrusted),
		Attempts: []smtpclient.Attempt{attemptWithLeaf(t, "mx2.example.org", time.Unix(1_950_000_000, 0))}}, nil)
	mon.CheckOne(ctx, "example.org")
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP postfixtls_destination_deliver 1 when Postfix would deliver to the destination under its TLS policy, 0 when it would defer or bounce; level is the first next hop's policy level, trust Postfix's word for the TLS session (none without TLS).
# TYPE postfixtls_destination_deliver gauge
postfixtls_destination_deliver{destination="example.org",level="may",trust="Untrusted"} 1
# HELP postfixtls_certificate_expiry_timestamp_seconds NotAfter (Unix seconds) of the leaf certificate the MX host presented in the destination's last check (the earliest over its addresses).
# TYPE postfixtls_certificate_expiry_timestamp_seconds gauge
postfixtls_certificate_expiry_timestamp_seconds{destination="example.org",mx="mx2.example.org"} 1.95e+09
`), MetricDeliver, MetricCertExpiry))

	// Plaintext is refused now: no TLS at all, the level is encrypt.
	f.set("example.org", &smtpclient.Verdict{Policy: smtpclient.VerdictPolicy{Level: policy.Encrypt},
		Outcome: verdict.OutcomeDefer, Attempts: []smtpclient.Attempt{{Host: "mx2.example.org"}}}, nil)
	mon.CheckOne(ctx, "example.org")
	require.Equal(t, 1, testutil.CollectAndCount(mon.m.deliver))
	require.Equal(t, 0.0, testutil.ToFloat64(mon.m.deliver.WithLabelValues("example.org", "encrypt", NoTrust)))
	require.Equal(t, 0, testutil.CollectAndCount(mon.m.expiry))
}

func TestErrorsKeepTheLastVerdict(t *testing.T) {
	f := newFakeChecker()
	mon, reg := newTestMonitor(t, f, &fakeClock{t: time.Unix(1_800_000_000, 0), step: time.Second}, "example.com")
	ctx := context.Background()
	f.set("example.com", &smtpclient.Verdict{Policy: smtpclient.VerdictPolicy{Level: policy.May},
		Outcome: verdict.OutcomeDeliver, Trust: trustWord(verdict.TrustAnonymous)}, nil)
	mon.CheckOne(ctx, "example.com")
	last := testutil.ToFloat64(mon.m.lastCheck.WithLabelValues("example.com"))

	f.set("example.com", nil, fmt.Errorf("%w: bad main.cf", policy.ErrConfig))
	mon.CheckOne(ctx, "example.com")
	mon.CheckOne(ctx, "example.com")
	require.Equal(t, 2.0, testutil.ToFloat64(mon.m.errors.WithLabelValues("example.com")))
	require.Equal(t, 1.0, testutil.ToFloat64(mon.m.deliver.WithLabelValues("example.com", "may", "Anonymous")))
	require.Equal(t, last, testutil.ToFloat64(mon.m.lastCheck.WithLabelValues("example.com")))
	require.Equal(t, 1.0, testutil.ToFloat64(mon.m.checks.WithLabelValues("example.com", "deliver")))
	n, _ := histogram(t, reg, "example.com")
	require.Equal(t, uint64(3), n)

	// A checker that returns neither a verdict nor an error counts as an error.
	f.set("example.com", nil, nil)
	mon.CheckOne(ctx, "example.com")
	require.Equal(t, 3.0, testutil.ToFloat64(mon.m.errors.WithLabelValues("example.com")))
}

func TestNewRejectsBadConfigs(t *testing.T) {
	f := newFakeChecker()
	for name, cfg := range map[string]Config{
		"no destinations":   {Checker: f.check},
		"empty destination": {Destinations: []string{""}, Checker: f.check},
		"duplicate":         {Destinations: []string{"a.example", "a.example"}, Checker: f.check},
		"no settings":       {Destinations: []string{"a.example"}},
		"negative interval": {Destinations: []string{"a.example"}, Checker: f.check, Interval: -time.Second},
		"negative workers":  {Destinations: []string{"a.example"}, Checker: f.check, Concurrency: -1},
	} {
		_, err := New(cfg)
		require.Error(t, err, name)
	}
	reg := prometheus.NewRegistry()
	_, err := New(Config{Destinations: []string{"a.example"}, Checker: f.check, Registry: reg})
	require.NoError(t, err)
	_, err = New(Config{Destinations: []string{"a.example"}, Checker: f.check, Registry: reg})
	require.Error(t, err, "the metrics are already registered")

	mon, err := New(Config{Destinations: []string{"a.example"}, Checker: f.check})
	require.NoError(t, err)
	require.NotNil(t, mon.Registry())
	require.Equal(t, DefaultInterval, mon.cfg.Interval)
	require.Equal(t, DefaultInterval/10, mon.cfg.Jitter)
	require.Equal(t, DefaultConcurrency, mon.cfg.Concurrency)
}

// TestRunSchedule runs the real schedule with short intervals: every destination is checked
// again and again, never more than Concurrency at once and never twice at the same time,
// and Run returns, with no goroutine left, when its context ends.
func TestRunSchedule(t *testing.T) {
	before := runtime.NumGoroutine()
	dests := []string{"a.example", "b.example", "c.example", "d.example", "e.example"}
	var inflight, peak atomic.Int32
	var mu sync.Mutex
	calls := map[string]int{}
	busy := map[string]bool{}
	var overlap atomic.Bool
	check := func(ctx context.Context, dest string) (*smtpclient.Verdict, error) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		mu.Lock()
		if busy[dest] {
			overlap.Store(true)
		}
		busy[dest] = true
		calls[dest]++
		mu.Unlock()
		defer func() { mu.Lock(); busy[dest] = false; mu.Unlock() }()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		return &smtpclient.Verdict{Policy: smtpclient.VerdictPolicy{Level: policy.May}, Outcome: verdict.OutcomeDeliver}, nil
	}
	mon, err := New(Config{Destinations: dests, Checker: check, Interval: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Concurrency: 2})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range dests {
			if calls[d] < 3 {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond)
	require.True(t, mon.Running())
	require.ErrorIs(t, mon.Run(ctx), ErrRunning)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	require.False(t, mon.Running())
	require.LessOrEqual(t, peak.Load(), int32(2))
	require.False(t, overlap.Load(), "a destination was checked twice at the same time")
	mu.Lock()
	total := 0
	for _, n := range calls {
		total += n
	}
	mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	after := 0
	for _, n := range calls {
		after += n
	}
	mu.Unlock()
	require.Equal(t, total, after, "checks ran after Run returned")
	require.Equal(t, 0.0, testutil.ToFloat64(mon.m.errors.WithLabelValues("a.example")), "a check cut by Run's end is no error")
	// Polled here, not with require.Eventually, whose own goroutines would be counted.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind by Run")
}

// TestServe serves the handler on a loopback port: /healthz follows Run, /metrics has the
// verdicts, and Serve returns once its context ends.
func TestServe(t *testing.T) {
	f := newFakeChecker()
	f.set("example.com", &smtpclient.Verdict{Policy: smtpclient.VerdictPolicy{Level: policy.Secure},
		Outcome: verdict.OutcomeDeliver, Trust: trustWord(verdict.TrustVerified)}, nil)
	mon, err := New(Config{Destinations: []string{"example.com"}, Checker: f.check, Interval: time.Hour, Jitter: -1})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- mon.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	get := func(path string) (int, string) {
		t.Helper()
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, base+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)

	rctx, rcancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- mon.Run(rctx) }()
	require.Eventually(t, func() bool {
		code, body := get("/metrics")
		return code == http.StatusOK &&
			strings.Contains(body, `postfixtls_destination_deliver{destination="example.com",level="secure",trust="Verified"} 1`)
	}, 10*time.Second, 10*time.Millisecond)
	code, body := get("/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	rcancel()
	require.ErrorIs(t, <-ran, context.Canceled)
	code, _ = get("/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)

	cancel()
	requireServeReturns(t, served)
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed")
}

// TestDefaultCheckerOnLoopback runs the real smtpclient.Check (the default checker) against
// a loopback STARTTLS server: the verdict and the presented leaf's expiry reach the metrics.
func TestDefaultCheckerOnLoopback(t *testing.T) {
	dest, notAfter := startSMTPD(t)
	reg := prometheus.NewRegistry()
	mon, err := New(Config{Settings: maySettings(t), Destinations: []string{dest}, Registry: reg,
		CheckOptions: smtpclient.CheckOptions{Resolver: noDNS(), Deadline: 20 * time.Second}})
	require.NoError(t, err)
	mon.CheckAll(context.Background())
	require.Equal(t, 0.0, testutil.ToFloat64(mon.m.errors.WithLabelValues(dest)))
	require.Equal(t, 1.0, testutil.ToFloat64(mon.m.deliver.WithLabelValues(dest, "may", "Untrusted")))
	require.Equal(t, float64(notAfter.Unix()), testutil.ToFloat64(mon.m.expiry.WithLabelValues(dest, "127.0.0.1")))
}

// startSMTPD starts a loopback STARTTLS server with a self-signed certificate and returns
// the bracketed destination for it and the certificate's NotAfter.
func startSMTPD(t *testing.T) (string, time.Time) {
	t.Helper()
	notAfter := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	leaf := pki.Must(t, pki.Spec{CN: []string{"mx.monitor.test"}, DNS: []string{"mx.monitor.test"}, NotAfter: notAfter}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := smtpd.Start(ctx, smtpd.Config{Addr: "127.0.0.1:0", Certificates: []tls.Certificate{pki.TLSCertificate(leaf)}, Hostname: "mx.monitor.test"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return fmt.Sprintf("[127.0.0.1]:%d", srv.Port()), notAfter
}

// noDNS is a resolver on a loopback port nobody answers: a bracketed IP next hop needs no
// DNS, and nothing may leave the machine.
func noDNS() dnssec.Resolver {
	return &dnssec.Client{Servers: []string{"127.0.0.1:9"}, Timeout: time.Second}
}

// requireServeReturns waits for Serve, whose context has ended, to return without error.
func requireServeReturns(t *testing.T, served <-chan error) {
	t.Helper()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

// maySettings is Postfix 3.7.11 with smtp_tls_security_level = may and no main.cf.
func maySettings(t *testing.T) *policy.Settings {
	t.Helper()
	s, err := policy.Load(context.Background(), policy.LoadOptions{Version: policy.V(3, 7, 11), MyHostname: "client.monitor.test",
		Overrides: []string{"smtp_tls_security_level=may"}})
	require.NoError(t, err)
	return s
}
