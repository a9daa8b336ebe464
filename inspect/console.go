package inspect

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/troupehq/troupe/problem"
)

// The console is server-rendered: every view is complete HTML, readable
// with JavaScript off, and console.js only keeps the figures live over
// Server-Sent Events. Everything it needs is embedded in the binary.
//
//go:embed console/*.html console/static/*
var consoleFS embed.FS

// pages parses the console's templates on the first view rendered, not at
// init: every service links the inspector, most never open the console,
// and parsed they hold 320 KB of heap.
var pages = sync.OnceValue(func() map[string]*template.Template {
	funcs := template.FuncMap{
		"dur":   formatDuration,
		"ago":   func(t time.Time) string { return formatDuration(time.Since(t)) + " ago" },
		"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") },
		"indent": func(sort string, depth int) int {
			if sort == SortTree {
				return depth*2 + 1
			}
			return 1
		},
		"cycles": func(id string, cs []CycleReport) any {
			return struct {
				ID     string
				Cycles []CycleReport
			}{id, cs}
		},
	}
	out := map[string]*template.Template{}
	for _, name := range []string{"overview", "actors", "actor", "events", "cycles", "components", "cluster", "resilience", "config"} {
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(consoleFS, "console/layout.html", "console/"+name+".html"))
	}
	return out
})

// consolePolicy allows the console's own script and style and nothing
// else: no inline script, no other origin.
const consolePolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (h *handler) console(mux *http.ServeMux) {
	static, _ := fs.Sub(consoleFS, "console/static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console", h.overview)
	mux.HandleFunc("GET /console/{$}", h.overview)
	mux.HandleFunc("GET /console/actors", h.actorsView)
	mux.HandleFunc("GET /console/actors/{id}", h.actorView)
	mux.HandleFunc("GET /console/events", h.eventsView)
	mux.HandleFunc("GET /console/cycles", h.cyclesView)
	mux.HandleFunc("GET /console/components", h.componentsView)
	mux.HandleFunc("GET /console/cluster", h.clusterPage)
	mux.HandleFunc("GET /console/resilience", h.resilienceView)
	mux.HandleFunc("GET /console/config", h.configView)
	mux.HandleFunc("GET /console/live", h.live)
}

// page is what every view's layout needs.
type page struct {
	Title, View, LiveURL       string
	Service, Version, Instance string
	Stats                      Stats
	// Refresh, when set, reloads a view whose figures the live stream
	// does not carry every that many seconds (a meta refresh, so it works
	// without JS too).
	Refresh int
}

func (h *handler) page(title, view, live string) page {
	return page{Title: title, View: view, LiveURL: live, Service: h.src.Service, Version: h.src.Version,
		Instance: h.src.Instance, Stats: h.i.Stats()}
}

// refreshEvery is how often a view without live updates reloads itself.
const refreshEvery = 5

// refreshing makes p reload itself every refreshEvery seconds.
func (h *handler) refreshing(p page) page {
	p.Refresh = refreshEvery
	return p
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", consolePolicy)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err := pages()[name].ExecuteTemplate(w, "layout", data); err != nil {
		h.i.log.Error("rendering the console", "view", name, "error", err)
	}
}

// versionRow is an API version with its traffic.
type versionRow struct {
	APIVersion
	Requests   uint64
	Deprecated bool
	Routes     []routeCount
}

type routeCount struct {
	Route    string
	Requests uint64
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	data := struct {
		page
		Uptime    time.Duration
		Health    Health
		Live      int
		Cycles    []CycleReport
		Versions  []versionRow
		Realtime  Realtime
		MetricsOn bool
		Cluster   *ClusterView // nil on one node
	}{page: h.page("Overview", "overview", "/console/live"), Cycles: h.i.Cycles().Current}
	if h.src.Cluster != nil {
		c := h.clusterView()
		data.Cluster = &c
	}
	if !h.src.Started.IsZero() {
		data.Uptime = time.Since(h.src.Started).Round(time.Second)
	}
	if h.src.Health != nil {
		data.Health = h.src.Health(r.Context())
	}
	data.Live = h.i.ActorsPage(ActorQuery{}).Total
	got := h.metrics.read(h.src)
	traffic := got.Traffic
	data.MetricsOn, data.Realtime = got.On, got.Realtime
	if h.src.Versions != nil {
		for _, v := range h.src.Versions() {
			t, ok := traffic[v.Label]
			if !ok {
				t = traffic[trimV(v.Label)]
			}
			row := versionRow{APIVersion: v, Requests: t.Requests, Deprecated: v.Status != "active"}
			for route, n := range t.Routes {
				row.Routes = append(row.Routes, routeCount{route, n})
			}
			slices.SortFunc(row.Routes, func(a, b routeCount) int { return compareStrings(a.Route, b.Route) })
			data.Versions = append(data.Versions, row)
		}
	}
	h.render(w, r, "overview", data)
}

// trimV turns a version label ("v2") into its number ("2"), the other
// form a version attribute may take.
func trimV(label string) string {
	if len(label) > 1 && label[0] == 'v' {
		return label[1:]
	}
	return label
}

func (h *handler) actorsView(w http.ResponseWriter, r *http.Request) {
	q, bad := actorQuery(r)
	if bad != nil {
		problem.Write(w, r, *bad)
		return
	}
	p := h.i.ActorsPage(q)
	link := func(offset int) string {
		v := url.Values{"sort": {p.Sort}, "limit": {strconv.Itoa(q.Limit)}, "offset": {strconv.Itoa(offset)}}
		if q.Filter != "" {
			v.Set("q", q.Filter)
		}
		return "/console/actors?" + v.Encode()
	}
	data := struct {
		page
		Page       ActorsPage
		Query      ActorQuery
		Sorts      []string
		From, To   int
		Prev, Next string
	}{page: h.page("Actors", "actors", ""), Page: p, Query: q,
		Sorts: []string{SortTree, SortMailbox, SortP99, SortRate, SortRestarts, SortDeadLetters}}
	data.LiveURL = "/console/live?view=actors&" + url.Values{"sort": {p.Sort}, "limit": {strconv.Itoa(q.Limit)},
		"offset": {strconv.Itoa(q.Offset)}, "q": {q.Filter}}.Encode()
	data.From, data.To = min(q.Offset+1, p.Total), q.Offset+len(p.Actors)
	if q.Offset > 0 {
		data.Prev = link(max(0, q.Offset-q.Limit))
	}
	if data.To < p.Total {
		data.Next = link(data.To)
	}
	h.render(w, r, "actors", data)
}

func (h *handler) actorView(w http.ResponseWriter, r *http.Request) {
	d, ok := h.detail(r)
	if !ok {
		problem.Write(w, r, problem.New(http.StatusNotFound, "an actor id is a positive whole number"))
		return
	}
	data := struct {
		page
		Detail ActorDetail
	}{page: h.page("Actor #"+strconv.FormatUint(d.ID, 10), "actors", ""), Detail: d}
	h.render(w, r, "actor", data)
}

func (h *handler) eventsView(w http.ResponseWriter, r *http.Request) {
	f := EventFilter{Actor: r.FormValue("actor"), Kind: r.FormValue("kind"), Limit: 200}
	v := url.Values{}
	if f.Actor != "" {
		v.Set("actor", f.Actor)
	}
	if f.Kind != "" {
		v.Set("kind", f.Kind)
	}
	data := struct {
		page
		Filter    EventFilter
		Kinds     []string
		Events    []Event
		CSV, JSON string
	}{page: h.page("Events", "events", "/console/live"), Filter: f,
		Kinds:  []string{KindMessage, KindDeadLetter, KindRestart, KindCycle, KindCycleResolved},
		Events: h.i.Events(f), JSON: "/inspect/events?" + v.Encode()}
	v.Set("format", "csv")
	data.CSV = "/inspect/events?" + v.Encode()
	slices.Reverse(data.Events)
	h.render(w, r, "events", data)
}

func (h *handler) cyclesView(w http.ResponseWriter, r *http.Request) {
	data := struct {
		page
		Cycles Cycles
	}{page: h.page("Request cycles", "cycles", "/console/live"), Cycles: h.i.Cycles()}
	h.render(w, r, "cycles", data)
}

func (h *handler) componentsView(w http.ResponseWriter, r *http.Request) {
	data := struct {
		page
		Components       []Component
		Denials, Reloads map[string]uint64
	}{page: h.refreshing(h.page("Components", "components", "")), Denials: map[string]uint64{}, Reloads: map[string]uint64{}}
	if h.src.Components != nil {
		data.Components = h.src.Components()
	}
	if h.src.Metrics != nil {
		fams, _ := h.src.Metrics.Gather()
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				switch f.GetName() {
				case "troupe_component_denials_total":
					data.Denials[labels(m)["troupe_component"]] += uint64(m.GetCounter().GetValue())
				case "troupe_component_reloads_total":
					data.Reloads[labels(m)["troupe_component"]] += uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	h.render(w, r, "components", data)
}

func (h *handler) resilienceView(w http.ResponseWriter, r *http.Request) {
	got := h.metrics.read(h.src)
	data := struct {
		page
		R         Resilience
		MetricsOn bool
	}{page: h.refreshing(h.page("Resilience", "resilience", "")), R: got.Resilience, MetricsOn: got.On}
	h.render(w, r, "resilience", data)
}

func (h *handler) configView(w http.ResponseWriter, r *http.Request) {
	data := struct {
		page
		Config []ConfigValue
	}{page: h.page("Config", "config", "")}
	if h.src.Config != nil {
		data.Config = h.src.Config()
	}
	h.render(w, r, "config", data)
}

// formatDuration rounds d for a person: three significant digits.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return d.Round(10 * time.Nanosecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// Instance names this process for the console: host name and pid.
func Instance() string {
	host, _ := os.Hostname()
	return host + " pid " + strconv.Itoa(os.Getpid())
}
