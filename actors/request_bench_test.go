package actors

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkRequestPerCallDeadline splits what a Request costs when every
// call brings a fresh deadline, as a caller inside an HTTP route does (the
// request context carries the route's deadline), into its parts:
//
//   - background: no deadline at all; Request waits on the reply alone.
//   - shared: one deadline context for every call; Request also selects on
//     its Done channel, which already exists.
//   - per-call: a fresh context.WithTimeout per call, cancelled after the
//     reply, the making and the cancel timed with the call as bench/actors
//     times them.
//   - with-timeout: that making and cancel alone, no Request.
//   - with-timeout-done: the same plus the context's Done channel, which the
//     context makes on first asking; Request asked for it on every call
//     until it waited out replyGrace first.
//   - timer-reset-stop: a time.Timer kept across calls, armed and stopped per
//     call: what a deadline could cost a caller that owns its timer (an API
//     taking a duration) instead of making a context per call.
//
// per-call minus shared minus with-timeout-done is what is left over, the
// interplay (garbage collection, the runtime's timer heap) of the two.
func BenchmarkRequestPerCallDeadline(b *testing.B) {
	b.Run("background", func(b *testing.B) {
		benchRequestLatency(b, func(s *System, ref Ref, msg any) (any, error) {
			return s.Request(context.Background(), ref, msg)
		})
	})
	b.Run("shared", func(b *testing.B) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		benchRequestLatency(b, func(s *System, ref Ref, msg any) (any, error) {
			return s.Request(ctx, ref, msg)
		})
	})
	b.Run("per-call", func(b *testing.B) {
		benchRequestLatency(b, func(s *System, ref Ref, msg any) (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return s.Request(ctx, ref, msg)
		})
	})
	b.Run("with-timeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cancel()
		}
	})
	b.Run("with-timeout-done", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = ctx.Done() // an interface call: not optimised away
			cancel()
		}
	})
	b.Run("timer-reset-stop", func(b *testing.B) {
		t := time.AfterFunc(time.Hour, func() {})
		t.Stop()
		b.ReportAllocs()
		for b.Loop() {
			t.Reset(10 * time.Second)
			t.Stop()
		}
	})
}

// benchRequestLatency times call against an echo actor and reports its
// median and 99th percentile beside the mean.
func benchRequestLatency(b *testing.B, call func(*System, Ref, any) (any, error)) {
	s := newTestSystem(b)
	ref, err := s.Spawn("", echoer)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := call(s, ref, i&0xff); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
