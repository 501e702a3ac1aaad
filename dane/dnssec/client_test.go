package dnssec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testServer is an in-process DNS server on loopback (UDP and TCP on the same port) whose
// handler decides each answer.
type testServer struct {
	addr    string
	udpHits atomic.Int32
	tcpHits atomic.Int32
}

func startServer(t *testing.T, h func(w dns.ResponseWriter, q *dns.Msg, tcp bool)) *testServer {
	t.Helper()
	ts := &testServer{}
	var pc net.PacketConn
	var l net.Listener
	var err error
	for i := 0; i < 10; i++ {
		pc, err = net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = pc.LocalAddr().String()
	mk := func(tcp bool) dns.HandlerFunc {
		return func(w dns.ResponseWriter, q *dns.Msg) {
			if tcp {
				ts.tcpHits.Add(1)
			} else {
				ts.udpHits.Add(1)
			}
			h(w, q, tcp)
		}
	}
	us := &dns.Server{PacketConn: pc, Handler: mk(false)}
	tsrv := &dns.Server{Listener: l, Handler: mk(true)}
	started := make(chan struct{}, 2)
	us.NotifyStartedFunc = func() { started <- struct{}{} }
	tsrv.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = us.ActivateAndServe() }()
	go func() { _ = tsrv.ActivateAndServe() }()
	<-started
	<-started
	t.Cleanup(func() {
		_ = us.Shutdown()
		_ = tsrv.Shutdown()
	})
	return ts
}

func reply(q *dns.Msg, ad bool, rcode int, rrs ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	m.AuthenticatedData = ad
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m
}

func TestClient(t *testing.T) {
	big := strings.Repeat("ab", 400)
	ts := startServer(t, func(w dns.ResponseWriter, q *dns.Msg, tcp bool) {
		name := strings.ToLower(q.Question[0].Name)
		var m *dns.Msg
		switch name {
		case "secure.example.":
			m = reply(q, true, dns.RcodeSuccess, "secure.example. 60 IN A 192.0.2.1")
		case "insecure.example.":
			m = reply(q, false, dns.RcodeSuccess, "insecure.example. 60 IN A 192.0.2.2")
		case "bogus.example.":
			m = reply(q, false, dns.RcodeServerFailure)
		case "gone.example.":
			m = reply(q, true, dns.RcodeNameError)
			m.Ns = append(m.Ns, mustRR("example. 60 IN SOA ns.example. h.example. 1 1 1 1 1"))
		case "nodata.example.":
			m = reply(q, true, dns.RcodeSuccess)
			m.Ns = append(m.Ns, mustRR("example. 60 IN SOA ns.example. h.example. 1 1 1 1 1"))
		case "alias.example.":
			m = reply(q, true, dns.RcodeSuccess, "alias.example. 60 IN CNAME secure.example.", "secure.example. 60 IN A 192.0.2.1")
		case "lazy.example.": // a server that does not chase the CNAME
			m = reply(q, true, dns.RcodeSuccess, "lazy.example. 60 IN CNAME secure.example.")
		case "loop1.example.":
			m = reply(q, true, dns.RcodeSuccess, "loop1.example. 60 IN CNAME loop2.example.", "loop2.example. 60 IN CNAME loop1.example.")
		case "big.example.":
			m = reply(q, true, dns.RcodeSuccess)
			for i := 0; i < 4; i++ {
				m.Answer = append(m.Answer, mustRR("big.example. 60 IN TLSA 3 0 0 "+big+strings.Repeat("0", 2*i+2)))
			}
			if !tcp {
				m.Truncate(512)
			}
		case "wrongq.example.":
			m = reply(q, true, dns.RcodeSuccess)
			m.Question[0].Name = "other.example."
		case "alwaystc.example.": // truncated even over TCP
			m = reply(q, true, dns.RcodeSuccess)
			m.Truncated = true
		case "silent.example.":
			return
		default:
			m = reply(q, false, dns.RcodeRefused)
		}
		_ = w.WriteMsg(m)
	})
	c := &Client{Servers: []string{ts.addr}, Timeout: 2 * time.Second}
	ctx := context.Background()
	cases := []struct {
		name      string
		qname     string
		qtype     uint16
		client    *Client
		err       error
		authentic bool
		records   int
	}{
		{"AD bit from a loopback resolver is believed", "secure.example", dns.TypeA, c, nil, true, 1},
		{"no AD bit: insecure", "insecure.example", dns.TypeA, c, nil, false, 1},
		{"TrustADNever ignores AD", "secure.example", dns.TypeA, &Client{Servers: []string{ts.addr}, TrustAD: TrustADNever}, nil, false, 1},
		{"§6.2 SERVFAIL (bogus) is ErrServFail", "bogus.example", dns.TypeA, c, ErrServFail, false, 0},
		{"NXDOMAIN is ErrNXDomain and not found", "gone.example", dns.TypeA, c, ErrNXDomain, true, 0},
		{"NODATA is ErrNoData and not found", "nodata.example", dns.TypeA, c, ErrNoData, true, 0},
		{"CNAME chain followed inside the answer", "alias.example", dns.TypeA, c, nil, true, 1},
		{"CNAME not chased by the server: target asked", "lazy.example", dns.TypeA, c, nil, true, 1},
		{"CNAME loop detected", "loop1.example", dns.TypeA, c, ErrCNAMELoop, false, 0},
		{"truncated UDP answer retried over TCP", "big.example", dns.TypeTLSA, &Client{Servers: []string{ts.addr}, UDPSize: 512}, nil, true, 4},
		{"truncated over TCP too is a malformed reply", "alwaystc.example", dns.TypeTLSA, c, ErrMalformedReply, false, 0},
		{"question mismatch is a malformed reply", "wrongq.example", dns.TypeA, c, ErrMalformedReply, false, 0},
		{"REFUSED is kept apart", "other.example", dns.TypeA, c, ErrRefused, false, 0},
		{"name over 255 octets rejected before asking", strings.Repeat("abcdefgh.", 29), dns.TypeA, c, ErrNameTooLong, false, 0},
		{"label over 63 octets rejected", strings.Repeat("a", 64) + ".example", dns.TypeA, c, ErrBadName, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ans, err := tc.client.Lookup(ctx, tc.qname, tc.qtype)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				var le *LookupError
				if !errors.As(err, &le) {
					t.Fatalf("not a *LookupError: %T", err)
				}
				if le.NotFound() && (ans == nil || le.Authentic != tc.authentic) {
					t.Fatalf("negative answer: ans %v authentic %v", ans, le.Authentic)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ans.Authentic != tc.authentic || len(ans.Records) != tc.records {
				t.Fatalf("authentic %v records %d", ans.Authentic, len(ans.Records))
			}
		})
	}
	if ts.tcpHits.Load() == 0 {
		t.Fatal("no TCP retry happened")
	}
}

func TestClientTimeout(t *testing.T) {
	ts := startServer(t, func(w dns.ResponseWriter, q *dns.Msg, tcp bool) {})
	c := &Client{Servers: []string{ts.addr}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Lookup(ctx, "silent.example", dns.TypeA)
	if !errors.Is(err, ErrTimeout) || IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
	// Postfix's wording for a failed lookup is "try again".
	if !strings.Contains(err.Error(), "Host not found, try again") {
		t.Fatal(err)
	}
}

func TestClientNextServerAfterServfail(t *testing.T) {
	bad := startServer(t, func(w dns.ResponseWriter, q *dns.Msg, tcp bool) {
		_ = w.WriteMsg(reply(q, false, dns.RcodeServerFailure))
	})
	good := startServer(t, func(w dns.ResponseWriter, q *dns.Msg, tcp bool) {
		_ = w.WriteMsg(reply(q, true, dns.RcodeSuccess, "a.example. 60 IN A 192.0.2.1"))
	})
	ans, err := (&Client{Servers: []string{bad.addr, good.addr}}).Lookup(context.Background(), "a.example", dns.TypeA)
	if err != nil || !ans.Authentic || ans.Exchanges != 2 {
		t.Fatalf("%+v %v", ans, err)
	}
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

// TestClientReusesLoopbackSockets: questions to a loopback server share idle UDP sockets
// (one source port for questions asked one after another), concurrent questions get a
// socket each, a failed exchange drops its socket, and Close closes the idle ones.
func TestClientReusesLoopbackSockets(t *testing.T) {
	var mu sync.Mutex
	ports := map[string]int{}
	var drop atomic.Bool
	ts := startServer(t, func(w dns.ResponseWriter, q *dns.Msg, tcp bool) {
		mu.Lock()
		ports[w.RemoteAddr().String()]++
		mu.Unlock()
		if drop.Load() {
			return // no answer: the client times out
		}
		_ = w.WriteMsg(reply(q, true, dns.RcodeSuccess, q.Question[0].Name+" 60 IN A 192.0.2.1"))
	})
	c := &Client{Servers: []string{ts.addr}, Timeout: 300 * time.Millisecond}
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := c.Lookup(ctx, "a.example", dns.TypeA); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	n := len(ports)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("20 questions in turn came from %d source ports, want 1", n)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			if _, err := c.Lookup(ctx, "b.example", dns.TypeA); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(c.idle.idle[ts.addr]); n < 1 || n > maxIdleUDP {
		t.Fatalf("%d idle sockets after concurrent questions", n)
	}
	drop.Store(true)
	before := len(c.idle.idle[ts.addr])
	if _, err := c.Lookup(ctx, "c.example", dns.TypeA); !errors.Is(err, ErrTimeout) {
		t.Fatalf("unanswered question: %v, want ErrTimeout", err)
	}
	if after := len(c.idle.idle[ts.addr]); after != before-1 {
		t.Fatalf("the socket of a failed exchange was kept (%d idle before, %d after)", before, after)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.idle.idle) != 0 {
		t.Fatal("Close kept idle sockets")
	}
}

// slowA answers A only after AAAA was asked: LookupHost with a ConcurrentResolver asks
// both at once and still lists the IPv4 addresses first, as Postfix does.
type slowA struct {
	*MockResolver
	aaaa chan struct{}
}

func (s slowA) Concurrent() bool { return true }

func (s slowA) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	if qtype == dns.TypeA {
		select {
		case <-s.aaaa:
		case <-time.After(5 * time.Second):
			return nil, errors.New("AAAA was not asked while A was pending")
		}
	} else {
		defer close(s.aaaa)
	}
	return s.MockResolver.Lookup(ctx, name, qtype)
}

func TestLookupHostConcurrent(t *testing.T) {
	m := (&MockResolver{}).MustAdd("mx.example. 60 IN A 192.0.2.1", "mx.example. 60 IN AAAA 2001:db8::1")
	h, err := LookupHost(context.Background(), slowA{m, make(chan struct{})}, "mx.example")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(h.Addrs); got != "[192.0.2.1 2001:db8::1]" || !h.Secure {
		t.Fatalf("addresses %s, secure %v", got, h.Secure)
	}
}
