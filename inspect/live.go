package inspect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/troupehq/troupe/problem"
)

// liveInterval is how often a live console is updated: often enough to
// watch a mailbox fill, rarely enough that a console costs nothing to the
// service (one snapshot read a second).
const liveInterval = time.Second

// liveLimit bounds the live consoles: each holds a connection and a
// goroutine. One over the bound is refused, the ones connected keep
// their updates.
type liveLimit struct{ slots chan struct{} }

func newLiveLimit(n int) *liveLimit { return &liveLimit{slots: make(chan struct{}, max(n, 1))} }

func (l *liveLimit) acquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *liveLimit) release() { <-l.slots }

// LiveUpdate is what a live console receives each second.
type LiveUpdate struct {
	Time   time.Time     `json:"time"`
	Stats  Stats         `json:"stats"`
	Live   int           `json:"live_actors"`
	Cycles []CycleReport `json:"cycles"`
	// Actors is the page of actors the console shows, when it shows one.
	Actors []ActorRow `json:"actors,omitempty"`
}

// live streams LiveUpdates as Server-Sent Events (event "update") until
// the client goes or the inspector stops. Over the bound it answers 503.
func (h *handler) live(w http.ResponseWriter, r *http.Request) {
	q, bad := actorQuery(r)
	if bad != nil {
		problem.Write(w, r, *bad)
		return
	}
	if !h.clients.acquire() {
		w.Header().Set("Retry-After", "5")
		problem.Write(w, r, problem.New(http.StatusServiceUnavailable,
			fmt.Sprintf("The console already has its %d live clients; try again later or reload without live updates.", cap(h.clients.slots))))
		return
	}
	defer h.clients.release()
	flusher, ok := w.(http.Flusher)
	if !ok {
		problem.Write(w, r, problem.New(http.StatusInternalServerError, "live updates need a streaming connection"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	withActors := r.FormValue("view") == "actors"
	t := time.NewTicker(liveInterval)
	defer t.Stop()
	for {
		u := h.update(q, withActors)
		b, _ := json.Marshal(u)
		if _, err := fmt.Fprintf(w, "event: update\ndata: %s\n\n", b); err != nil {
			return
		}
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-h.i.closing:
			return
		case <-t.C:
		}
	}
}

func (h *handler) update(q ActorQuery, withActors bool) LiveUpdate {
	page := h.i.ActorsPage(q)
	u := LiveUpdate{Time: time.Now(), Stats: h.i.Stats(), Live: page.Total, Cycles: h.i.Cycles().Current}
	if withActors {
		u.Actors = page.Actors
	}
	return u
}
