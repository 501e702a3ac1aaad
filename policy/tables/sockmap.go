package tables

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// Postfix's socketmap defaults (util/dict_sockmap.c).
const (
	sockmapDefTimeout  = 100 * time.Second
	sockmapDefMaxReply = 100000
	sockmapDefMaxQuery = 10000
	sockmapMaxIdle     = 10 * time.Second
	sockmapMaxTTL      = 100 * time.Second
)

// netstring exception classes and netstring_strerror() texts.
const (
	nsEOF    = "unexpected disconnect"
	nsTime   = "time limit exceeded"
	nsFormat = "input format error"
	nsSize   = "input exceeds size limit"
)

type nsError struct {
	what  string
	cause error
}

func (e *nsError) Error() string { return e.what }
func (e *nsError) Unwrap() error { return e.cause }

// SocketmapTable is socketmap:inet:host:port:name or socketmap:unix:path:name
// (util/dict_sockmap.c): each lookup sends the netstring "name key" and reads one
// netstring reply ("OK value", "NOTFOUND ", "TEMP reason", "TIMEOUT reason", "PERM reason").
// The connection is reused (closed after 10 s idle or 100 s age, as auto_clnt does) and a
// broken connection is retried once. Close releases it.
type SocketmapTable struct {
	name     string
	network  string
	address  string
	endpoint string
	mapName  string
	dialer   Dialer
	timeout  time.Duration
	maxReply int
	maxQuery int

	mu      sync.Mutex
	conn    net.Conn
	rd      *bufio.Reader
	born    time.Time
	lastUse time.Time
}

func openSocketmap(full, name string, opt Options) (Table, error) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return newSurrogate(full, "", "socketmap requires server:socketmap argument", nil), nil
	}
	server, mapName := name[:i], name[i+1:]
	transport, endpoint, ok := strings.Cut(server, ":")
	if !ok || transport == "" || endpoint == "" {
		return nil, &OpenError{Spec: full, Message: fmt.Sprintf("need service transport:endpoint instead of \"%s\"", server), Err: ErrSpec}
	}
	t := &SocketmapTable{name: full, endpoint: endpoint, mapName: mapName, dialer: opt.Dialer,
		timeout: opt.SocketmapTimeout, maxReply: opt.SocketmapMaxReply, maxQuery: opt.SocketmapMaxQuery}
	switch transport {
	case "inet":
		t.network, t.address = "tcp", endpoint
		if !strings.Contains(endpoint, ":") {
			return nil, &OpenError{Spec: full, Message: fmt.Sprintf("need host:port instead of \"%s\"", endpoint), Err: ErrSpec}
		}
	case "unix", "local":
		t.network, t.address = "unix", endpoint
	default:
		return nil, &OpenError{Spec: full, Message: fmt.Sprintf("invalid transport name: %s in service: %s", transport, server), Err: ErrSpec}
	}
	if t.dialer == nil {
		t.dialer = &net.Dialer{}
	}
	if t.timeout <= 0 {
		t.timeout = sockmapDefTimeout
	}
	if t.maxReply <= 0 {
		t.maxReply = sockmapDefMaxReply
	}
	if t.maxQuery == 0 {
		t.maxQuery = sockmapDefMaxQuery
	}
	return t, nil
}

// Name returns "socketmap:<transport>:<endpoint>:<name>".
func (t *SocketmapTable) Name() string { return t.name }

// Diagnostics returns nil: a socketmap table has nothing to read at open time.
func (t *SocketmapTable) Diagnostics() []Diagnostic { return nil }

// Close closes the cached connection, if any.
func (t *SocketmapTable) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropLocked()
	return nil
}

func (t *SocketmapTable) dropLocked() {
	if t.conn != nil {
		t.conn.Close()
		t.conn, t.rd = nil, nil
	}
}

// Lookup queries the server. The key is sent as given (socketmap is not a fixed-string
// table, so FoldFixed does not apply).
func (t *SocketmapTable) Lookup(ctx context.Context, key string) (Result, error) {
	key = cstr(key)
	if t.maxQuery > 0 && len(key) > t.maxQuery {
		shown := key
		if len(shown) > 100 {
			shown = shown[:100]
		}
		return Result{Warnings: []string{fmt.Sprintf("table %s query too large: '%s', returning 'not found'", t.name, shown)}}, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var reply string
	for attempt := 0; ; attempt++ {
		if err := t.connectLocked(ctx); err != nil {
			return Result{}, &TableError{Table: t.name, Key: key, Err: err, Messages: []string{
				fmt.Sprintf("connect to %s: %s", t.endpoint, pfutil.Strerror(err)),
				fmt.Sprintf("table %s lookup error: %s", t.name, pfutil.Strerror(err)),
			}}
		}
		var err error
		reply, err = t.exchangeLocked(ctx, t.mapName+" "+key)
		if err == nil {
			t.lastUse = time.Now()
			break
		}
		t.dropLocked()
		var ne *nsError
		if !errors.As(err, &ne) {
			ne = &nsError{what: nsEOF, cause: err}
		}
		if attempt == 0 && ne.what == nsEOF && ctx.Err() == nil {
			continue
		}
		return Result{}, &TableError{Table: t.name, Key: key, Err: err, Messages: []string{
			fmt.Sprintf("table %s lookup error: %s", t.name, ne.what)}}
	}
	reply = cstr(reply)
	status, payload, hasPayload := strings.Cut(reply, " ")
	switch status {
	case "OK":
		return Result{Found: true, Value: payload, Source: Source{Table: t.name, Key: key, Raw: reply,
			Note: "socketmap reply from " + t.endpoint}}, nil
	case "NOTFOUND":
		return Result{}, nil
	}
	class, config := "unknown", false
	switch status {
	case "TEMP":
		class = "temporary"
	case "TIMEOUT":
		class = "timeout"
	case "PERM":
		class, config = "permanent", true
	}
	payload = trimLeft(payload)
	msg := fmt.Sprintf("%s socketmap server %s error", t.name, class)
	if hasPayload && payload != "" {
		p := printableText(payload, true)
		if len(p) > 200 {
			p = p[:200]
		}
		msg += ": " + p
	}
	return Result{}, &TableError{Table: t.name, Key: key, Config: config, Messages: []string{msg}}
}

func (t *SocketmapTable) connectLocked(ctx context.Context) error {
	now := time.Now()
	if t.conn != nil && (now.Sub(t.lastUse) > sockmapMaxIdle || now.Sub(t.born) > sockmapMaxTTL) {
		t.dropLocked()
	}
	if t.conn != nil {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	c, err := t.dialer.DialContext(dctx, t.network, t.address)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return &net.OpError{Op: "dial", Net: t.network, Err: os.ErrDeadlineExceeded}
		}
		return err
	}
	t.conn, t.rd, t.born, t.lastUse = c, bufio.NewReader(c), now, now
	return nil
}

// exchangeLocked writes one netstring and reads one, within the timeout and the context.
func (t *SocketmapTable) exchangeLocked(ctx context.Context, query string) (string, error) {
	deadline := time.Now().Add(t.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c := t.conn
	if err := c.SetDeadline(deadline); err != nil {
		return "", err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	msg := strconv.Itoa(len(query)) + ":" + query + ","
	if _, err := io.WriteString(c, msg); err != nil {
		return "", classify(err)
	}
	return readNetstring(t.rd, t.maxReply)
}

func classify(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return &nsError{what: nsTime, cause: err}
	}
	return &nsError{what: nsEOF, cause: err}
}

// readNetstring reads "<len>:<data>," like netstring_get() with a size limit.
func readNetstring(r *bufio.Reader, limit int) (string, error) {
	n := 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", classify(err)
		}
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			return "", &nsError{what: nsFormat}
		}
		if n > (1<<31)/10 {
			return "", &nsError{what: nsSize}
		}
		n = n*10 + int(c-'0')
	}
	if limit > 0 && n > limit {
		return "", &nsError{what: nsSize}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", classify(err)
	}
	c, err := r.ReadByte()
	if err != nil {
		// netstring_get_terminator: anything but ',' (including EOF) is a format error.
		return "", &nsError{what: nsFormat, cause: err}
	}
	if c != ',' {
		return "", &nsError{what: nsFormat}
	}
	return string(buf), nil
}
