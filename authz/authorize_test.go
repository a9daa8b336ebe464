package authz_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/labstack/echo/v4"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/internal/syncbuf"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/problem"
)

// noteOwners is the EntityProvider of the test service: note 1 is alice's.
var noteOwners = authz.EntityProviderFunc(func(_ context.Context, uid cedar.EntityUID) (cedar.Entity, bool, error) {
	if uid != cedar.NewEntityUID("Note", "1") {
		return cedar.Entity{}, false, nil
	}
	return cedar.Entity{Attributes: cedar.NewRecord(cedar.RecordMap{
		"owner": cedar.NewEntityUID(authz.UserEntityType, "alice"),
	})}, true, nil
})

// rules are the test service's route rules.
var rules = map[string]authz.RouteRule{
	"GET /api/v2/notes":               {Public: true},
	"DELETE /api/v2/notes/:id":        {ResourceType: "Note", ResourceParam: "id"},
	"DELETE /api/v2/misconfigured/:x": {ResourceType: "Note", ResourceParam: "id"},
	"POST /api/v2/notes/:id/share":    {Action: "POST /api/v2/notes"}, // a named action the policies permit
}

func rule(method, route string) authz.RouteRule { return rules[method+" "+route] }

// stubAuthenticate stands in for the JWT stage: X-User names the principal,
// X-Roles its roles and X-Suspended marks it suspended.
func stubAuthenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if sub := r.Header.Get("X-User"); sub != "" {
			p := &authz.Principal{Subject: sub, Kind: authz.KindUser, Claims: map[string]any{"sub": sub}}
			if roles := r.Header.Get("X-Roles"); roles != "" {
				p.Roles = strings.Split(roles, ",")
			}
			if r.Header.Get("X-Suspended") != "" {
				p.Claims["suspended"] = true
			}
			c.SetRequest(r.WithContext(authz.NewContext(r.Context(), p)))
		}
		return next(c)
	}
}

func TestAuthorizeMiddleware(t *testing.T) {
	store, err := authz.LoadPolicies("testdata/cedar/notes")
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	var logs syncbuf.Buffer
	// As the service does: the handler adds the request ID from the context.
	logger := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&logs, nil), nil))

	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(logger)
	e.Use(middleware.RequestID(), stubAuthenticate, authz.Authorize(authz.AuthorizeConfig{
		Authorizer: authz.NewAuthorizer(authz.AuthorizerConfig{
			Policies: store, Entities: noteOwners, Logger: logger, MeterProvider: mp,
		}),
		Rule:   rule,
		Logger: logger,
	}))
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	e.GET("/api/v2/notes", ok)
	e.GET("/api/v2/notes/:id", ok)
	e.DELETE("/api/v2/notes/:id", ok)
	e.DELETE("/api/v2/misconfigured/:x", ok)
	e.POST("/api/v2/notes/:id/share", ok)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	tests := []struct {
		name, method, path string
		header             map[string]string
		want               int
		loggedPolicy       string // a policy ID the denial log must name
	}{
		{name: "public route needs no principal", method: "GET", path: "/api/v2/notes", want: 200},
		{name: "protected route without principal", method: "GET", path: "/api/v2/notes/1", want: 403},
		{name: "any user reads", method: "GET", path: "/api/v2/notes/1", header: map[string]string{"X-User": "bob"}, want: 200},
		{name: "owner deletes", method: "DELETE", path: "/api/v2/notes/1", header: map[string]string{"X-User": "alice"}, want: 200},
		{name: "non-owner may not", method: "DELETE", path: "/api/v2/notes/1", header: map[string]string{"X-User": "bob"}, want: 403},
		{name: "admin may", method: "DELETE", path: "/api/v2/notes/1", header: map[string]string{"X-User": "bob", "X-Roles": "admin"}, want: 200},
		{
			name: "forbid wins and is logged", method: "DELETE", path: "/api/v2/notes/1",
			header: map[string]string{"X-User": "alice", "X-Suspended": "1"}, want: 403, loggedPolicy: "suspended",
		},
		{name: "named action", method: "POST", path: "/api/v2/notes/1/share", header: map[string]string{"X-User": "bob"}, want: 200},
		{name: "rule naming a missing param denies", method: "DELETE", path: "/api/v2/misconfigured/1", header: map[string]string{"X-User": "alice", "X-Roles": "admin"}, want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want != http.StatusForbidden {
				return
			}
			var body problem.Details
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			id := res.Header.Get(echo.HeaderXRequestID)
			if res.Header.Get("Content-Type") != problem.ContentType || body.Status != 403 || body.RequestID != id || id == "" {
				t.Errorf("response %s %+v", res.Header.Get("Content-Type"), body)
			}
			if body.Detail != "You are not allowed to perform this action." {
				t.Errorf("detail %q must be the fixed sentence: no policy IDs, no reasons", body.Detail)
			}
			line := logLine(t, logs.String(), id, "authz: request denied")
			if tt.loggedPolicy != "" && !strings.Contains(line, `"`+tt.loggedPolicy+`"`) {
				t.Errorf("denial log does not name policy %q: %s", tt.loggedPolicy, line)
			}
		})
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var decisions int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == telemetry.MetricAuthzDecisions {
				for _, p := range sum.DataPoints {
					decisions += p.Value
				}
			}
		}
	}
	if decisions != int64(len(tests)-1) { // every request but the public one
		t.Errorf("%d decisions recorded, want %d", decisions, len(tests)-1)
	}
}

// logLine returns the JSON log line with msg that carries request ID id.
func logLine(t *testing.T, logs, id, msg string) string {
	t.Helper()
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, `"msg":"`+msg+`"`) && strings.Contains(line, id) {
			return line
		}
	}
	t.Fatalf("no %q log line with request ID %s in:\n%s", msg, id, logs)
	return ""
}
