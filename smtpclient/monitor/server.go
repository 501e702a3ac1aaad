package monitor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the metrics and a health check:
//
//   - /metrics: the Registry in Prometheus' exposition formats (promhttp).
//   - /healthz: 200 "ok" while Run is running, else 503 "not running".
func (mon *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(mon.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !mon.Running() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not running\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve serves Handler on l until ctx ends, then stops accepting, lets the requests in
// flight finish within Config.ShutdownTimeout and returns nil (or the shutdown's error).
// It closes l. An error of the listener before ctx ends is returned at once.
func (mon *Monitor) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           mon.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mon.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(err, srv.Close())
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
