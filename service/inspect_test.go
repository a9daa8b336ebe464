package service

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/inspect"
	"github.com/troupehq/troupe/problem"
	"github.com/troupehq/troupe/versioning"
)

// loopActor is loop-a or loop-b: GET /api/v1/cycle asks loop-a, which asks
// loop-b, which asks loop-a back — a request cycle, bounded by 300 ms.
func loopActor(next string) actors.Producer {
	return func() actors.Actor {
		return actorFunc(func(c *actors.Context, msg any) {
			switch msg.(type) {
			case *actors.HTTPRequest, string:
				ctx := c.Context()
				if _, ok := msg.(*actors.HTTPRequest); ok {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
					defer cancel()
				}
				ref, _ := c.System().Lookup(next)
				v, err := c.Request(ctx, ref, "loop")
				if pe, ok := v.(*problem.Error); ok {
					c.Respond(pe) // the inner request's answer, passed on
					return
				}
				switch {
				case errors.Is(err, actors.ErrCycle):
					c.Respond(problem.NewError(http.StatusLoopDetected, err.Error()))
				case err != nil:
					c.Respond(problem.NewError(http.StatusGatewayTimeout, err.Error()))
				default:
					c.Respond(v)
				}
			}
		})
	}
}

// startInspect runs the service with the echo actor at POST
// /api/v1/echo/:word, a second echo at POST /api/v1/other/:word, and the
// loop at GET /api/v1/cycle.
func startInspect(t *testing.T, env map[string]string) *running {
	t.Helper()
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.POST("/echo/:word", actors.Route("echo"))
		g.POST("/other/:word", actors.Route("other"))
		g.GET("/cycle", actors.Route("loop-a"))
		g.POST("/slow/:word", actors.Route("slow"))
	})
	return start(t, env, WithAPI(api), WithActor("echo", echoActor), WithActor("other", echoActor), WithActor("slow", slowActor),
		WithActor("loop-a", loopActor("loop-b")), WithActor("loop-b", loopActor("loop-a")))
}

// slowActor answers after a millisecond's work: processing long enough
// that recording a message costs well under 1% of it, even under -race on
// a loaded machine.
func slowActor() actors.Actor {
	return actorFunc(func(c *actors.Context, msg any) {
		if _, ok := msg.(*actors.HTTPRequest); ok {
			time.Sleep(time.Millisecond)
			c.Respond("done")
		}
	})
}

// post sends n requests to path and returns their request IDs.
func post(t *testing.T, r *running, path string, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		resp, err := http.Post(r.base()+path, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s = %d", path, resp.StatusCode)
		}
		ids = append(ids, resp.Header.Get("X-Request-ID"))
	}
	return ids
}

func stats(t *testing.T, r *running) inspect.Stats {
	t.Helper()
	_, body := get(t, r.adminBase()+"/inspect/stats")
	return decode[inspect.Stats](t, body)
}

// eventually polls cond for up to 10 s: messages are recorded when their
// Receive ends, just after the reply went out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInspectModes observes inspect.mode and inspect.sampling_rate: what
// the inspector records of the requests an actor serves.
func TestInspectModes(t *testing.T) {
	t.Run("development", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__MODE": "development"})
		ids := post(t, r, "/api/v1/echo/hi", 5)
		var events []inspect.Event
		eventually(t, "5 events", func() bool {
			_, body := get(t, r.adminBase()+"/inspect/events?actor=echo")
			events = decode[[]inspect.Event](t, body)
			return len(events) == 5
		})
		for k, e := range events {
			if e.Kind != inspect.KindMessage || e.Message != "*actors.HTTPRequest" || e.RequestID != ids[k] || e.Outcome != "replied" {
				t.Errorf("event %d: %+v (request %s)", k, e, ids[k])
			}
		}
		if st := stats(t, r); st.Mode != "development" || st.SamplingRate != 1 || !st.DetectCycles {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("off", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__MODE": "off", "INSPECT__SAMPLING_RATE": "1"})
		post(t, r, "/api/v1/echo/hi", 5)
		if st := stats(t, r); st.Mode != "off" || st.Recorded != 0 || st.SamplingRate != 0 || st.DetectCycles {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("sampling_rate", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__MODE": "production", "INSPECT__SAMPLING_RATE": "1"})
		post(t, r, "/api/v1/echo/hi", 5)
		eventually(t, "5 events", func() bool { return stats(t, r).Events == 5 })
		if st := stats(t, r); st.SamplingRate != 1 {
			t.Errorf("rate %v", st.SamplingRate)
		}
		r = startInspect(t, map[string]string{"INSPECT__MODE": "production"})
		if st := stats(t, r); st.SamplingRate != 0.01 {
			t.Errorf("production's rate %v", st.SamplingRate)
		}
	})
}

// TestInspectBounds observes inspect.max_events, inspect.max_actors and
// inspect.retention.
func TestInspectBounds(t *testing.T) {
	t.Run("max_events", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__MODE": "development", "INSPECT__MAX_EVENTS": "3"})
		post(t, r, "/api/v1/echo/hi", 10)
		eventually(t, "10 recorded", func() bool { return stats(t, r).Recorded == 10 })
		if st := stats(t, r); st.Events != 3 || st.Dropped != 7 || st.MaxEvents != 3 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("max_actors", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__MODE": "development", "INSPECT__MAX_ACTORS": "1"})
		post(t, r, "/api/v1/echo/hi", 2)
		post(t, r, "/api/v1/other/hi", 2)
		eventually(t, "4 recorded", func() bool { return stats(t, r).Recorded == 4 })
		// The recorder takes staged events in no promised order across
		// goroutines, so echo's and other's may alternate and evict each
		// other more than once; the bound is what must hold.
		if st := stats(t, r); st.Actors != 1 || st.ActorsEvicted < 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("retention", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__MODE": "development", "INSPECT__RETENTION": "50ms"})
		post(t, r, "/api/v1/echo/hi", 3)
		eventually(t, "the events to expire", func() bool {
			st := stats(t, r)
			return st.Recorded == 3 && st.Events == 0 && st.Expired == 3 && st.Actors == 0
		})
	})
}

// TestInspectCycles observes inspect.detect_cycles and inspect.fail_cycles
// on a request cycle between two actors.
func TestInspectCycles(t *testing.T) {
	cycle := func(t *testing.T, r *running) (int, inspect.Cycles) {
		resp, _ := get(t, r.base()+"/api/v1/cycle")
		_, body := get(t, r.adminBase()+"/inspect/cycles")
		return resp.StatusCode, decode[inspect.Cycles](t, body)
	}
	t.Run("fail_cycles", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__FAIL_CYCLES": "true"})
		status, cs := cycle(t, r)
		if status != http.StatusLoopDetected || cs.Detected != 1 {
			t.Fatalf("status %d, cycles %+v", status, cs)
		}
		eventually(t, "the resolution", func() bool {
			_, body := get(t, r.adminBase()+"/inspect/cycles")
			cs = decode[inspect.Cycles](t, body)
			return len(cs.Recent) == 1
		})
		if c := cs.Recent[0]; c.Resolution != "failed fast" || len(c.Hops) != 2 || !strings.HasPrefix(c.Actors, "loop-a#") {
			t.Errorf("cycle %+v", c)
		}
		_, metrics := get(t, r.adminBase()+"/metrics")
		mustContain(t, string(metrics), "troupe_inspect_cycles_total")
		mustContain(t, r.logs.String(), "request cycle detected", "loop-a#", "waits on")
	})
	t.Run("detect_cycles", func(t *testing.T) {
		r := startInspect(t, nil)
		status, cs := cycle(t, r)
		if status != http.StatusGatewayTimeout || cs.Detected != 1 {
			t.Errorf("detected: status %d, cycles %+v", status, cs)
		}
		r = startInspect(t, map[string]string{"INSPECT__DETECT_CYCLES": "false"})
		status, cs = cycle(t, r)
		if status != http.StatusGatewayTimeout || cs.Detected != 0 {
			t.Errorf("not watched: status %d, cycles %+v", status, cs)
		}
	})
}

// TestInspectAdaptive observes the inspect.adaptive keys: the rate starts
// within [min_rate, max_rate] and falls to min_rate while recording costs
// more than overhead_target, adjusting every interval.
func TestInspectAdaptive(t *testing.T) {
	load := func(r *running, path string, stop chan struct{}) *sync.WaitGroup {
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(r.base()+path, "text/plain", nil)
				if err == nil {
					resp.Body.Close()
				}
			}
		})
		return &wg
	}
	adaptive := map[string]string{
		"INSPECT__MODE": "development", "INSPECT__ADAPTIVE__ENABLED": "true", "INSPECT__ADAPTIVE__MAX_RATE": "0.5",
		"INSPECT__ADAPTIVE__MIN_RATE": "0.2", "INSPECT__ADAPTIVE__OVERHEAD_TARGET": "0.000001", "INSPECT__ADAPTIVE__INTERVAL": "20ms",
	}
	r := startInspect(t, adaptive)
	if st := stats(t, r); !st.Adaptive || st.SamplingRate != 0.5 {
		t.Fatalf("start: %+v", st)
	}
	stop := make(chan struct{})
	wg := load(r, "/api/v1/echo/hi", stop)
	eventually(t, "the rate to fall to min_rate", func() bool { return stats(t, r).SamplingRate == 0.2 })
	close(stop)
	wg.Wait()

	// A generous target, or a long interval, keeps the rate. The load is
	// the slow actor's: against the echo actor's microsecond, recording
	// under -race has cost more than the 99% target and lowered the rate.
	for _, k := range []string{"INSPECT__ADAPTIVE__OVERHEAD_TARGET=0.99", "INSPECT__ADAPTIVE__INTERVAL=1h"} {
		env := map[string]string{}
		for kk, v := range adaptive {
			env[kk] = v
		}
		kv := strings.SplitN(k, "=", 2)
		env[kv[0]] = kv[1]
		r := startInspect(t, env)
		stop := make(chan struct{})
		wg := load(r, "/api/v1/slow/hi", stop)
		eventually(t, "traffic", func() bool { return stats(t, r).Recorded > 200 })
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		if st := stats(t, r); st.SamplingRate != 0.5 {
			t.Errorf("%s: rate %v, want it kept at 0.5", k, st.SamplingRate)
		}
	}
	// Off, the mode's rate stands.
	r = startInspect(t, map[string]string{"INSPECT__MODE": "development", "INSPECT__ADAPTIVE__MAX_RATE": "0.5"})
	if st := stats(t, r); st.Adaptive || st.SamplingRate != 1 {
		t.Errorf("without adaptive: %+v", st)
	}
}

// TestInspectConsole observes the inspect.console keys.
func TestInspectConsole(t *testing.T) {
	t.Run("enabled", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__CONSOLE__ENABLED": "false"})
		for _, p := range []string{"/console", "/inspect/stats"} {
			if resp, _ := get(t, r.adminBase()+p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s = %d with the console off", p, resp.StatusCode)
			}
		}
		r = startInspect(t, nil)
		post(t, r, "/api/v1/echo/hi", 3)
		resp, body := get(t, r.adminBase()+"/console")
		// The overview reads the request counts from the metrics.
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>Overview · test") ||
			!strings.Contains(string(body), "<td>v1</td><td>active</td><td></td><td></td><td>3</td>") {
			t.Errorf("/console = %d %s", resp.StatusCode, body)
		}
		for _, view := range []string{"/console/config", "/console/resilience", "/console/actors", "/console/components", "/console/cluster"} {
			resp, body := get(t, r.adminBase()+view)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s = %d", view, resp.StatusCode)
			}
			if view == "/console/config" && !strings.Contains(string(body), "<code>inspect.mode</code></td><td><code>&#34;production&#34;</code></td><td>default</td>") {
				t.Errorf("the config view lacks inspect.mode with its source:\n%s", body)
			}
			if view == "/console/cluster" && !strings.Contains(string(body), "the service runs on one node") {
				t.Errorf("the cluster view of a service on one node does not say so:\n%s", body)
			}
		}
	})
	t.Run("auth", func(t *testing.T) {
		token := "a-token-of-24-characters"
		r := startInspect(t, map[string]string{"INSPECT__CONSOLE__AUTH": "bearer", "INSPECT__CONSOLE__TOKEN": token})
		check := func(path, header string, want int) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, r.adminBase()+path, nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != want || (want == 401 && resp.Header.Get("Content-Type") != "application/problem+json") {
				t.Errorf("%s with %q = %d %q, want %d", path, header, resp.StatusCode, body, want)
			}
		}
		check("/console", "", 401)
		check("/inspect/events", "Bearer not-the-token-at-all", 401)
		check("/inspect/events", "Bearer "+token, 200)
		// The rest of the admin listener is not behind the console's guard.
		check("/livez", "", 200)
		r = startInspect(t, map[string]string{"INSPECT__CONSOLE__AUTH": "basic", "INSPECT__CONSOLE__USERNAME": "ops",
			"INSPECT__CONSOLE__PASSWORD": "a-password-of-24-chars!"})
		check("/console", "", 401)
		check("/console", "Basic b3BzOndyb25n", 401) // ops:wrong
		req, _ := http.NewRequest(http.MethodGet, r.adminBase()+"/console", nil)
		req.SetBasicAuth("ops", "a-password-of-24-chars!")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if readAll(t, resp); resp.StatusCode != 200 {
			t.Errorf("basic with the password = %d", resp.StatusCode)
		}
	})
	t.Run("max_clients", func(t *testing.T) {
		r := startInspect(t, map[string]string{"INSPECT__CONSOLE__MAX_CLIENTS": "1"})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.adminBase()+"/console/live", nil)
		first, err := http.DefaultClient.Do(req)
		if err != nil || first.StatusCode != 200 {
			t.Fatalf("first live console: %v %v", first, err)
		}
		defer first.Body.Close()
		resp, body := get(t, r.adminBase()+"/console/live")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("second live console = %d %s", resp.StatusCode, body)
		}
	})
}

// TestInspectConfigErrors: bad [inspect] values fail start-up, each
// naming its key and source.
func TestInspectConfigErrors(t *testing.T) {
	for _, c := range []struct{ env, value, key string }{
		{"INSPECT__MODE", "verbose", "inspect.mode"},
		{"INSPECT__SAMPLING_RATE", "1.5", "inspect.sampling_rate"},
		{"INSPECT__SAMPLING_RATE", "-0.1", "inspect.sampling_rate"},
		{"INSPECT__MAX_EVENTS", "0", "inspect.max_events"},
		{"INSPECT__MAX_EVENTS", "1000000000", "inspect.max_events"},
		{"INSPECT__MAX_ACTORS", "0", "inspect.max_actors"},
		{"INSPECT__RETENTION", "0s", "inspect.retention"},
		{"INSPECT__DETECT_CYCLES", "false", "inspect.fail_cycles"},
		{"INSPECT__ADAPTIVE__MIN_RATE", "0", "inspect.adaptive.min_rate"},
		{"INSPECT__ADAPTIVE__MAX_RATE", "2", "inspect.adaptive.max_rate"},
		{"INSPECT__ADAPTIVE__OVERHEAD_TARGET", "1", "inspect.adaptive.overhead_target"},
		{"INSPECT__ADAPTIVE__INTERVAL", "1ms", "inspect.adaptive.interval"},
		{"INSPECT__CONSOLE__AUTH", "oauth", "inspect.console.auth"},
		{"INSPECT__CONSOLE__AUTH", "bearer", "inspect.console.token"},
		{"INSPECT__CONSOLE__AUTH", "basic", "inspect.console.password"},
		{"INSPECT__CONSOLE__MAX_CLIENTS", "0", "inspect.console.max_clients"},
	} {
		env := map[string]string{c.env: c.value}
		if c.key == "inspect.fail_cycles" {
			env["INSPECT__FAIL_CYCLES"] = "true"
		}
		_, err := New("test", WithConfigLoader(testLoader(t, env)), WithLogOutput(&syncBuffer{}))
		if err == nil || !strings.Contains(err.Error(), c.key+" (from ") {
			t.Errorf("%s=%s: %v, want an error naming %s and its source", c.env, c.value, err, c.key)
		}
	}
}

// TestInspectWarnsAboutAnOpenConsole: no authentication on an admin
// listener reachable from other hosts is logged at start.
func TestInspectWarnsAboutAnOpenConsole(t *testing.T) {
	logs := &syncBuffer{}
	_, err := New("test", WithConfigLoader(testLoader(t, map[string]string{"ADMIN__ADDRESS": "0.0.0.0:0"})), WithLogOutput(logs))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, logs.String(), "without authentication", "inspect.console.auth")
	logs = &syncBuffer{}
	if _, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(logs)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "without authentication") {
		t.Error("warned about a loopback admin listener")
	}
}

// TestResilienceInConsole: the console's resilience view reads the
// breakers, bulkheads and rate limits from the service's own metrics.
func TestResilienceInConsole(t *testing.T) {
	r, _, _, _ := startResilience(t, map[string]string{
		"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_IP_RPM": "2",
		"RESILIENCE__BREAKER__ENABLED": "true", "RESILIENCE__BULKHEAD__MAX_CONCURRENT": "5",
	})
	if codes := statuses(t, r, "/api/v1/hello", 3, nil); count(codes, http.StatusTooManyRequests) != 1 {
		t.Fatalf("statuses %v, want one 429", codes)
	}
	_, body := get(t, r.adminBase()+"/console/resilience")
	for _, want := range []string{
		// A breaker shows closed before any transition.
		`<tr><td>v1</td><td>inbound</td><td class="status closed">closed</td><td>0</td>`,
		`<tr><td>v1</td><td>0</td><td>0</td></tr>`, // the bulkhead, nothing in flight
		`<tr><td>/api/v1/hello</td><td>ip</td><td>2</td><td>1</td></tr>`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the resilience view lacks %s:\n%s", want, body)
		}
	}
}
