package deploy

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// ruleFile is Prometheus's rule file format, alerting rules only.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// runbookBase is where runbook_url annotations point: a page of
// docs/runbooks in the repository.
const runbookBase = "https://github.com/troupehq/troupe/blob/main/docs/runbooks/"

// annotationFuncs are the Prometheus template functions the annotations may
// use; parsing with only these catches a typo before Prometheus does.
var annotationFuncs = template.FuncMap{
	"humanize": fmtAny, "humanizePercentage": fmtAny, "humanizeDuration": fmtAny,
}

func fmtAny(any) string { return "" }

// decodeStrict decodes YAML into v, rejecting keys v does not declare.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(readFile(t, path))))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestAlertRules(t *testing.T) {
	var rules ruleFile
	decodeStrict(t, "prometheus/alerts.yml", &rules)
	k := known(t)
	alerts := map[string]string{} // name → expr with whitespace collapsed
	fors := map[string]string{}
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule has no alert name", g.Name)
				continue
			}
			if _, dup := alerts[r.Alert]; dup {
				t.Errorf("alert %s is defined twice", r.Alert)
			}
			alerts[r.Alert] = strings.Join(strings.Fields(r.Expr), " ")
			fors[r.Alert] = r.For
			k.checkExpr(t, "alert "+r.Alert, r.Expr)
			if d, err := time.ParseDuration(r.For); err != nil || d <= 0 {
				t.Errorf("alert %s: for %q is not a positive duration", r.Alert, r.For)
			}
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("alert %s: severity %q; want critical, warning or info", r.Alert, r.Labels["severity"])
			}
			for _, a := range []string{"summary", "description"} {
				text := r.Annotations[a]
				if text == "" {
					t.Errorf("alert %s: no %s annotation", r.Alert, a)
				}
				prelude := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}"
				if _, err := template.New(a).Funcs(annotationFuncs).Parse(prelude + text); err != nil {
					t.Errorf("alert %s: %s: %v", r.Alert, a, err)
				}
			}
			checkRunbook(t, r.Alert, r.Annotations["runbook_url"])
		}
	}

	// The alerts operators were promised, with their thresholds and durations.
	for _, want := range []struct{ alert, exprPart, threshold, forDur string }{
		{"TroupeHighErrorRate", `http_server_request_duration_seconds_count{http_response_status_class="5xx"}`, "> 0.05", "5m"},
		{"TroupeHighLatencyP99", "histogram_quantile(0.99, sum by (job, http_route, le) (rate(http_server_request_duration_seconds_bucket", "> 1", "10m"},
		{"TroupeCircuitBreakerOpen", "troupe_breaker_state", "== 2", "1m"},
		{"TroupeRateLimitRejections", `troupe_ratelimit_decisions_total{troupe_decision="rejected"}`, "> 0.10", "10m"},
		{"TroupeActorDeadLetters", "troupe_actor_dead_letters_total", ">", "5m"},
		{"TroupeActorRestarting", "troupe_actor_restarts_total", "> 0.1", "10m"},
		{"TroupeActorMailboxBacklog", "troupe_actor_mailbox_depth", "> 100", "10m"},
		{"TroupeActorRequestCycle", "troupe_inspect_cycles_total", "> 0", "1m"},
		{"TroupeComponentDenials", "troupe_component_denials_total", "> 0", "5m"},
		{"TroupeComponentReloadFailed", `troupe_component_reloads_total{troupe_component_result="failed"}`, "> 0", "1m"},
		{"TroupeMemoryGrowing", "process_resident_memory_bytes", "> 1.5", "1h"},
		{"TroupeRealtimeConnectionsNearLimit", "troupe_realtime_connections_limit", "> 0.9", "5m"},
		{"TroupeRealtimeSlowConsumerDrops", "troupe_realtime_slow_consumer_drops_total", "> 1", "10m"},
	} {
		expr, ok := alerts[want.alert]
		switch {
		case !ok:
			t.Errorf("no alert %s", want.alert)
		case !strings.Contains(expr, want.exprPart) || !strings.Contains(expr, want.threshold):
			t.Errorf("alert %s: expr %q; want it to use %s %s", want.alert, expr, want.exprPart, want.threshold)
		case fors[want.alert] != want.forDur:
			t.Errorf("alert %s: for %s; want %s", want.alert, fors[want.alert], want.forDur)
		}
	}
}

// checkRunbook fails unless url is a page of docs/runbooks that exists,
// is listed in the runbooks' index and names the alert.
func checkRunbook(t *testing.T, alert, url string) {
	t.Helper()
	page, ok := strings.CutPrefix(url, runbookBase)
	if !ok || page == "" || strings.ContainsAny(page, "/#") || !strings.HasSuffix(page, ".md") {
		t.Errorf("alert %s: runbook_url %q is not a page of docs/runbooks", alert, url)
		return
	}
	text, err := os.ReadFile(filepath.Join("..", "docs", "runbooks", page))
	if err != nil {
		t.Errorf("alert %s: runbook_url %q: %v", alert, url, err)
		return
	}
	if !strings.Contains(string(text), "`"+alert+"`") {
		t.Errorf("alert %s: its runbook %s does not name it", alert, page)
	}
	if !strings.Contains(readFile(t, "../docs/runbooks/README.md"), "("+page+")") {
		t.Errorf("alert %s: docs/runbooks/README.md does not link %s", alert, page)
	}
}

// scrapeFile is the part of a Prometheus configuration the tests check.
type scrapeFile struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestScrapeConfigs(t *testing.T) {
	for _, path := range []string{"prometheus/scrape.yml", "collector/prometheus.yml"} {
		var cfg scrapeFile
		if err := yaml.Unmarshal([]byte(readFile(t, path)), &cfg); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(cfg.ScrapeConfigs) == 0 {
			t.Errorf("%s: no scrape_configs", path)
		}
		for _, sc := range cfg.ScrapeConfigs {
			if sc.JobName == "" {
				t.Errorf("%s: a scrape config has no job_name", path)
			}
			if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
				t.Errorf("%s: job %s scrapes %s; Troupe serves /metrics", path, sc.JobName, sc.MetricsPath)
			}
			for _, st := range sc.StaticConfigs {
				for _, target := range st.Targets {
					if u, err := url.Parse("//" + target); err != nil || u.Port() == "" {
						t.Errorf("%s: job %s: target %q is not host:port", path, sc.JobName, target)
					}
				}
			}
		}
		if !slices.ContainsFunc(cfg.RuleFiles, func(f string) bool { return filepath.Base(f) == "alerts.yml" }) {
			t.Errorf("%s: rule_files %v does not load alerts.yml", path, cfg.RuleFiles)
		}
	}
}

// collectorConfig is the part of an OpenTelemetry Collector configuration
// that wires components into pipelines.
type collectorConfig struct {
	Receivers  map[string]any `yaml:"receivers"`
	Processors map[string]any `yaml:"processors"`
	Exporters  map[string]any `yaml:"exporters"`
	Extensions map[string]any `yaml:"extensions"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

func TestCollectorConfig(t *testing.T) {
	var cfg collectorConfig
	decodeStrict(t, "collector/otel-collector.yaml", &cfg)
	for _, sig := range []string{"traces", "metrics"} {
		p, ok := cfg.Service.Pipelines[sig]
		if !ok {
			t.Errorf("no %s pipeline", sig)
			continue
		}
		if !slices.Contains(p.Receivers, "otlp") || len(p.Exporters) == 0 {
			t.Errorf("%s pipeline: receivers %v, exporters %v; want otlp in and an exporter out", sig, p.Receivers, p.Exporters)
		}
		for kind, names := range map[string][]string{"receiver": p.Receivers, "processor": p.Processors, "exporter": p.Exporters} {
			defined := map[string]map[string]any{"receiver": cfg.Receivers, "processor": cfg.Processors, "exporter": cfg.Exporters}[kind]
			for _, n := range names {
				if _, ok := defined[n]; !ok {
					t.Errorf("%s pipeline uses undefined %s %q", sig, kind, n)
				}
			}
		}
	}
	for _, n := range cfg.Service.Extensions {
		if _, ok := cfg.Extensions[n]; !ok {
			t.Errorf("service uses undefined extension %q", n)
		}
	}
	protocols, _ := cfg.Receivers["otlp"].(map[string]any)["protocols"].(map[string]any)
	for proto, port := range map[string]string{"grpc": ":4317", "http": ":4318"} {
		p, _ := protocols[proto].(map[string]any)
		if ep, _ := p["endpoint"].(string); !strings.HasSuffix(ep, port) {
			t.Errorf("otlp %s receiver endpoint %q; want the standard port %s", proto, ep, port)
		}
	}
}

// TestComposeMounts checks that every file docker-compose.yaml mounts from
// the repository exists, and that the Grafana provisioning files parse.
func TestComposeMounts(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Image   string   `yaml:"image"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "collector/docker-compose.yaml")), &compose); err != nil {
		t.Fatal(err)
	}
	mounts := 0
	for name, svc := range compose.Services {
		if !strings.Contains(svc.Image, ":") || strings.HasSuffix(svc.Image, ":latest") {
			t.Errorf("service %s: image %q is not pinned to a version", name, svc.Image)
		}
		for _, v := range svc.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") {
				continue
			}
			mounts++
			if _, err := os.Stat(filepath.Join("collector", src)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
		}
	}
	if mounts == 0 {
		t.Error("docker-compose.yaml mounts no repository file")
	}
	files, err := filepath.Glob("grafana/provisioning/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Grafana provisioning files (%v)", err)
	}
	for _, f := range files {
		var v struct {
			APIVersion int `yaml:"apiVersion"`
		}
		if err := yaml.Unmarshal([]byte(readFile(t, f)), &v); err != nil || v.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, %v; want a version 1 provisioning file", f, v.APIVersion, err)
		}
	}
}
