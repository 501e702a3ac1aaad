package tables

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSocketmap is a loopback socketmap server. handle gets each request payload and
// returns the raw bytes to write back (not necessarily a valid netstring); close=true
// closes the connection after writing.
type fakeSocketmap struct {
	ln       net.Listener
	mu       sync.Mutex
	requests []string
	conns    int
	wg       sync.WaitGroup
}

func startFake(t *testing.T, network string, handle func(req string, n int) (reply string, closeAfter bool, delay time.Duration)) (*fakeSocketmap, string) {
	t.Helper()
	var ln net.Listener
	var err error
	var addr string
	if network == "unix" {
		path := filepath.Join(t.TempDir(), "sock")
		ln, err = net.Listen("unix", path)
		addr = "unix:" + path
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			addr = "inet:" + ln.Addr().String()
		}
	}
	require.NoError(t, err)
	f := &fakeSocketmap{ln: ln}
	done := make(chan struct{})
	var connsMu sync.Mutex
	var open []net.Conn
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			open = append(open, c)
			connsMu.Unlock()
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				rd := bufio.NewReader(c)
				for {
					req, err := readNetstring(rd, 1<<20)
					if err != nil {
						return
					}
					f.mu.Lock()
					f.requests = append(f.requests, req)
					n := len(f.requests)
					f.mu.Unlock()
					reply, closeAfter, delay := handle(req, n)
					if delay > 0 {
						select {
						case <-time.After(delay):
						case <-done:
							return
						}
					}
					if _, err := io.WriteString(c, reply); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		connsMu.Lock()
		for _, c := range open {
			c.Close()
		}
		connsMu.Unlock()
		f.wg.Wait()
	})
	return f, addr
}

func ns(s string) string { return strconv.Itoa(len(s)) + ":" + s + "," }

func TestSocketmap(t *testing.T) {
	ctx := context.Background()
	replies := map[string]string{
		"tls example.com":   ns("OK secure match=nexthop"),
		"tls missing.test":  ns("NOTFOUND "),
		"tls temp.test":     ns("TEMP database busy"),
		"tls timeout.test":  ns("TIMEOUT slow backend"),
		"tls perm.test":     ns("PERM no such map"),
		"tls weird.test":    ns("MAYBE x"),
		"tls ctl.test":      ns("TEMP bad\x01byte"),
		"tls empty.test":    ns("OK "),
		"tls nul.test":      ns("OK abc\x00def"),
		"tls Upper.Test":    ns("OK case-kept"),
		"tls big.test":      "100001:" + strings.Repeat("x", 100001) + ",",
		"tls garbage.test":  "hello",
		"tls noterm.test":   "2:OK;",
		"tls hugelen.test":  "99999999999999999999999:",
		"tls exactmax.test": ns("OK " + strings.Repeat("y", 99997)),
	}
	_, addr := startFake(t, "tcp", func(req string, n int) (string, bool, time.Duration) {
		if r, ok := replies[req]; ok {
			return r, false, 0
		}
		return ns("NOTFOUND "), false, 0
	})
	spec := "socketmap:" + addr + ":tls"
	tb, err := Open(ctx, spec, Options{FoldFixed: true})
	require.NoError(t, err)
	t.Cleanup(func() { tb.(io.Closer).Close() })
	assert.False(t, IsFixed(tb), "socketmap is a pattern table: FOLD_FIX does not apply")

	cases := []struct {
		name, key, value, errText string
		found                     bool
	}{
		{"sockmap OK returns the value", "example.com", "secure match=nexthop", "", true},
		{"sockmap NOTFOUND is a miss", "missing.test", "", "", false},
		{"sockmap TEMP is a retry error", "temp.test", "", spec + " socketmap server temporary error: database busy", false},
		{"sockmap TIMEOUT is a retry error", "timeout.test", "", spec + " socketmap server timeout error: slow backend", false},
		{"sockmap PERM is a config error", "perm.test", "", spec + " socketmap server permanent error: no such map", false},
		{"sockmap unknown status", "weird.test", "", spec + " socketmap server unknown error: x", false},
		{"sockmap printable() in the reason", "ctl.test", "", spec + " socketmap server temporary error: bad?byte", false},
		{"sockmap OK with empty value", "empty.test", "", "", true},
		{"sockmap reply cut at null byte", "nul.test", "abc", "", true},
		{"sockmap key is not folded", "Upper.Test", "case-kept", "", true},
		{"sockmap reply over 100000 bytes", "big.test", "", "table " + spec + " lookup error: input exceeds size limit", false},
		{"sockmap garbage reply", "garbage.test", "", "table " + spec + " lookup error: input format error", false},
		{"sockmap missing terminator", "noterm.test", "", "table " + spec + " lookup error: input format error", false},
		{"sockmap absurd length", "hugelen.test", "", "table " + spec + " lookup error: input exceeds size limit", false},
		{"sockmap reply of exactly the limit", "exactmax.test", strings.Repeat("y", 99997), "", true},
		{"sockmap works again after errors", "example.com", "secure match=nexthop", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tb.Lookup(ctx, tc.key)
			if tc.errText != "" {
				require.ErrorIs(t, err, ErrLookup)
				assert.Equal(t, tc.errText, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.found, r.Found)
			assert.Equal(t, tc.value, r.Value)
		})
	}
	var te *TableError
	_, err = tb.Lookup(ctx, "perm.test")
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Config, "PERM is DICT_ERR_CONFIG")

	r, err := tb.Lookup(ctx, strings.Repeat("k", 10001))
	require.NoError(t, err)
	assert.False(t, r.Found)
	require.Len(t, r.Warnings, 1)
	assert.True(t, strings.HasPrefix(r.Warnings[0], "table "+spec+" query too large: '"+strings.Repeat("k", 100)+"', returning 'not found'"))

	l := NewList("smtp_tls_policy_maps", tb)
	_, err = l.Lookup(ctx, "empty.test")
	require.ErrorIs(t, err, ErrEmptyResult, "§1.1 an empty result is a configuration error")
	assert.Equal(t, "smtp_tls_policy_maps lookup of empty.test returns an empty string result; smtp_tls_policy_maps should return NO RESULT in case of NOT FOUND", err.Error())
}

func TestSocketmapUnixAndReuse(t *testing.T) {
	ctx := context.Background()
	f, addr := startFake(t, "unix", func(req string, n int) (string, bool, time.Duration) {
		return ns("OK " + req), false, 0
	})
	tb, err := Open(ctx, "socketmap:"+addr+":m", Options{})
	require.NoError(t, err)
	t.Cleanup(func() { tb.(io.Closer).Close() })
	for i := 0; i < 3; i++ {
		r, err := tb.Lookup(ctx, fmt.Sprintf("k%d", i))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("m k%d", i), r.Value)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, 1, f.conns, "the connection is reused")
}

func TestSocketmapEarlyClose(t *testing.T) {
	ctx := context.Background()
	// The server closes after every reply: the next request hits EOF and is retried once
	// on a new connection, as dict_sockmap.c does.
	f, addr := startFake(t, "tcp", func(req string, n int) (string, bool, time.Duration) {
		return ns("OK v"), true, 0
	})
	tb, _ := Open(ctx, "socketmap:"+addr+":m", Options{})
	t.Cleanup(func() { tb.(io.Closer).Close() })
	for i := 0; i < 3; i++ {
		r, err := tb.Lookup(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "v", r.Value)
	}
	_ = f

	// A server that closes without answering fails after one retry.
	_, addr2 := startFake(t, "tcp", func(req string, n int) (string, bool, time.Duration) { return "", true, 0 })
	tb2, _ := Open(ctx, "socketmap:"+addr2+":m", Options{})
	t.Cleanup(func() { tb2.(io.Closer).Close() })
	_, err := tb2.Lookup(ctx, "k")
	require.ErrorIs(t, err, ErrLookup)
	assert.Equal(t, "table socketmap:"+addr2+":m lookup error: unexpected disconnect", err.Error())
}

func TestSocketmapTimeouts(t *testing.T) {
	_, addr := startFake(t, "tcp", func(req string, n int) (string, bool, time.Duration) {
		return ns("OK late"), false, 5 * time.Second
	})
	tb, _ := Open(context.Background(), "socketmap:"+addr+":m", Options{SocketmapTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { tb.(io.Closer).Close() })
	_, err := tb.Lookup(context.Background(), "k")
	require.ErrorIs(t, err, ErrLookup)
	assert.Equal(t, "table socketmap:"+addr+":m lookup error: time limit exceeded", err.Error())

	tb2, _ := Open(context.Background(), "socketmap:"+addr+":m", Options{})
	t.Cleanup(func() { tb2.(io.Closer).Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tb2.Lookup(ctx, "k")
	require.ErrorIs(t, err, ErrLookup)
	assert.Less(t, time.Since(start), 3*time.Second, "the context bounds the lookup")

	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	_, err = tb2.Lookup(ctx2, "k")
	require.ErrorIs(t, err, ErrLookup, "cancellation ends the lookup")
}

func TestSocketmapConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	tb, _ := Open(context.Background(), "socketmap:inet:"+addr+":m", Options{})
	_, err = tb.Lookup(context.Background(), "k")
	require.ErrorIs(t, err, ErrLookup)
	var te *TableError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, []string{"connect to " + addr + ": Connection refused",
		"table socketmap:inet:" + addr + ":m lookup error: Connection refused"}, te.Messages)
}
