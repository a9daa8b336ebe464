package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

func TestRunLoadsBothTargets(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var out bytes.Buffer
	s := settings{Duration: 150 * time.Millisecond, Rounds: 1, Concurrency: 4, Warmup: 50 * time.Millisecond}
	rep, err := run(context.Background(), s, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if len(rep.targets) != 2 || rep.targets[0].name != "bare Echo" || rep.targets[1].name != "Troupe quickstart" {
		t.Fatalf("targets = %+v, want bare Echo then Troupe quickstart", rep.targets)
	}
	for _, tr := range rep.targets {
		if tr.total.requests == 0 || tr.total.errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%q); want some and none", tr.name, tr.total.requests, tr.total.errors, tr.total.samples)
		}
		if len(tr.rps) != s.Rounds || tr.medianRPS() <= 0 {
			t.Errorf("%s: rounds %v, want %d positive", tr.name, tr.rps, s.Rounds)
		}
	}
	for _, want := range []string{
		"| target | requests | req/s (median of 1) | p50 | p99 | p99.9 | errors |",
		"| bare Echo | ",
		"| Troupe quickstart | ",
		"| Troupe quickstart / bare Echo | | ",
		"command:  go run ./bench/load -duration 150ms -rounds 1 -concurrency 4 -warmup 50ms",
		"GOMAXPROCS=",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := run(ctx, settings{Duration: time.Hour, Rounds: 100, Concurrency: 4, Warmup: time.Hour}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run = %v, want context.Canceled", err)
	}
}

func TestLoadCountsBadResponsesAsErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		sample  string
	}{
		{"status", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }, "status 500"},
		{"body", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"message":"hi"}`)) }, "unexpected body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			tgt := &target{name: tt.name, url: srv.URL, client: newClient(2)}
			defer tgt.client.CloseIdleConnections()
			res, err := load(context.Background(), tgt, 30*time.Millisecond, 2)
			if err != nil {
				t.Fatal(err)
			}
			if res.requests != 0 || res.errors == 0 {
				t.Fatalf("%d requests, %d errors; want none and some", res.requests, res.errors)
			}
			if len(res.samples) == 0 || !strings.Contains(res.samples[0], tt.sample) {
				t.Errorf("samples %q, want one mentioning %q", res.samples, tt.sample)
			}
		})
	}
}

func TestReportRatiosAndFailures(t *testing.T) {
	base, other := newTargetReport("bare"), newTargetReport("framework")
	for _, r := range []struct {
		tr      *targetReport
		latency time.Duration
		n       uint64
	}{{base, time.Millisecond, 1000}, {other, 2 * time.Millisecond, 500}} {
		res := &roundResult{requests: r.n, elapsed: time.Second, hist: histogram.New()}
		for range r.n {
			res.hist.Record(r.latency)
		}
		r.tr.addRound(res)
	}
	other.addWarmup(&roundResult{errors: 2, samples: []string{"status 503"}, hist: histogram.New()})
	rep := &report{settings: settings{Duration: time.Second, Rounds: 1, Concurrency: 1}, env: currentEnvironment(), targets: []*targetReport{base, other}}

	var out bytes.Buffer
	if err := rep.write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| bare | 1000 | 1000 | 1.000 ms | 1.000 ms | 1.000 ms | 0 |",
		"| framework | 500 | 500 | 2.000 ms | 2.000 ms | 2.000 ms | 2 |",
		"| framework / bare | | 0.50× | 2.00× | 2.00× | | |",
		"framework: 2 failed requests",
		"  status 503",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if rep.errors() != 2 {
		t.Errorf("errors() = %d, want 2", rep.errors())
	}
}

func TestMedianRPS(t *testing.T) {
	tests := []struct {
		rps  []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := (&targetReport{rps: tt.rps}).medianRPS(); got != tt.want {
			t.Errorf("medianRPS(%v) = %v, want %v", tt.rps, got, tt.want)
		}
	}
}

func TestCLIRejectsBadUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-rounds", "0"}, "-rounds must be at least 1"},
		{[]string{"-duration", "0s", "-concurrency", "0"}, "-concurrency must be at least 1"},
		{[]string{"-warmup", "-1s"}, "-warmup must not be negative"},
		{[]string{"-bogus"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := cli(tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("cli(%q) = %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("cli(%q) stderr = %q, want it to mention %q", tt.args, stderr.String(), tt.want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	dir := t.TempDir()
	withModel := filepath.Join(dir, "cpuinfo")
	content := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: other\n"
	if err := os.WriteFile(withModel, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	without := filepath.Join(dir, "arm")
	if err := os.WriteFile(without, []byte("processor\t: 0\nBogoMIPS\t: 50.00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{withModel: "AMD EPYC 7B13", without: "unknown", filepath.Join(dir, "missing"): "unknown"} {
		if got := cpuModel(path); got != want {
			t.Errorf("cpuModel(%s) = %q, want %q", filepath.Base(path), got, want)
		}
	}
}

func TestOnlyTroupeRunsTheMiddlewareChain(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bare, err := startBare(1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := bare.close(); err != nil {
			t.Error(err)
		}
	}()
	troupe, err := startTroupe(1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := troupe.close(); err != nil {
			t.Error(err)
		}
	}()

	for _, tt := range []struct {
		tgt       *target
		wantChain bool
	}{{bare, false}, {troupe, true}} {
		resp, err := tt.tgt.client.Get(tt.tgt.url)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, err = body.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(bytes.TrimSpace(body.Bytes()), wantBody) {
			t.Fatalf("%s: GET = %d %q, %v", tt.tgt.name, resp.StatusCode, body.String(), err)
		}
		gotChain := resp.Header.Get("X-Request-ID") != "" && resp.Header.Get("X-Content-Type-Options") == "nosniff"
		if gotChain != tt.wantChain {
			t.Errorf("%s: request ID and security headers present = %v, want %v (headers %v)", tt.tgt.name, gotChain, tt.wantChain, resp.Header)
		}
	}
}
