package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// requirePrometheus finds the prometheus server binary: missing, it fails the test under
// CI=true and skips it elsewhere.
func requirePrometheus(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		need.Missing(t, "prometheus not installed (apt-get install prometheus; make deps)")
	}
	return p
}

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeLoopbackPort picks a port on 127.0.0.1 nobody listens on now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// startPrometheus runs a private Prometheus on a loopback port, scraping target every
// second, with its data in a temporary directory. The process is ended by its PID and the
// directory removed when the test ends. It returns the server's base URL.
func startPrometheus(t *testing.T, bin, target string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: postfixtls
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))
	var out lockedBuffer
	for try := 0; ; try++ {
		port := freeLoopbackPort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command(bin,
			"--config.file="+cfgPath,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			"--log.level=warn")
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, cmd.Start())
		pid := cmd.Process.Pid
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(pid, syscall.SIGKILL)
				<-exited
			}
		}
		base := "http://" + addr
		ready := waitReady(t, base, exited)
		if ready {
			t.Cleanup(stop)
			return base
		}
		stop()
		if try == 2 {
			t.Fatalf("prometheus did not become ready on %s:\n%s", addr, out.String())
		}
	}
}

// waitReady polls /-/ready until Prometheus answers 200, exits, or 30 s pass.
func waitReady(t *testing.T, base string, exited <-chan error) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/-/ready", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return true
			}
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// queryResult is the part of /api/v1/query's answer the test reads.
type queryResult struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func query(ctx context.Context, base, q string) (*queryResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r queryResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: status %q", q, r.Status)
	}
	return &r, nil
}

// TestPrometheusScrapesTheMonitor is the integration test: the monitor checks a loopback
// STARTTLS server with the real smtpclient.Check on its schedule and serves its metrics on a
// loopback port; a real Prometheus (Debian's /usr/bin/prometheus) scrapes it, and its HTTP
// API answers the delivery verdict and the certificate's expiry.
func TestPrometheusScrapesTheMonitor(t *testing.T) {
	bin := requirePrometheus(t)
	dest, notAfter := startSMTPD(t)
	mon, err := New(Config{Settings: maySettings(t), Destinations: []string{dest}, Interval: time.Second, Jitter: -1,
		CheckOptions: smtpclient.CheckOptions{Resolver: noDNS(), Deadline: 10 * time.Second}})
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = mon.Run(ctx) })
	served := make(chan error, 1)
	wg.Go(func() { served <- mon.Serve(ctx, ln) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	base := startPrometheus(t, bin, ln.Addr().String())

	var got *queryResult
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := query(ctx, base, "postfixtls_destination_deliver")
		if err == nil && len(r.Data.Result) > 0 {
			got = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus has no postfixtls_destination_deliver after 60 s (last error: %v)", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.Equal(t, "vector", got.Data.ResultType)
	require.Len(t, got.Data.Result, 1)
	res := got.Data.Result[0]
	require.Equal(t, dest, res.Metric["destination"])
	require.Equal(t, "may", res.Metric["level"])
	require.Equal(t, "Untrusted", res.Metric["trust"])
	require.Equal(t, "postfixtls", res.Metric["job"])
	require.Equal(t, "1", res.Value[1])

	exp, err := query(ctx, base, `postfixtls_certificate_expiry_timestamp_seconds{mx="127.0.0.1"}`)
	require.NoError(t, err)
	require.Len(t, exp.Data.Result, 1)
	require.Equal(t, strconv.FormatInt(notAfter.Unix(), 10), exp.Data.Result[0].Value[1])

	up, err := query(ctx, base, `up{job="postfixtls"}`)
	require.NoError(t, err)
	require.Len(t, up.Data.Result, 1)
	require.Equal(t, "1", up.Data.Result[0].Value[1])

	cancel()
	requireServeReturns(t, served)
}
