package realtime

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one parsed event.
type sseEvent struct {
	id, event, data, retry string
}

// openSSE opens an event stream at path, with extra header fields.
func (th *testHub) openSSE(t *testing.T, path string, header http.Header) (*http.Response, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, th.srv.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewReader(resp.Body)
}

// nextEvent reads one event, skipping comments.
func nextEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	done := make(chan error, 1)
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			line = strings.TrimRight(line, "\n")
			if line == "" {
				if ev != (sseEvent{}) {
					done <- nil
					return
				}
				continue
			}
			if strings.HasPrefix(line, ":") {
				continue
			}
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "id":
				ev.id = v
			case "event":
				ev.event = v
			case "data":
				ev.data += v
			case "retry":
				ev.retry = v
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return ev
}

// TestSSE: an endpoint serves an event stream to a client that asks for
// one, with ids that resume every room through Last-Event-ID.
func TestSSE(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /feed": {Rooms: []string{"feed"}}},
		WithRooms(RoomConfig{Pattern: "feed", History: 10}))
	resp, r := th.openSSE(t, "/feed", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if ev := nextEvent(t, r); !strings.Contains(ev.data, `"type":"joined"`) {
		t.Fatalf("first event %+v", ev)
	}
	_ = th.Publish("feed", map[string]string{"note": "a"})
	_ = th.Publish("feed", map[string]string{"note": "b"})
	ev := nextEvent(t, r)
	if ev.id != "feed:1" || !strings.Contains(ev.data, `"data":{"note":"a"}`) {
		t.Fatalf("event %+v", ev)
	}
	if ev := nextEvent(t, r); ev.id != "feed:2" {
		t.Fatalf("event %+v", ev)
	}
	// A browser reconnecting sends the last id it saw.
	_, r2 := th.openSSE(t, "/feed", http.Header{"Last-Event-Id": {"feed:1"}})
	if ev := nextEvent(t, r2); ev.id != "feed:2" {
		t.Fatalf("resumed event %+v", ev)
	}
	if ev := nextEvent(t, r2); !strings.Contains(ev.data, `"type":"joined"`) {
		t.Fatalf("after the replay %+v", ev)
	}
	eventually(t, "both streams counted", func() bool { return th.Connections() == 2 })
	resp.Body.Close()
	eventually(t, "a closed stream is noticed", func() bool { return th.Connections() == 1 })
}

// TestSSEKeepAlive: an idle stream gets a comment every ping interval, so
// proxies keep it open.
func TestSSEKeepAlive(t *testing.T) {
	cfg := fastConfig()
	cfg.PingInterval = 50 * time.Millisecond
	cfg.IdleTimeout = time.Second
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /feed": {Rooms: []string{"feed"}}})
	_, r := th.openSSE(t, "/feed", nil)
	nextEvent(t, r) // joined
	deadline := time.Now().Add(10 * time.Second)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ": ping\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no keep-alive comment")
		}
	}
}

// TestSSEOnly: a request for a stream on a WebSocket-only endpoint, or an
// upgrade on an SSE-only one, is refused before anything is upgraded.
func TestTransportsRefused(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{
		"GET /ws":  {Transports: WebSocket},
		"GET /sse": {Transports: SSE, Rooms: []string{"feed"}},
	})
	req, _ := http.NewRequest(http.MethodGet, th.srv.URL+"/ws", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("stream on a WebSocket endpoint: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, resp, err := th.tryDial("/sse", "", nil); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("upgrade on an SSE endpoint: %v", err)
	}
	resp, err = http.Get(th.srv.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("plain GET on an SSE endpoint: %d", resp.StatusCode)
	}
}
