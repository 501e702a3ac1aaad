package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// Defaults for the Config fields left zero.
const (
	// DefaultInterval is the time between two checks of one destination.
	DefaultInterval = 5 * time.Minute
	// DefaultConcurrency is the number of checks that may run at once.
	DefaultConcurrency = 4
	// DefaultShutdownTimeout is how long Serve waits for requests in flight.
	DefaultShutdownTimeout = 5 * time.Second
)

// ErrRunning is returned by Run when the Monitor is already running.
var ErrRunning = errors.New("monitor: already running")

// Checker checks one destination and returns Postfix's verdict, as smtpclient.Check does.
type Checker func(ctx context.Context, destination string) (*smtpclient.Verdict, error)

// Registry is where the metrics are registered and gathered from; *prometheus.Registry is
// one.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Config says what a Monitor checks, how often, and where its metrics go.
type Config struct {
	// Settings is the Postfix configuration the destinations are checked under. It is
	// required unless Checker is set.
	Settings *policy.Settings
	// Destinations are checked one by one, each on its own schedule: addresses, domains,
	// "[host]" or "[host]:port", as smtpclient.Check takes them. At least one; no
	// duplicates.
	Destinations []string
	// Interval is the time from the start of one check of a destination to the start of
	// the next (plus jitter). Zero means DefaultInterval.
	Interval time.Duration
	// Jitter is the upper bound of the random delay added to each wait, and of the delay
	// before the first check of each destination. Zero means Interval/10; negative means
	// none (every destination is checked at once when Run starts).
	Jitter time.Duration
	// Concurrency bounds the checks running at once. Zero means DefaultConcurrency.
	Concurrency int
	// CheckOptions are passed to smtpclient.Check. KeepSessions is always set: the
	// certificate expiry metric reads the presented chain from the sessions.
	CheckOptions smtpclient.CheckOptions
	// Registry receives the metrics. Nil means a new prometheus.NewRegistry(), which
	// Handler then serves (without Go runtime or process metrics).
	Registry Registry
	// Checker replaces smtpclient.Check (tests). Nil means smtpclient.Check with Settings
	// and CheckOptions.
	Checker Checker
	// Now gives the time for the timestamp metrics and the durations. Nil means time.Now.
	// The schedule itself always runs on the real clock.
	Now func() time.Time
	// Logger receives one line per check that ends in an error. Nil means no logging.
	Logger *slog.Logger
	// ShutdownTimeout is how long Serve lets requests in flight finish after its context
	// ends. Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Monitor checks destinations on a schedule and keeps the metrics of the last verdicts.
type Monitor struct {
	cfg     Config
	check   Checker
	now     func() time.Time
	reg     Registry
	m       *metrics
	running atomic.Bool

	mu    sync.Mutex
	state map[string]*destState
}

// destState remembers the label sets of a destination's last verdict, so that stale series
// can be deleted.
type destState struct {
	deliver []string        // level, trust
	mx      map[string]bool // the mx labels of the expiry series
}

// New checks cfg, fills in the defaults and registers the metrics.
func New(cfg Config) (*Monitor, error) {
	if len(cfg.Destinations) == 0 {
		return nil, errors.New("monitor: no destinations")
	}
	seen := make(map[string]bool, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		if d == "" {
			return nil, errors.New("monitor: empty destination")
		}
		if seen[d] {
			return nil, fmt.Errorf("monitor: destination %q listed twice", d)
		}
		seen[d] = true
	}
	cfg.Destinations = append([]string(nil), cfg.Destinations...)
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("monitor: negative interval %s", cfg.Interval)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = cfg.Interval / 10
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("monitor: negative concurrency %d", cfg.Concurrency)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	mon := &Monitor{cfg: cfg, check: cfg.Checker, now: cfg.Now, reg: cfg.Registry, state: map[string]*destState{}}
	if mon.check == nil {
		if cfg.Settings == nil {
			return nil, errors.New("monitor: no Postfix settings")
		}
		s, opt := cfg.Settings, cfg.CheckOptions
		opt.KeepSessions = true
		mon.check = func(ctx context.Context, dest string) (*smtpclient.Verdict, error) {
			return smtpclient.Check(ctx, s, dest, opt)
		}
	}
	if mon.now == nil {
		mon.now = time.Now
	}
	if mon.reg == nil {
		mon.reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(mon.reg)
	if err != nil {
		return nil, err
	}
	mon.m = m
	for _, d := range cfg.Destinations {
		m.errors.WithLabelValues(d)
		m.duration.WithLabelValues(d)
	}
	return mon, nil
}

// Registry is where the metrics are registered: Config.Registry or the Monitor's own.
func (mon *Monitor) Registry() Registry { return mon.reg }

// Run checks the destinations on their schedules until ctx ends, then waits for the checks
// in flight (cancelled by ctx) and returns ctx.Err(). A Monitor runs once at a time: a
// second Run while one is running returns ErrRunning.
func (mon *Monitor) Run(ctx context.Context) error {
	if !mon.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer mon.running.Store(false)
	sem := make(chan struct{}, mon.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, d := range mon.cfg.Destinations {
		wg.Go(func() { mon.loop(ctx, d, sem) })
	}
	wg.Wait()
	return ctx.Err()
}

// Running reports whether Run is running.
func (mon *Monitor) Running() bool { return mon.running.Load() }

// CheckAll checks every destination once, at most Concurrency at a time, records the
// verdicts and returns when all are done or ctx has ended.
func (mon *Monitor) CheckAll(ctx context.Context) {
	sem := make(chan struct{}, mon.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, d := range mon.cfg.Destinations {
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
			wg.Go(func() {
				defer func() { <-sem }()
				mon.CheckOne(ctx, d)
			})
		}
	}
	wg.Wait()
}

// loop is the schedule of one destination.
func (mon *Monitor) loop(ctx context.Context, dest string, sem chan struct{}) {
	t := time.NewTimer(mon.jitter())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		start := time.Now()
		mon.CheckOne(ctx, dest)
		<-sem
		t.Reset(max(0, mon.cfg.Interval+mon.jitter()-time.Since(start)))
	}
}

// jitter is a random delay below Config.Jitter.
func (mon *Monitor) jitter() time.Duration {
	if mon.cfg.Jitter <= 0 {
		return 0
	}
	return rand.N(mon.cfg.Jitter)
}

// CheckOne checks one destination now and records the verdict (or the error). A check
// that ctx's end cut short is not recorded.
func (mon *Monitor) CheckOne(ctx context.Context, dest string) {
	start := mon.now()
	v, err := mon.check(ctx, dest)
	end := mon.now()
	if ctx.Err() != nil {
		return // Run is ending: neither an error nor a verdict of the destination
	}
	if err == nil && v == nil {
		err = errors.New("monitor: checker returned no verdict")
	}
	mon.record(dest, v, err, end.Sub(start), end)
	if err != nil && mon.cfg.Logger != nil {
		mon.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "check failed", slog.String("destination", dest), slog.String("error", err.Error()))
	}
}
