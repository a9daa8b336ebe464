package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRouteAndGroupLimitsParse(t *testing.T) {
	var r RouteLimit
	if err := r.UnmarshalText([]byte(" POST /api/v2/notes = 10 ")); err != nil || r != (RouteLimit{"POST", "/api/v2/notes", 10}) {
		t.Errorf("RouteLimit = %+v, %v", r, err)
	}
	if text, _ := r.MarshalText(); string(text) != "POST /api/v2/notes=10" || r.Key() != "POST /api/v2/notes" {
		t.Errorf("MarshalText = %q, Key = %q", text, r.Key())
	}
	for _, bad := range []string{"/api=10", "POST /api", "POST api=1", "POST /api=-1", "POST /api=x", "P T /a=1", "POST /a=0"} {
		if err := new(RouteLimit).UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("RouteLimit %q parsed", bad)
		}
	}
	var g GroupLimit
	if err := g.UnmarshalText([]byte("payments = 4")); err != nil || g != (GroupLimit{"payments", 4}) {
		t.Errorf("GroupLimit = %+v, %v", g, err)
	}
	for _, bad := range []string{"payments", "=3", "a=0", "a=b"} {
		if err := new(GroupLimit).UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("GroupLimit %q parsed", bad)
		}
	}
}

// TestSpecsDecodeOnceWhenTheConfigLoads pins that a spec is parsed by the
// loader, from a file or the environment, and a malformed one is a load
// error naming the key, the item and the source.
func TestSpecsDecodeOnceWhenTheConfigLoads(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	l := newLayout(t)
	l.write(file, "[rate_limit]\nroutes = [\"POST /api/v2/notes=10\", \"GET /api/v2/notes/:id = 600\"]\n")
	cfg := Default()
	ld := Loader{Service: "orders", File: file, Environ: []string{"ORDERS_RESILIENCE__BULKHEAD__GROUPS=payments=4, v1=2"}, ConfigHome: dir, ConfigDirs: []string{}, WorkDir: dir}
	eff, err := ld.Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []RouteLimit{{"POST", "/api/v2/notes", 10}, {"GET", "/api/v2/notes/:id", 600}}; !slices.Equal(cfg.RateLimit.Routes, want) {
		t.Errorf("routes = %+v", cfg.RateLimit.Routes)
	}
	if want := []GroupLimit{{"payments", 4}, {"v1", 2}}; !slices.Equal(cfg.Resilience.Bulkhead.Groups, want) {
		t.Errorf("groups = %+v", cfg.Resilience.Bulkhead.Groups)
	}
	var dump strings.Builder
	if _, err := eff.WriteTo(&dump); err != nil {
		t.Fatal(err)
	}
	mustContainAll(t, dump.String(), `rate_limit.routes = ["POST /api/v2/notes=10", "GET /api/v2/notes/:id=600"]`, `resilience.bulkhead.groups = ["payments=4", "v1=2"]`)

	cfg = Default()
	ld.Environ = []string{"ORDERS_RATE_LIMIT__GLOBAL=/search=0", "ORDERS_RESILIENCE__BULKHEAD__GROUPS=payments"}
	l.write(file, "[rate_limit]\nroutes = [\"POST /api/v2/notes=10\", 7]\n")
	_, err = ld.Load(&cfg)
	if err == nil {
		t.Fatal("bad specs loaded")
	}
	mustContainAll(t, err.Error(),
		`rate_limit.global (from env ORDERS_RATE_LIMIT__GLOBAL): item 1: "/search=0" is not "METHOD /route=requests-per-minute"`,
		`resilience.bulkhead.groups (from env ORDERS_RESILIENCE__BULKHEAD__GROUPS): item 1: "payments" is not "group=max-concurrent"`,
		`rate_limit.routes (from `+file+`): item 2: expected a string, got an integer`,
	)
}
