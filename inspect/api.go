package inspect

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/troupehq/troupe/problem"
)

// Page sizes of /inspect/actors and the console's Actors view: a page is
// what a person reads, and the bound keeps a response to 100,000 actors
// small.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// Handler serves the JSON API under /inspect/ and the console under
// /console, behind the configured access check. Mount it on the admin
// listener for both prefixes.
func (i *Inspector) Handler(c ConsoleConfig, src *Sources) http.Handler {
	if src == nil {
		src = &Sources{}
	}
	h := &handler{i: i, src: src, clients: newLiveLimit(c.MaxClients)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /inspect/actors", h.actors)
	mux.HandleFunc("GET /inspect/actors/{id}", h.actor)
	mux.HandleFunc("GET /inspect/events", h.events)
	mux.HandleFunc("GET /inspect/cycles", h.cycles)
	mux.HandleFunc("GET /inspect/stats", h.stats)
	mux.HandleFunc("GET /inspect/cluster", h.cluster)
	h.console(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(http.StatusNotFound, "no inspector endpoint at this path"))
	})
	return c.guard(noStore(mux))
}

type handler struct {
	i       *Inspector
	src     *Sources
	clients *liveLimit
	metrics metricsReader
}

// noStore keeps what the inspector shows out of caches: it is live, and
// private.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// actorQuery reads sort, q, offset and limit (or top, the same as limit
// with offset 0); a bad value is a 400 problem.
func actorQuery(r *http.Request) (ActorQuery, *problem.Details) {
	q := ActorQuery{Sort: r.FormValue("sort"), Filter: r.FormValue("q"), Limit: defaultPageSize}
	if q.Sort != "" && q.Sort != SortTree && sortKey(q.Sort) == nil {
		p := problem.New(http.StatusBadRequest, "sort must be tree, mailbox, p99, rate, restarts or dead_letters")
		return q, &p
	}
	for _, f := range []struct {
		name string
		dst  *int
		max  int
	}{{"offset", &q.Offset, 1 << 30}, {"limit", &q.Limit, maxPageSize}, {"top", &q.Limit, maxPageSize}} {
		v := r.FormValue(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > f.max {
			p := problem.New(http.StatusBadRequest, f.name+" must be a whole number from 0 to "+strconv.Itoa(f.max))
			return q, &p
		}
		*f.dst = n
	}
	return q, nil
}

func (h *handler) actors(w http.ResponseWriter, r *http.Request) {
	q, bad := actorQuery(r)
	if bad != nil {
		problem.Write(w, r, *bad)
		return
	}
	writeJSON(w, h.i.ActorsPage(q))
}

// ActorDetail is one actor's figures and recent events.
type ActorDetail struct {
	ID      uint64        `json:"id"`
	Figures *ActorFigures `json:"figures,omitempty"`
	Events  []Event       `json:"events"`
}

func (h *handler) detail(r *http.Request) (ActorDetail, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return ActorDetail{}, false
	}
	d := ActorDetail{ID: id, Events: h.i.Events(EventFilter{Actor: strconv.FormatUint(id, 10), Limit: 100})}
	if f, ok := h.i.Actor(id); ok {
		d.Figures = &f
	}
	return d, true
}

func (h *handler) actor(w http.ResponseWriter, r *http.Request) {
	d, ok := h.detail(r)
	if !ok {
		problem.Write(w, r, problem.New(http.StatusNotFound, "an actor id is a positive whole number"))
		return
	}
	writeJSON(w, d)
}

func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	f := EventFilter{Actor: r.FormValue("actor"), Kind: r.FormValue("kind")}
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problem.Write(w, r, problem.New(http.StatusBadRequest, "limit must be a whole number"))
			return
		}
		f.Limit = n
	}
	events := h.i.Events(f)
	switch r.FormValue("format") {
	case "", "json":
		w.Header().Set("Content-Type", "application/json")
		_ = WriteJSON(w, events)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition",
			`attachment; filename="inspector-events-`+time.Now().UTC().Format("20060102T150405Z")+`.csv"`)
		_ = WriteCSV(w, events)
	default:
		problem.Write(w, r, problem.New(http.StatusBadRequest, "format must be json or csv"))
	}
}

func (h *handler) cycles(w http.ResponseWriter, _ *http.Request) { writeJSON(w, h.i.Cycles()) }

func (h *handler) stats(w http.ResponseWriter, _ *http.Request) { writeJSON(w, h.i.Stats()) }
