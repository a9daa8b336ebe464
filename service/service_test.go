package service

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/versioning"
)

func TestNewReportsEveryConfigProblemTogether(t *testing.T) {
	l := testLoader(t, map[string]string{
		"HTTP__ADRESS":          ":80",  // unknown key
		"HTTP__REQUEST_TIMEOUT": "soon", // malformed duration
		"HTTP__BODY_LIMIT":      "12XB", // malformed size
		"CORS__ALLOW_ORIGINS":   "https://ok.example",
	})
	_, err := New("test", WithConfigLoader(l), WithLogOutput(&syncBuffer{}))
	if err == nil {
		t.Fatal("New accepted an invalid config")
	}
	mustContain(t, err.Error(), "http.adress", "TEST_HTTP__ADRESS", "http.request_timeout", "TEST_HTTP__REQUEST_TIMEOUT", "http.body_limit", "TEST_HTTP__BODY_LIMIT")
}

func TestNewRejectsInvalidCORSOriginNamingTheKey(t *testing.T) {
	l := testLoader(t, map[string]string{"CORS__ALLOW_ORIGINS": "https://ok.example,not a url"})
	_, err := New("test", WithConfigLoader(l), WithLogOutput(&syncBuffer{}))
	if err == nil {
		t.Fatal("New accepted an invalid CORS origin")
	}
	mustContain(t, err.Error(), "cors.allow_origins", "not a url")
}

func TestNewRejectsWildcardOriginWithCredentials(t *testing.T) {
	l := testLoader(t, map[string]string{"CORS__ALLOW_ORIGINS": "*", "CORS__ALLOW_CREDENTIALS": "true"})
	_, err := New("test", WithConfigLoader(l), WithLogOutput(&syncBuffer{}))
	if err == nil {
		t.Fatal("New accepted * with credentials")
	}
	mustContain(t, err.Error(), "cors.allow_origins")
}

func TestNewReportsAPIAndConfigProblemsTogether(t *testing.T) {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/x", okHandler) }).
		Deprecate(3, versioning.Sunset(time.Now())) // unknown version
	l := testLoader(t, map[string]string{"LOG__LEVEL": "loud"})
	_, err := New("test", WithConfigLoader(l), WithAPI(api), WithLogOutput(&syncBuffer{}))
	if err == nil {
		t.Fatal("New accepted a broken API and config")
	}
	mustContain(t, err.Error(), "log.level", "3")
}

func TestNewRejectsBadNamesAndChecks(t *testing.T) {
	if _, err := New("Bad Name"); err == nil {
		t.Error("New accepted an invalid service name")
	}
	l := testLoader(t, nil)
	_, err := New("test", WithConfigLoader(l), WithLogOutput(&syncBuffer{}),
		WithReadinessCheck("db", nil),
		WithLivenessCheck("", func(context.Context) error { return nil }),
		WithSubsystem(nil))
	if err == nil {
		t.Fatal("New accepted nil checks and subsystems")
	}
	mustContain(t, err.Error(), `readiness check "db": nil function`, "liveness check: empty name", "subsystem 0: nil")
}

func okHandler(c echo.Context) error { return c.String(http.StatusOK, "ok") }

func TestRunServesAPIAndProbesOnBothListeners(t *testing.T) {
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/hello", okHandler) })
	r := start(t, nil, WithAPI(api), WithVersion("1.2.3"),
		WithReadinessCheck("db", func(context.Context) error { return nil }))

	resp, body := get(t, r.base()+"/api/v1/hello")
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("GET hello = %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("response has no X-Request-ID")
	}

	for _, path := range []string{"/readyz", "/healthz", "/livez"} {
		resp, body = get(t, r.base()+path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != healthContentType {
			t.Fatalf("main %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if got := strings.TrimSpace(string(body)); got != `{"status":"pass"}` {
			t.Errorf("main %s leaks details: %s", path, got)
		}
	}
	resp, body = get(t, r.adminBase()+"/readyz")
	rep := decode[report](t, body)
	if resp.StatusCode != http.StatusOK || rep.Status != StatusPass || rep.Version != "1.2.3" || rep.Checks["db"][0].Status != StatusPass {
		t.Fatalf("admin /readyz = %d %s", resp.StatusCode, body)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run returned %v after a clean shutdown", err)
	}
	mustContain(t, r.logs.String(), "shutdown complete", `"phase":"http_drain"`, `"phase":"readiness_fail"`)
}

func TestProbesReportFailureAndWarn(t *testing.T) {
	r := start(t, nil,
		WithReadinessCheck("cache", func(context.Context) error { return errors.New("cache at 10.0.0.7 unreachable") }, Optional()),
		WithReadinessCheck("db", func(context.Context) error { return nil }))
	resp, body := get(t, r.base()+"/readyz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"warn"`) {
		t.Fatalf("optional failure: main /readyz = %d %s, want 200 warn", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "10.0.0.7") {
		t.Error("main listener leaked a check's error text")
	}
	_, body = get(t, r.adminBase()+"/readyz")
	mustContain(t, string(body), "10.0.0.7")

	r2 := start(t, nil, WithLivenessCheck("loop", func(context.Context) error { return errors.New("stuck") }))
	resp, body = get(t, r2.base()+"/livez")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"fail"`) {
		t.Fatalf("failing liveness = %d %s, want 503 fail", resp.StatusCode, body)
	}
}

func TestProbeChecksRunConcurrentlyUnderOneDeadlineAndAreCached(t *testing.T) {
	var calls atomic.Int32
	var inside sync.WaitGroup
	inside.Add(2)
	both := make(chan struct{})
	go func() { inside.Wait(); close(both) }()
	// Each check waits until the other has started: only concurrent
	// evaluation lets them finish.
	meet := func(context.Context) error {
		calls.Add(1)
		inside.Done()
		select {
		case <-both:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("checks ran one after another")
		}
	}
	hang := func(ctx context.Context) error { <-make(chan struct{}); return nil } // ignores ctx
	r := start(t, map[string]string{"HEALTH__CACHE_TTL": "1h", "HEALTH__TIMEOUT": "300ms"},
		WithReadinessCheck("a", meet), WithReadinessCheck("b", meet), WithLivenessCheck("hang", hang))

	for range 5 {
		resp, body := get(t, r.adminBase()+"/readyz")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/readyz = %d %s", resp.StatusCode, body)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("checks ran %d times for 5 probes within the cache TTL, want 2", n)
	}
	resp, body := get(t, r.adminBase()+"/livez")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("check ignoring its deadline: /livez = %d %s, want 503", resp.StatusCode, body)
	}
	mustContain(t, string(body), "did not finish")
}

func TestReadinessFailsAtOnceWhenShutdownBegins(t *testing.T) {
	r := start(t, map[string]string{"HTTP__DRAIN_DELAY": "1s"})
	resp, _ := get(t, r.adminBase()+"/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ready service: /readyz = %d", resp.StatusCode)
	}
	r.cancel()
	deadline := time.Now().Add(900 * time.Millisecond)
	for {
		resp, body := get(t, r.base()+"/readyz") // the main listener still accepts during the drain delay
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness still %d %s during drain", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	<-r.done
	if r.err != nil {
		t.Fatalf("Run = %v", r.err)
	}
	mustContain(t, r.logs.String(), `"phase":"drain_delay"`)
}

func TestReadinessIsFailBeforeStart(t *testing.T) {
	svc, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before Run = %d, want 503", rec.Code)
	}
}

type recordingSubsystem struct {
	name     string
	events   *[]string
	mu       *sync.Mutex
	startErr error
}

func (s recordingSubsystem) Name() string { return s.name }
func (s recordingSubsystem) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.events = append(*s.events, "start "+s.name)
	return s.startErr
}
func (s recordingSubsystem) Stop(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.events = append(*s.events, "stop "+s.name)
	return nil
}

func TestSubsystemsStartInOrderAndStopInReverse(t *testing.T) {
	var events []string
	var mu sync.Mutex
	sub := func(name string) Subsystem { return recordingSubsystem{name: name, events: &events, mu: &mu} }
	r := start(t, nil, WithSubsystem(sub("store")), WithSubsystem(sub("actors")), WithSubsystem(sub("worker")))
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	want := "start store,start actors,start worker,stop worker,stop actors,stop store"
	if got := strings.Join(events, ","); got != want {
		t.Fatalf("lifecycle = %s, want %s", got, want)
	}

	events = nil
	failing := recordingSubsystem{name: "broken", events: &events, mu: &mu, startErr: errors.New("no disk")}
	svc, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}),
		WithSubsystem(sub("store")), WithSubsystem(failing), WithSubsystem(sub("never")))
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "starting broken: no disk") {
		t.Fatalf("Run = %v, want the start error", err)
	}
	if got := strings.Join(events, ","); got != "start store,start broken,stop store" {
		t.Fatalf("lifecycle after failed start = %s", got)
	}
}

func TestRunTwiceIsAnError(t *testing.T) {
	r := start(t, nil)
	if err := r.svc.Run(context.Background()); err == nil {
		t.Fatal("second Run succeeded")
	}
}

type reportingSubsystem struct{ recordingSubsystem }

func (reportingSubsystem) HealthChecks() []HealthCheck {
	return []HealthCheck{
		{Name: "pool", Check: func(context.Context) error { return errors.New("pool exhausted") }, Liveness: true},
		{Name: "replica", Check: func(context.Context) error { return errors.New("replica lagging") }, Optional: true},
	}
}

func TestSubsystemsContributeHealthChecks(t *testing.T) {
	var events []string
	var mu sync.Mutex
	sub := reportingSubsystem{recordingSubsystem{name: "store", events: &events, mu: &mu}}
	r := start(t, nil, WithSubsystem(sub))

	resp, body := get(t, r.adminBase()+"/livez")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"store:pool"`) {
		t.Fatalf("/livez = %d %s, want 503 naming store:pool", resp.StatusCode, body)
	}
	resp, body = get(t, r.adminBase()+"/readyz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"store:replica":[{"status":"warn"`) {
		t.Fatalf("/readyz = %d %s, want 200 with store:replica warn", resp.StatusCode, body)
	}
}

func TestPanickingCheckFailsInsteadOfCrashing(t *testing.T) {
	r := start(t, nil, WithReadinessCheck("boom", func(context.Context) error { panic("nil map") }))
	resp, body := get(t, r.adminBase()+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d %s, want 503", resp.StatusCode, body)
	}
	mustContain(t, string(body), "check panicked: nil map")
}

// TestWithConfigDefaults checks that an application's defaults apply and
// that every config source still overrides them.
func TestWithConfigDefaults(t *testing.T) {
	small := WithConfigDefaults(func(c *config.Config) { c.HTTP.BodyLimit = config.KiB })
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.POST("/echo", func(c echo.Context) error {
			_, err := io.Copy(io.Discard, c.Request().Body)
			if err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
	})
	for env, want := range map[string]int{"": http.StatusRequestEntityTooLarge, "4KiB": http.StatusNoContent} {
		vars := map[string]string{}
		if env != "" {
			vars["HTTP__BODY_LIMIT"] = env
		}
		r := start(t, vars, WithAPI(api), small)
		resp, err := http.Post(r.base()+"/api/v1/echo", "text/plain", strings.NewReader(strings.Repeat("x", 2048)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("body limit from env %q: status %d, want %d", env, resp.StatusCode, want)
		}
		source := r.svc.EffectiveConfig().Source("http.body_limit")
		if (env == "") != (source == "default") {
			t.Errorf("source of http.body_limit = %q with env %q", source, env)
		}
	}
}

func TestWithSetup(t *testing.T) {
	var got *Service
	r := start(t, nil, WithSetup(func(s *Service) error { got = s; return nil }))
	if got != r.svc || got.Actors() == nil {
		t.Errorf("setup saw %p, want the built service %p with its actor system", got, r.svc)
	}
	_, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}),
		WithSetup(func(*Service) error { return errors.New("no database") }))
	if err == nil || !strings.Contains(err.Error(), "setup: no database") {
		t.Errorf("New with a failing setup = %v", err)
	}
}
