package smtpclient

import (
	"context"
	"sync"

	"time"

	"github.com/postfixtls/postfixtls/policy"
)

// DefaultBatchConcurrency is BatchOptions.Concurrency's default.
const DefaultBatchConcurrency = 8

// BatchResult is the answer for one destination of a batch.
type BatchResult struct {
	// Index is the destination's position in the input.
	Index int
	// Destination is as given.
	Destination string
	// Verdict is the answer; nil when Err is set.
	Verdict *Verdict
	// Err says why the destination could not be checked (a configuration Postfix refuses,
	// not an SMTP delivery, an invalid destination).
	Err error
	// Elapsed is how long the check took.
	Elapsed time.Duration
}

// BatchOptions say how CheckBatch checks.
type BatchOptions struct {
	// Concurrency bounds the checks running at once. Zero means DefaultBatchConcurrency.
	Concurrency int
	// Check checks one destination. Nil means Check with the Settings and CheckOptions
	// given to CheckBatch.
	Check func(ctx context.Context, destination string) (*Verdict, error)
}

// CheckBatch checks destinations with at most o.Concurrency checks at once, under one
// Settings and one CheckOptions (one resolver, one set of loaded CA files and TLS
// configurations), and hands each result to fn in input order, one at a time. Results that
// finish early wait for the earlier ones; at most a few times Concurrency are held. An error
// returned by fn, or the end of ctx, stops the batch: checks not yet started are not
// started, and CheckBatch returns that error.
func CheckBatch(ctx context.Context, s *policy.Settings, destinations []string, opt CheckOptions, o BatchOptions, fn func(BatchResult) error) error {
	check := o.Check
	if check == nil {
		check = func(ctx context.Context, d string) (*Verdict, error) { return Check(ctx, s, d, opt) }
	}
	n := o.Concurrency
	if n <= 0 {
		n = DefaultBatchConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A ring of window channels: destination i's result goes into slots[i%window]. At
	// most window destinations are handed out beyond the one the caller waits for (the
	// credits below), so a slot is free again before it is reused, and memory does not
	// grow with the number of destinations.
	window := 4 * n
	slots := make([]chan BatchResult, min(window, max(1, len(destinations))))
	for i := range slots {
		slots[i] = make(chan BatchResult, 1)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for i := range jobs {
				start := time.Now()
				v, err := check(ctx, destinations[i])
				slots[i%len(slots)] <- BatchResult{Index: i, Destination: destinations[i], Verdict: v, Err: err, Elapsed: time.Since(start)}
			}
		})
	}
	// Feed at most window destinations ahead of the one being handed out.
	credit := make(chan struct{}, window)
	for range window {
		credit <- struct{}{}
	}
	go func() {
		defer close(jobs)
		for i := range destinations {
			select {
			case <-credit:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var ferr error
	for i := range destinations {
		var r BatchResult
		select {
		case r = <-slots[i%len(slots)]:
		case <-ctx.Done():
			ferr = ctx.Err()
		}
		if ferr != nil {
			break
		}
		if ferr = fn(r); ferr != nil {
			break
		}
		credit <- struct{}{}
	}
	cancel()
	wg.Wait()
	return ferr
}
