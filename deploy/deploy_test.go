// Package deploy holds the operational files shipped with Troupe — the
// Grafana dashboard, the Prometheus alert rules and scrape config, and a
// local collector stack — and the tests that keep them, the metrics table of
// docs/observability.md and the instrument names in internal/telemetry in
// agreement, so none can drift from the others.
package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/otlptranslator"
)

// instrument is one row of the metrics table in docs/observability.md.
type instrument struct {
	name, kind, unit string
	labels           []string
}

// catalogue is the metrics table, entered a second time so that an edit to
// the docs alone fails a test.
var catalogue = []instrument{
	{"http.server.request.duration", "histogram", "s", httpLabels},
	{"http.server.active_requests", "updowncounter", "{request}", []string{"http.request.method", "http.route"}},
	{"http.server.request.body.size", "histogram", "By", httpLabels},
	{"http.server.response.body.size", "histogram", "By", httpLabels},
	{"troupe.ratelimit.decisions", "counter", "{decision}", []string{"http.route", "troupe.ratelimit.key_kind", "troupe.ratelimit.store", "troupe.decision"}},
	{"troupe.ratelimit.store.errors", "counter", "{error}", []string{"troupe.ratelimit.store"}},
	{"troupe.breaker.state", "gauge", "{state}", []string{"troupe.breaker.name", "troupe.breaker.kind"}},
	{"troupe.breaker.transitions", "counter", "{transition}", []string{"troupe.breaker.name", "troupe.breaker.kind", "troupe.breaker.from", "troupe.breaker.to"}},
	{"troupe.breaker.rejections", "counter", "{request}", []string{"troupe.breaker.name", "troupe.breaker.kind"}},
	{"troupe.bulkhead.in_flight", "updowncounter", "{request}", []string{"troupe.bulkhead.name"}},
	{"troupe.bulkhead.queue.duration", "histogram", "s", []string{"troupe.bulkhead.name"}},
	{"troupe.bulkhead.rejections", "counter", "{request}", []string{"troupe.bulkhead.name"}},
	{"troupe.shedding.rejections", "counter", "{request}", []string{"http.route"}},
	{"troupe.shedding.limit", "gauge", "{request}", nil},
	{"troupe.client.retries", "counter", "{attempt}", []string{"server.address", "troupe.retry"}},
	{"troupe.client.retry_budget.exhausted", "counter", "{event}", []string{"server.address"}},
	{"troupe.authn.results", "counter", "{result}", []string{"troupe.authn.result"}},
	{"troupe.authz.decisions", "counter", "{decision}", []string{"http.route", "troupe.decision"}},
	{"troupe.authz.duration", "histogram", "s", []string{"http.route"}},
	{"troupe.auth.cache.lookups", "counter", "{lookup}", []string{"troupe.auth.cache", "troupe.cache.result"}},
	{"troupe.actor.processing.duration", "histogram", "s", []string{"troupe.actor.kind"}},
	{"troupe.actor.mailbox.depth", "gauge", "{message}", []string{"troupe.actor.kind"}},
	{"troupe.actor.restarts", "counter", "{restart}", []string{"troupe.actor.kind"}},
	{"troupe.actor.dead_letters", "counter", "{message}", []string{"troupe.dead_letter.reason"}},
	{"troupe.actor.mailbox.dropped", "counter", "{message}", []string{"troupe.actor.kind", "troupe.actor.overflow_policy"}},
	{"troupe.actor.remote.sent", "counter", "{message}", []string{"troupe.remote.operation"}},
	{"troupe.actor.remote.received", "counter", "{message}", []string{"troupe.remote.operation"}},
	{"troupe.actor.remote.request.duration", "histogram", "s", []string{"troupe.remote.operation", "troupe.remote.outcome"}},
	{"troupe.component.denials", "counter", "{call}", []string{"troupe.component", "troupe.capability.kind"}},
	{"troupe.component.instance.failures", "counter", "{instance}", []string{"troupe.component", "troupe.component.reason"}},
	{"troupe.component.reloads", "counter", "{reload}", []string{"troupe.component", "troupe.component.result"}},
	{"troupe.realtime.connections", "updowncounter", "{connection}", []string{"troupe.realtime.transport"}},
	{"troupe.realtime.connections.limit", "gauge", "{connection}", nil},
	{"troupe.realtime.upgrades", "counter", "{upgrade}", []string{"troupe.realtime.transport", "troupe.realtime.outcome"}},
	{"troupe.realtime.messages", "counter", "{message}", []string{"troupe.realtime.direction"}},
	{"troupe.realtime.bytes", "counter", "By", []string{"troupe.realtime.direction"}},
	{"troupe.realtime.slow_consumer.drops", "counter", "{message}", nil},
	{"troupe.realtime.closes", "counter", "{connection}", []string{"troupe.realtime.transport", "troupe.realtime.close_reason"}},
	{"troupe.realtime.delivery.duration", "histogram", "s", nil},
	{"troupe.inspect.events", "counter", "{event}", []string{"troupe.inspect.kind"}},
	{"troupe.inspect.events.dropped", "counter", "{event}", nil},
	{"troupe.inspect.sampling.rate", "gauge", "{rate}", nil},
	{"troupe.inspect.memory", "gauge", "By", nil},
	{"troupe.inspect.cycles", "counter", "{cycle}", nil},
	{"troupe.nats.connection.state", "gauge", "{state}", nil},
	{"troupe.nats.rtt", "gauge", "s", nil},
	{"troupe.nats.reconnects", "counter", "{reconnect}", nil},
	{"troupe.nats.messages", "counter", "{message}", []string{"troupe.nats.direction"}},
	{"troupe.nats.traffic", "counter", "By", []string{"troupe.nats.direction"}},
	{"troupe.nats.errors", "counter", "{error}", []string{"troupe.nats.error"}},
	{"troupe.nats.server.routes", "gauge", "{server}", nil},
}

var httpLabels = []string{"http.request.method", "http.route", "http.response.status_class", "troupe.api.version"}

// spanAttributes are the server span's attributes (docs/observability.md#traces).
var spanAttributes = []string{
	"http.request.method", "http.route", "url.path", "url.scheme", "client.address",
	"user_agent.original", "http.response.status_code", "server.address",
	"troupe.api.version", "troupe.request.id",
}

// runtimeSeries are the Go runtime and process collectors' series the
// dashboard and alerts may use; go_gc_duration_seconds is a summary.
var runtimeSeries = []string{
	"go_goroutines", "go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes",
	"go_gc_duration_seconds", "go_gc_duration_seconds_sum", "go_gc_duration_seconds_count",
	"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
}

// scrapeLabels are added by Prometheus (job, instance), by histograms and
// summaries (le, quantile) and by the OTel exporter (otel_scope_*).
var scrapeLabels = []string{"job", "instance", "le", "quantile", "otel_scope_name", "otel_scope_version"}

// namingType maps an instrument kind to the type the OTel Prometheus
// exporter names it by: an updowncounter is a non-monotonic sum (no _total),
// a gauge with unit "1" gets _ratio.
var namingType = map[string]otlptranslator.MetricType{
	"counter":       otlptranslator.MetricTypeMonotonicCounter,
	"updowncounter": otlptranslator.MetricTypeNonMonotonicCounter,
	"histogram":     otlptranslator.MetricTypeHistogram,
	"gauge":         otlptranslator.MetricTypeGauge,
}

// promName is the name go.opentelemetry.io/otel/exporters/prometheus gives
// in on /metrics. It calls the translator that exporter uses, with the
// exporter's default strategy, so the expected names are the real ones.
func promName(t *testing.T, in instrument) string {
	t.Helper()
	typ, ok := namingType[in.kind]
	if !ok {
		t.Fatalf("%s: unknown kind %q", in.name, in.kind)
	}
	namer := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	name, err := namer.Build(otlptranslator.Metric{Name: in.name, Unit: in.unit, Type: typ})
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	return name
}

// promLabel is the Prometheus name of an attribute key.
func promLabel(t *testing.T, key string) string {
	t.Helper()
	namer := otlptranslator.LabelNamer{}
	name, err := namer.Build(key)
	if err != nil {
		t.Fatalf("label %s: %v", key, err)
	}
	return name
}

// knownNames is every series name and label name a query may use.
type knownNames struct {
	series map[string]bool
	labels map[string]bool
}

func known(t *testing.T) knownNames {
	t.Helper()
	k := knownNames{series: map[string]bool{}, labels: map[string]bool{}}
	for _, in := range catalogue {
		name := promName(t, in)
		if in.kind == "histogram" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				k.series[name+suffix] = true
			}
		} else {
			k.series[name] = true
		}
		for _, l := range in.labels {
			k.labels[promLabel(t, l)] = true
		}
	}
	for _, s := range runtimeSeries {
		k.series[s] = true
	}
	for _, l := range scrapeLabels {
		k.labels[l] = true
	}
	return k
}

// checkExpr fails t unless expr parses, selects at least one series, and
// uses only known series and label names. It returns what expr refers to.
func (k knownNames) checkExpr(t *testing.T, where, expr string) promRefs {
	t.Helper()
	refs, err := scanPromQL(expr)
	if err != nil {
		t.Errorf("%s: %v in %q", where, err, expr)
		return refs
	}
	if len(refs.selectors) == 0 {
		t.Errorf("%s: %q selects no series", where, expr)
	}
	for _, sel := range refs.selectors {
		if !k.series[sel.metric] {
			t.Errorf("%s: unknown metric %q (not in docs/observability.md#metrics)", where, sel.metric)
		}
		for _, l := range sel.matchers {
			if !k.labels[l] {
				t.Errorf("%s: %s has unknown label %q", where, sel.metric, l)
			}
		}
	}
	for _, l := range refs.groupLabels {
		if !k.labels[l] {
			t.Errorf("%s: groups by unknown label %q", where, l)
		}
	}
	return refs
}

// TestPromNames pins a few translations whose rules are easy to get wrong.
func TestPromNames(t *testing.T) {
	want := map[string]string{
		"http.server.request.duration":         "http_server_request_duration_seconds",
		"http.server.active_requests":          "http_server_active_requests",
		"http.server.response.body.size":       "http_server_response_body_size_bytes",
		"troupe.breaker.state":                 "troupe_breaker_state",
		"troupe.shedding.limit":                "troupe_shedding_limit",
		"troupe.client.retry_budget.exhausted": "troupe_client_retry_budget_exhausted_total",
		"troupe.actor.mailbox.depth":           "troupe_actor_mailbox_depth",
	}
	for _, in := range catalogue {
		if w, ok := want[in.name]; ok {
			if got := promName(t, in); got != w {
				t.Errorf("promName(%s) = %q; want %q", in.name, got, w)
			}
			delete(want, in.name)
		}
	}
	if len(want) > 0 {
		t.Errorf("not in the catalogue: %v", want)
	}
}

// TestDocsMetricsTable checks the one metrics table of
// docs/observability.md row by row against the catalogue.
func TestDocsMetricsTable(t *testing.T) {
	rows := docsMetricRows(t)
	if len(rows) != len(catalogue) {
		t.Errorf("docs table has %d rows; catalogue has %d", len(rows), len(catalogue))
	}
	for _, in := range catalogue {
		row, ok := rows[in.name]
		if !ok {
			t.Errorf("docs table lacks %s", in.name)
			continue
		}
		want := []string{promName(t, in), in.kind, in.unit, strings.Join(in.labels, ", ")}
		if !slices.Equal(row, want) {
			t.Errorf("docs row %s = %q; want %q", in.name, row, want)
		}
	}
}

// docsMetricRows maps each metric of the docs table to its Prometheus
// name, type, unit and labels, backticks removed.
func docsMetricRows(t *testing.T) map[string][]string {
	t.Helper()
	lines := strings.Split(readFile(t, "../docs/observability.md"), "\n")
	start := slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "| metric | Prometheus | type | unit | labels | meaning |")
	})
	if start < 0 {
		t.Fatal("docs/observability.md: no metrics table")
	}
	rows := map[string][]string{}
	for _, line := range lines[start+2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 6 {
			t.Fatalf("docs metrics row has %d cells: %s", len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.ReplaceAll(strings.TrimSpace(cells[i]), "`", "")
		}
		if cells[4] == "—" {
			cells[4] = ""
		}
		if _, dup := rows[cells[0]]; dup {
			t.Errorf("docs table lists %s twice", cells[0])
		}
		rows[cells[0]] = cells[1:5]
	}
	return rows
}

// TestTelemetryNames checks internal/telemetry/names.go, where the code
// declares Troupe's own instrument names: it must declare every documented
// troupe.* metric (http.server.* are semantic-convention names the HTTP
// middleware records), and every http.* or troupe.* name it declares must be
// a documented metric, label or span attribute.
func TestTelemetryNames(t *testing.T) {
	const path = "../internal/telemetry/names.go"
	if _, err := os.Stat(path); os.IsNotExist(err) {
		t.Skip(path + " does not exist yet")
	}
	declared := stringConsts(t, path)
	documented := map[string]bool{}
	for _, in := range catalogue {
		documented[in.name] = true
		for _, l := range in.labels {
			documented[l] = true
		}
		if strings.HasPrefix(in.name, "troupe.") && !slices.Contains(declared, in.name) {
			t.Errorf("%s declares no constant %q, documented in docs/observability.md#metrics", path, in.name)
		}
	}
	for _, a := range spanAttributes {
		documented[a] = true
	}
	ours := regexp.MustCompile(`^(http|troupe)\.[a-z0-9_.]+$`)
	for _, v := range declared {
		if ours.MatchString(v) && !documented[v] {
			t.Errorf("%s declares %q, which docs/observability.md does not document", path, v)
		}
	}
}

// stringConsts returns the values of the string constants declared in a Go file.
func stringConsts(t *testing.T, path string) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	ast.Inspect(file, func(n ast.Node) bool {
		decl, ok := n.(*ast.GenDecl)
		if !ok || decl.Tok != token.CONST {
			return true
		}
		for _, spec := range decl.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						values = append(values, s)
					}
				}
			}
		}
		return false
	})
	return values
}

// TestDocsLinks checks that every relative link in docs/observability.md
// names a file that exists.
func TestDocsLinks(t *testing.T) {
	checked := 0
	for _, m := range regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(readFile(t, "../docs/observability.md"), -1) {
		target, _, _ := strings.Cut(m[1], "#")
		if target == "" || strings.Contains(target, "://") {
			continue
		}
		checked++
		if _, err := os.Stat(filepath.Join("../docs", target)); err != nil {
			t.Errorf("docs/observability.md links to %s: %v", m[1], err)
		}
	}
	if checked == 0 {
		t.Fatal("docs/observability.md: no relative links found")
	}
}

// docAnchors returns the GitHub anchors of the headings of a Markdown file.
func docAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	anchors := map[string]bool{}
	for line := range strings.SplitSeq(readFile(t, path), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range heading {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
				b.WriteRune(r)
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
