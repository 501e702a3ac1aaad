package smtpclient

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckBatchOrder: results come in input order whatever order the checks end in, with at
// most Concurrency checks at once; an error from fn stops the batch.
func TestCheckBatchOrder(t *testing.T) {
	dests := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	var running, peak atomic.Int32
	check := func(ctx context.Context, d string) (*Verdict, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		time.Sleep(time.Duration(len(dests)-int(d[0]-'a')) * time.Millisecond) // later ones end first
		if d == "c" {
			return nil, errors.New("no")
		}
		return &Verdict{Destination: d}, nil
	}
	var got []string
	err := CheckBatch(context.Background(), nil, dests, CheckOptions{}, BatchOptions{Concurrency: 3, Check: check},
		func(r BatchResult) error {
			assert.Equal(t, dests[r.Index], r.Destination)
			if r.Destination == "c" {
				assert.Error(t, r.Err)
			} else {
				require.NoError(t, r.Err)
				assert.Equal(t, r.Destination, r.Verdict.Destination)
			}
			got = append(got, r.Destination)
			return nil
		})
	require.NoError(t, err)
	assert.Equal(t, dests, got)
	assert.LessOrEqual(t, peak.Load(), int32(3))

	stop := errors.New("stop")
	n := 0
	err = CheckBatch(context.Background(), nil, dests, CheckOptions{}, BatchOptions{Concurrency: 2, Check: check},
		func(r BatchResult) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 2, n)
}

// TestCheckBatchManyDestinations: with far more destinations than the window of results
// held (4 x Concurrency), finishing out of order, each result still reaches fn once, in
// input order, with its own destination (the result channels are reused as a ring).
func TestCheckBatchManyDestinations(t *testing.T) {
	dests := make([]string, 300)
	for i := range dests {
		dests[i] = fmt.Sprintf("d%03d", i)
	}
	check := func(ctx context.Context, d string) (*Verdict, error) {
		var i int
		fmt.Sscanf(d, "d%d", &i)
		if i%32 == 0 {
			time.Sleep(3 * time.Millisecond) // the first of each window ends last
		}
		return &Verdict{Destination: d}, nil
	}
	next := 0
	err := CheckBatch(context.Background(), nil, dests, CheckOptions{}, BatchOptions{Concurrency: 8, Check: check},
		func(r BatchResult) error {
			require.Equal(t, next, r.Index)
			require.NoError(t, r.Err)
			require.Equal(t, dests[next], r.Destination)
			require.Equal(t, dests[next], r.Verdict.Destination)
			next++
			return nil
		})
	require.NoError(t, err)
	require.Equal(t, len(dests), next)
}
