package realtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/troupehq/troupe/internal/browsertest"
)

// clientPage loads the client and records what it sees.
const clientPage = `<!doctype html><meta charset="utf-8"><title>client test</title>
<script src="/client/troupe-realtime.js"></script>
<script>
window.seqs = []; window.types = [];
window.start = function (url, transport) {
  window.rt = new TroupeRealtime(url, {transport: transport, minBackoff: 20, maxBackoff: 100,
    onMessage: function (m) { window.seqs.push(m.seq); },
    onEvent: function (m) { window.types.push(m.type); }});
};
</script>`

// TestBrowserClient drives troupe-realtime.js in headless Chromium, over
// WebSocket and over SSE: it receives a room's messages, and when the
// server closes its connection it reconnects with the last position and
// gets what it missed, once and in order.
func TestBrowserClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx := browsertest.New(t, 90*time.Second)
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /feed": {Rooms: []string{"feed"}}},
		WithRooms(RoomConfig{Pattern: "feed", History: 100}))
	var mu sync.Mutex
	var queries []string
	th.mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, clientPage)
	})
	th.mux.Handle("GET /client/", http.StripPrefix("/client/", http.FileServerFS(ClientFS)))
	feed := th.mux
	th.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feed" {
			mu.Lock()
			queries = append(queries, r.URL.RawQuery)
			mu.Unlock()
		}
		withPrincipal(NewContextHandler(th.Hub, feed)).ServeHTTP(w, r)
	})

	seq := uint64(0)
	for _, transport := range []string{"websocket", "sse"} {
		t.Run(transport, func(t *testing.T) {
			mu.Lock()
			queries = nil
			mu.Unlock()
			do(t, ctx, chromedp.Navigate(th.srv.URL+"/page"))
			eval(t, ctx, fmt.Sprintf("start(%q, %q)", "/feed", transport))
			waitJS(t, ctx, "window.types.indexOf('joined') >= 0")
			base := seq
			for range 3 {
				seq++
				_ = th.Publish("feed", seq)
			}
			waitJS(t, ctx, "window.seqs.length === 3")

			// The server drops the connection; two messages come meanwhile.
			for _, c := range th.openConns() {
				_ = th.sys.Send(c.ref, Close{Code: 4001, Reason: "test"})
			}
			for range 2 {
				seq++
				_ = th.Publish("feed", seq)
			}
			waitJS(t, ctx, "window.seqs.length >= 5")
			got := evalInts(t, ctx, "JSON.stringify(window.seqs)")
			want := []uint64{base + 1, base + 2, base + 3, base + 4, base + 5}
			if !slices.Equal(got, want) {
				t.Errorf("seqs %v, want %v", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(queries) < 2 || !strings.Contains(queries[len(queries)-1], fmt.Sprintf("since=feed%%3A%d", base+3)) {
				t.Errorf("reconnections asked for %q, want since=feed:%d", queries, base+3)
			}
			eval(t, ctx, "rt.close()")
		})
	}
}

// openConns lists the open connections.
func (th *testHub) openConns() []*conn {
	th.mu.Lock()
	defer th.mu.Unlock()
	return th.snapshot()
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](js)); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
}

func evalInts(t *testing.T, ctx context.Context, js string) []uint64 {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	var out []uint64
	for _, f := range strings.FieldsFunc(strings.Trim(s, "[]"), func(r rune) bool { return r == ',' }) {
		var n uint64
		_, _ = fmt.Sscan(f, &n)
		out = append(out, n)
	}
	return out
}

// waitJS polls cond in the page until it is true, for at most 20 s.
func waitJS(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	browsertest.Wait(t, ctx, cond, 20*time.Second, func() string {
		types, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify(window.types)"))
		return "events " + types
	})
}
