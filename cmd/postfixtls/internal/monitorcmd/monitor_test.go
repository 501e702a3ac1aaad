package monitorcmd

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMonitorServes: the subcommand checks a loopback destination that refuses connections
// and serves postfixtls_destination_deliver 0 for it, then stops with status 0 when its
// context ends (SIGTERM in the binary).
func TestMonitorServes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.cf"), []byte("smtp_tls_security_level = may\n"), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-c", dir, "-version", "3.7.11", "-listen", "127.0.0.1:0", "-interval", "1h", "-jitter", "0",
			"-resolver", "127.0.0.1:1", "-timeout", "5s", "[127.0.0.1]:1"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	_, rest, ok := strings.Cut(line, "http://")
	require.True(t, ok, line)
	url := strings.Fields(rest)[0]
	want := `postfixtls_destination_deliver{destination="[127.0.0.1]:1"`
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + url)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if body = string(b); strings.Contains(body, want) {
			break
		}
	}
	require.Contains(t, body, want)
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, want) {
			assert.True(t, strings.HasSuffix(l, " 0"), l)
		}
	}
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(15 * time.Second):
		t.Fatal("monitor did not stop")
	}
}

// TestMonitorUsage: a missing destination is a usage error.
func TestMonitorUsage(t *testing.T) {
	var errb strings.Builder
	assert.Equal(t, 2, Run(context.Background(), []string{"-c", t.TempDir()}, io.Discard, &errb))
	assert.Contains(t, errb.String(), "missing DESTINATION")
}
