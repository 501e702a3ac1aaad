package monitor

import (
	"crypto/x509"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// The metric names (see the package documentation).
const (
	MetricDeliver     = "postfixtls_destination_deliver"
	MetricDuration    = "postfixtls_check_duration_seconds"
	MetricCertExpiry  = "postfixtls_certificate_expiry_timestamp_seconds"
	MetricLastCheck   = "postfixtls_last_check_timestamp_seconds"
	MetricFindings    = "postfixtls_findings_total"
	MetricCheckErrors = "postfixtls_check_errors_total"
	MetricChecks      = "postfixtls_checks_total"
)

// NoTrust is the trust label of a verdict without TLS.
const NoTrust = "none"

// durationBuckets are the buckets of postfixtls_check_duration_seconds: a check takes from
// a few milliseconds (a refused connection) to smtpclient.DefaultDeadline and beyond.
func durationBuckets() []float64 {
	return []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120}
}

type metrics struct {
	deliver   *prometheus.GaugeVec
	duration  *prometheus.HistogramVec
	expiry    *prometheus.GaugeVec
	lastCheck *prometheus.GaugeVec
	findings  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	checks    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliver: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricDeliver,
			Help: "1 when Postfix would deliver to the destination under its TLS policy, 0 when it would defer or bounce; level is the first next hop's policy level, trust Postfix's word for the TLS session (none without TLS)."},
			[]string{"destination", "level", "trust"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricDuration,
			Help: "Time taken by each check of the destination, errors included.", Buckets: durationBuckets()},
			[]string{"destination"}),
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricCertExpiry,
			Help: "NotAfter (Unix seconds) of the leaf certificate the MX host presented in the destination's last check (the earliest over its addresses)."},
			[]string{"destination", "mx"}),
		lastCheck: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricLastCheck,
			Help: "When (Unix seconds) the destination's last check that gave a verdict finished."},
			[]string{"destination"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricFindings,
			Help: "Findings of the verdicts, by finding code."},
			[]string{"code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricCheckErrors,
			Help: "Checks of the destination that gave no verdict (configuration or destination errors)."},
			[]string{"destination"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricChecks,
			Help: "Checks of the destination that gave a verdict, by Postfix's outcome (deliver, defer, bounce)."},
			[]string{"destination", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.deliver, m.duration, m.expiry, m.lastCheck, m.findings, m.errors, m.checks} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// record puts one check's result into the metrics.
func (mon *Monitor) record(dest string, v *smtpclient.Verdict, err error, took time.Duration, end time.Time) {
	m := mon.m
	m.duration.WithLabelValues(dest).Observe(took.Seconds())
	if err != nil {
		m.errors.WithLabelValues(dest).Inc()
		return
	}
	mon.mu.Lock()
	defer mon.mu.Unlock()
	st := mon.state[dest]
	if st == nil {
		st = &destState{}
		mon.state[dest] = st
	}

	trust := NoTrust
	if v.Trust != nil && *v.Trust != "" {
		trust = string(*v.Trust)
	}
	labels := []string{v.Policy.Level.String(), trust}
	if st.deliver != nil && !slices.Equal(st.deliver, labels) {
		m.deliver.DeleteLabelValues(dest, st.deliver[0], st.deliver[1])
	}
	st.deliver = labels
	val := 0.0
	if v.Outcome == verdict.OutcomeDeliver {
		val = 1
	}
	m.deliver.WithLabelValues(dest, labels[0], labels[1]).Set(val)

	expiry := map[string]time.Time{}
	for _, a := range v.Attempts {
		c := leaf(a)
		if c == nil {
			continue
		}
		if t, ok := expiry[a.Host]; !ok || c.NotAfter.Before(t) {
			expiry[a.Host] = c.NotAfter
		}
	}
	for mx := range st.mx {
		if _, ok := expiry[mx]; !ok {
			m.expiry.DeleteLabelValues(dest, mx)
		}
	}
	st.mx = make(map[string]bool, len(expiry))
	for mx, t := range expiry {
		st.mx[mx] = true
		m.expiry.WithLabelValues(dest, mx).Set(float64(t.Unix()))
	}

	for _, f := range v.Findings {
		m.findings.WithLabelValues(string(f.Code)).Inc()
	}
	m.checks.WithLabelValues(dest, string(v.Outcome)).Inc()
	m.lastCheck.WithLabelValues(dest).Set(float64(end.UnixNano()) / 1e9)
}

// leaf is the certificate the server of an attempt presented first: from the session
// record, or else from the chain the evaluator built.
func leaf(a smtpclient.Attempt) *x509.Certificate {
	if s := a.Session; s != nil && s.TLS != nil && len(s.TLS.PeerChain) > 0 && s.TLS.PeerChain[0].Cert != nil {
		return s.TLS.PeerChain[0].Cert
	}
	if c := a.Decision.Evidence.Chain; c != nil && len(c.Certs) > 0 {
		return c.Certs[0]
	}
	return nil
}
