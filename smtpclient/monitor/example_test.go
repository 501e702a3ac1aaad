package monitor_test

import (
	"context"
	"log"
	"net"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient/monitor"
)

// A command that checks two destinations every five minutes under the local Postfix
// configuration and serves the metrics on 127.0.0.1:9425 until SIGINT or SIGTERM.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := policy.Load(ctx, policy.LoadOptions{ConfigDir: "/etc/postfix"})
	if err != nil {
		log.Fatal(err)
	}
	mon, err := monitor.New(monitor.Config{Settings: s, Destinations: []string{"example.com", "[relay.example.net]:587"},
		Interval: 5 * time.Minute, Concurrency: 2})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:9425")
	if err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = mon.Run(ctx) })
	if err := mon.Serve(ctx, ln); err != nil {
		log.Print(err)
	}
	wg.Wait()
}
