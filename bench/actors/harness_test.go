package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every workload on every engine with tiny sizes: it checks
// the harness and the adapters end to end, not performance.
func TestSmoke(t *testing.T) {
	cfg, err := parseFlags([]string{"-quick", "-rounds", "2"})
	if err != nil {
		t.Fatal(err)
	}
	res := run(cfg, testWriter{t})
	for _, e := range res.errs {
		t.Error(e)
	}
	for _, w := range workloads {
		keys := res.metrics[w.name]
		if len(keys) == 0 {
			t.Errorf("workload %q produced no metrics", w.name)
		}
		for _, k := range keys {
			for _, f := range engines {
				if got := len(res.values[k][f.name]); got != cfg.rounds {
					t.Errorf("%s / %s / %s: %d values, want one per round (%d)", w.name, k.metric, f.name, got, cfg.rounds)
				}
			}
		}
	}
	var out bytes.Buffer
	report(&out, cfg, res)
	for _, want := range []string{"## send throughput 1→1, 16-byte value", "## request/response, fresh context.WithTimeout per call", "## idle memory", "| troupe | hollywood | protoactor |", "× vs ", "GOMAXPROCS="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestLostMessagesInvalidateTheRun checks the property the whole harness
// rests on: an engine that loses or duplicates messages gets no number.
func TestLostMessagesInvalidateTheRun(t *testing.T) {
	defer func(d time.Duration) { waitLimit = d }(waitLimit)
	waitLimit = 50 * time.Millisecond
	tests := []struct {
		name string
		e    *fakeEngine
		want string
	}{
		{"loses messages", &fakeEngine{dropEvery: 10}, "did not see all"},
		{"duplicates messages", &fakeEngine{extra: 1}, "want exactly"},
		{"wrong reply", &fakeEngine{badReply: true}, "is not the probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			for _, w := range workloads[:6] { // the throughput and request workloads
				if _, err = w.run(tt.e, quickSizes); err != nil {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, w := range workloads {
		if _, err := w.run(&fakeEngine{}, quickSizes); err != nil {
			t.Errorf("%s: an exact engine is invalid: %v", w.name, err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		rounds  int
		engines int
		err     string
	}{
		{nil, 5, 3, ""},
		{[]string{"-rounds", "2", "-engines", "troupe, protoactor"}, 2, 2, ""},
		{[]string{"-rounds", "0"}, 0, 0, "at least 1"},
		{[]string{"-engines", "akka"}, 0, 0, `unknown engine "akka"`},
	}
	for _, tt := range tests {
		cfg, err := parseFlags(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseFlags(%q) error = %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || cfg.rounds != tt.rounds || len(cfg.engines) != tt.engines {
			t.Errorf("parseFlags(%q) = %d rounds, %d engines, %v", tt.args, cfg.rounds, len(cfg.engines), err)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		higherBetter bool
		values       map[string][]float64
		want         string
	}{
		{true, map[string][]float64{"troupe": {2, 4, 3}, "a": {2}, "b": {1}}, "1.50× vs a (better)"},
		{false, map[string][]float64{"troupe": {2, 4, 3}, "a": {2}, "b": {1}}, "3.00× vs b (worse)"},
		{false, map[string][]float64{"troupe": {1}, "a": {2}}, "0.50× vs a (better)"},
		{true, map[string][]float64{"a": {2}}, "—"},
	}
	for _, tt := range tests {
		if got := ratio(metricKey{higherBetter: tt.higherBetter}, tt.values); got != tt.want {
			t.Errorf("ratio(%v, higherBetter=%v) = %q, want %q", tt.values, tt.higherBetter, got, tt.want)
		}
	}
}

// fakeEngine delivers synchronously, with configurable faults.
type fakeEngine struct {
	dropEvery int  // lose every n-th message
	extra     int  // count this many phantom messages at stop
	badReply  bool // answer requests with something else
}

func (f *fakeEngine) SpawnCounter(want int, done chan<- struct{}) (Actor, error) {
	return &fakeActor{f: f, t: tally{want: want, done: done}}, nil
}
func (f *fakeEngine) SpawnEcho() (Actor, error)           { return &fakeActor{f: f}, nil }
func (f *fakeEngine) SpawnStop(int) error                 { return nil }
func (f *fakeEngine) SpawnIdle(int) (func() error, error) { return func() error { return nil }, nil }
func (f *fakeEngine) Shutdown() error                     { return nil }

type fakeActor struct {
	f    *fakeEngine
	sent int
	t    tally
}

func (a *fakeActor) Send(msg any) error {
	a.sent++
	if isCounted(msg) && (a.f.dropEvery == 0 || a.sent%a.f.dropEvery != 0) {
		a.t.add()
	}
	return nil
}

func (a *fakeActor) Request(_ context.Context, p *probe) (any, error) {
	return a.RequestWithin(0, p)
}

func (a *fakeActor) RequestWithin(_ time.Duration, p *probe) (any, error) {
	if a.f.badReply {
		return &probe{}, nil
	}
	return p, nil
}

func (a *fakeActor) Stop() error {
	a.t.seen += a.f.extra
	return nil
}

func (a *fakeActor) Seen() int { return a.t.seen }

// testWriter sends the harness's progress log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestMessageAllocations pins the condition the two throughput variants are
// quoted under: making a zero-size message allocates nothing, making a
// small value allocates exactly once, whichever engine it is sent to.
func TestMessageAllocations(t *testing.T) {
	var sink any
	i := 0
	for _, tt := range []struct {
		name string
		make func(int) any
		want float64
	}{{"zero-size", makePing, 0}, {"16-byte value", makeValue, 1}} {
		got := testing.AllocsPerRun(1000, func() {
			i++
			sink = tt.make(i)
		})
		if got != tt.want {
			t.Errorf("%s message: %v allocations, want %v", tt.name, got, tt.want)
		}
	}
	_ = sink
}
