package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDescribeMatchesTheLoader holds Describe to what a load of the
// defaults reports: the same keys, and each default rendered as the dump
// renders it, so a tool built on Describe cannot disagree with the loader.
func TestDescribeMatchesTheLoader(t *testing.T) {
	cfg := Default()
	keys, err := Describe(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := newLayout(t)
	loaded := Default()
	eff, err := Loader{Service: "orders", Environ: []string{}, ConfigHome: l.home, ConfigDirs: []string{}, WorkDir: l.work}.Load(&loaded)
	if err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	if _, err := eff.WriteTo(&dump); err != nil {
		t.Fatal(err)
	}
	var leaves []string
	for _, k := range keys {
		if k.FileOf != "" {
			continue
		}
		leaves = append(leaves, k.Name)
		if !strings.Contains(dump.String(), k.Name+" = "+k.Default+" ") {
			t.Errorf("%s: Describe's default %s is not what the dump prints", k.Name, k.Default)
		}
	}
	if !reflect.DeepEqual(leaves, eff.Keys()) {
		t.Errorf("Describe lists %d keys, the loader %d:\n%v\n%v", len(leaves), len(eff.Keys()), leaves, eff.Keys())
	}
}

func TestDescribeKeyDetails(t *testing.T) {
	cfg := Default()
	cfg.Redis.URL = "redis://:pw@host:6379/0" // a default secret is never shown
	keys, err := Describe(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Key{}
	for _, k := range keys {
		byName[k.Name] = k
	}
	for name, want := range map[string]Key{
		"http.address":               {Name: "http.address", Type: reflect.TypeFor[string](), Default: `":8080"`},
		"http.body_limit":            {Name: "http.body_limit", Type: sizeType, Default: `"4MiB"`},
		"http.shutdown_timeout":      {Name: "http.shutdown_timeout", Type: durationType, Default: `"30s"`},
		"redis.url":                  {Name: "redis.url", Type: reflect.TypeFor[string](), Default: `"[redacted]"`, Secret: true},
		"redis.url_file":             {Name: "redis.url_file", Type: reflect.TypeFor[string](), Default: `""`, FileOf: "redis.url"},
		"telemetry.metrics.interval": {Name: "telemetry.metrics.interval", Type: durationType, Default: `"1m"`, Alias: "OTEL_METRIC_EXPORT_INTERVAL", AliasMillis: true},
		"compression.algorithms":     {Name: "compression.algorithms", Type: reflect.TypeFor[[]string](), Default: `["zstd", "br", "gzip", "deflate"]`},
	} {
		if got := byName[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	if got := byName["http.body_limit"].EnvVar("my-svc"); got != "MY_SVC_HTTP__BODY_LIMIT" {
		t.Errorf("EnvVar = %s", got)
	}
}

func TestDescribeSections(t *testing.T) {
	cfg := defaultTestConfig()
	app := appSettings{SeedNotes: 3, Refresh: time.Minute}
	keys, err := Describe(&cfg, Section{Name: "app", Into: &app})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		if strings.HasPrefix(k.Name, "app.") {
			names = append(names, k.Name+"="+k.Default)
		}
	}
	want := []string{`app.api_key="(unset)"`, `app.api_key_file=""`, "app.features.beta=false", `app.partner_url=""`, `app.refresh="1m"`, "app.seed_notes=3"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("app keys = %v, want %v", names, want)
	}
}

func TestDescribeRejectsWhatTheLoaderRejects(t *testing.T) {
	for name, dst := range map[string]any{
		"nil":           nil,
		"not a pointer": Default(),
		"untagged":      &struct{ Port int }{},
		"unsupported": &struct {
			M map[string]int `koanf:"m"`
		}{},
	} {
		if _, err := Describe(dst); err == nil {
			t.Errorf("%s: Describe succeeded", name)
		}
	}
}
