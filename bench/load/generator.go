package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

const (
	// requestGrace is how long after a round's end the requests still in
	// flight may take before the round's context cancels them.
	requestGrace = 10 * time.Second
	// maxErrorSamples caps the error messages kept per worker and target.
	maxErrorSamples = 3
)

// roundResult is what one target did in one round (or a merge of rounds).
type roundResult struct {
	requests uint64 // answered 200 with the expected body
	errors   uint64 // anything else
	elapsed  time.Duration
	hist     *histogram.Histogram
	samples  []string // the first few error messages
}

// merge adds o's counts, latencies and error samples to r. It leaves elapsed
// alone: merged results ran side by side, or are reported round by round.
func (r *roundResult) merge(o *roundResult) {
	r.requests += o.requests
	r.errors += o.errors
	r.hist.Merge(o.hist)
	for _, s := range o.samples {
		if len(r.samples) < maxErrorSamples {
			r.samples = append(r.samples, s)
		}
	}
}

// rps returns the successful requests per second of wall-clock time.
func (r *roundResult) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// load runs a closed loop against t: concurrency workers, each sending its
// next request as soon as the previous one's body is read, until duration
// has passed. Requests in flight at the end finish and count. It returns
// ctx's error if ctx ends first.
func load(ctx context.Context, t *target, duration time.Duration, concurrency int) (*roundResult, error) {
	roundCtx, cancel := context.WithTimeout(ctx, duration+requestGrace)
	defer cancel()

	workers := make([]roundResult, concurrency)
	start := time.Now()
	end := start.Add(duration)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i].hist = histogram.New()
		wg.Go(func() { work(roundCtx, t, end, &workers[i]) })
	}
	wg.Wait()
	total := &roundResult{elapsed: time.Since(start), hist: histogram.New()}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range workers {
		total.merge(&workers[i])
	}
	return total, nil
}

// work is one closed-loop client: it records every successful request's
// latency, from sending to having read the whole body, into res.
func work(ctx context.Context, t *target, end time.Time, res *roundResult) {
	fail := func(err error) {
		res.errors++
		if len(res.samples) < maxErrorSamples {
			res.samples = append(res.samples, err.Error())
		}
	}
	// One request, reused: it has no body, and the client is done with it
	// once the response body is closed.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		fail(err)
		return
	}
	var body bytes.Buffer
	for begin := time.Now(); begin.Before(end) && ctx.Err() == nil; {
		err := fetch(t.client, req, &body)
		done := time.Now()
		took := done.Sub(begin)
		begin = done
		if err != nil {
			fail(err)
			continue
		}
		res.requests++
		res.hist.Record(took)
	}
}

// fetch sends req and reads the whole response into body; anything but a
// 200 carrying wantBody is an error.
func fetch(c *http.Client, req *http.Request, body *bytes.Buffer) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	body.Reset()
	_, err = body.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("reading the body: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d, body %.80q", resp.StatusCode, body.Bytes())
	case !bytes.Equal(bytes.TrimSpace(body.Bytes()), wantBody):
		return fmt.Errorf("unexpected body %.80q", body.Bytes())
	}
	return nil
}
