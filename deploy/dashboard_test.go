package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboard is the part of Grafana's dashboard model the tests check.
type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Query      any         `json:"query"` // a string, or {"query": ...} for Prometheus query variables
	Datasource *datasource `json:"datasource"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasource              `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

var templated = datasource{Type: "prometheus", UID: "${datasource}"}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal([]byte(readFile(t, "grafana/troupe-dashboard.json")), &d); err != nil {
		t.Fatalf("troupe-dashboard.json: %v", err)
	}
	return d
}

func TestDashboardModel(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both must be set", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion = %d; want one Grafana 10 and 11 read as is (36..41)", d.SchemaVersion)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds := vars["datasource"]; ds.Type != "datasource" || ds.Query != "prometheus" {
		t.Errorf("variable datasource = %+v; want a Prometheus data source variable", ds)
	}
	for _, name := range []string{"job", "instance"} {
		if v := vars[name]; v.Type != "query" || v.Datasource == nil || *v.Datasource != templated {
			t.Errorf("variable %s = %+v; want a query variable on ${datasource}", name, v)
		}
	}

	// Top-level panels share the grid; a collapsed row's panels are laid
	// out only when it opens.
	for i, a := range d.Panels {
		for _, b := range d.Panels[:i] {
			if overlap(a, b) {
				t.Errorf("panels %q and %q overlap", b.Title, a.Title)
			}
		}
	}
	ids := map[int]string{}
	for _, p := range allPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, g)
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.Datasource == nil || *p.Datasource != templated || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: needs a title, datasource %v and targets", p.ID, p.Title, templated)
		}
		refIDs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || *tg.Datasource != templated || tg.RefID == "" || refIDs[tg.RefID] {
				t.Errorf("panel %q: target %s needs datasource %v and a unique refId", p.Title, tg.RefID, templated)
			}
			refIDs[tg.RefID] = true
		}
	}
}

// TestDashboardQueries checks every query against the metrics table, that
// every selector honours the job and instance variables, and that the
// panels the dashboard promises are there.
func TestDashboardQueries(t *testing.T) {
	d := loadDashboard(t)
	k := known(t)
	used := map[string]bool{}
	var exprs []string
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			where := fmt.Sprintf("panel %q target %s", p.Title, tg.RefID)
			for _, sel := range k.checkExpr(t, where, tg.Expr).selectors {
				used[sel.metric] = true
				if !slices.Contains(sel.matchers, "job") || !slices.Contains(sel.matchers, "instance") {
					t.Errorf("%s: %s ignores the $job or $instance variable", where, sel.metric)
				}
			}
			exprs = append(exprs, strings.Join(strings.Fields(tg.Expr), " "))
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
	for _, v := range d.Templating.List {
		q, ok := v.Query.(map[string]any)
		if !ok {
			continue
		}
		m := labelValues.FindStringSubmatch(fmt.Sprint(q["query"]))
		if m == nil {
			t.Errorf("variable %s: query %v is not label_values(selector, label)", v.Name, q["query"])
			continue
		}
		k.checkExpr(t, "variable "+v.Name, m[1])
		if !k.labels[m[2]] {
			t.Errorf("variable %s: unknown label %q", v.Name, m[2])
		}
	}

	for _, series := range []string{
		"http_server_request_duration_seconds_count", "http_server_request_duration_seconds_bucket",
		"http_server_active_requests", "troupe_ratelimit_decisions_total", "troupe_breaker_state",
		"troupe_bulkhead_in_flight", "troupe_bulkhead_queue_duration_seconds_bucket",
		"troupe_bulkhead_rejections_total", "troupe_actor_mailbox_depth",
		"troupe_actor_processing_duration_seconds_bucket", "troupe_actor_restarts_total",
		"troupe_actor_dead_letters_total", "go_goroutines", "go_memstats_heap_alloc_bytes",
	} {
		if !used[series] {
			t.Errorf("no panel queries %s", series)
		}
	}
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		want := "histogram_quantile(" + q + ", sum by (http_route, le) (rate(http_server_request_duration_seconds_bucket{"
		if !slices.ContainsFunc(exprs, func(e string) bool { return strings.HasPrefix(e, want) }) {
			t.Errorf("no panel shows the %s latency quantile by route", q)
		}
	}
}

// allPanels flattens rows: an expanded row's panels follow it at the top
// level, a collapsed row holds its own.
func allPanels(panels []panel) []panel {
	var out []panel
	for _, p := range panels {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func overlap(a, b panel) bool {
	ga, gb := a.GridPos, b.GridPos
	return ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H
}
