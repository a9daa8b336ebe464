package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/cputime"
	"github.com/troupehq/troupe/versioning"
)

// BenchmarkActorRoute serves POST /api/v1/echo/:word, answered by an actor,
// through the whole service handler, each request's context a
// context.WithCancel as net/http makes one per request. Under such a parent
// the timeout stage's context costs seven allocations more once asked for
// its Done channel, which is what an actor Request under it used to do at
// once (docs/benchmarks.md, issue 19 item 5).
func BenchmarkActorRoute(b *testing.B) {
	benchActorRoute(b, nil, 5000, func() (*http.Request, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		return httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/echo/hi", strings.NewReader("x")), cancel
	})
}

// benchActorRoute serves POST /api/v1/echo/:word, answered by an actor,
// through the whole handler of a service with env, warm times first (the
// steady state: pools and buffers at their size), and reports CPU per
// request as well as time. newRequest returns each request and what to
// call once it is served.
func benchActorRoute(b *testing.B, env map[string]string, warm int, newRequest func() (*http.Request, context.CancelFunc)) {
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.POST("/echo/:word", actors.Route("echo")) })
	svc, err := New("test", WithConfigLoader(testLoader(b, env)), WithLogOutput(io.Discard), WithAPI(api))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = svc.actorSystem.Shutdown(context.Background())
		svc.release()
	})
	if _, err := svc.Actors().Spawn("echo", echoActor); err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()
	serve := func() *httptest.ResponseRecorder {
		req, done := newRequest()
		defer done()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for range warm {
		serve()
	}
	fillEvents(svc, serve)
	b.ReportAllocs()
	cpu := cputime.Used()
	for b.Loop() {
		if w := serve(); w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	cputime.PerOp(b, cpu)
}

// fillEvents serves requests until the inspector's event ring is full (at
// most 2 million), so the timed loop measures its steady state: 20,000
// requests left analysis mode's ring half full, and its growth — by
// doubling, and the heap the GC scans growing with it — was counted as
// analysis mode's cost (docs/benchmarks.md#inspector).
func fillEvents(svc *Service, serve func() *httptest.ResponseRecorder) {
	i := svc.inspector
	if i == nil || svc.cfg.Inspect.Mode == "off" {
		return
	}
	for n := 0; n < 2_000_000; n++ {
		if n%10_000 == 0 && i.Stats().Events >= svc.cfg.Inspect.MaxEvents {
			return
		}
		serve()
	}
}
