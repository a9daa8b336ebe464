package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// serve serves h with s in every request's context, as a service's server
// does through its base context.
func serve(t testing.TB, h http.Handler, s *System) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.BaseContext = func(net.Listener) context.Context { return NewContext(context.Background(), s) }
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// newRouteServer serves actors.Route(name) with s in the request context
// and an error handler that renders problems the way the service's does.
func newRouteServer(t *testing.T, s *System, name string) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var pe *problem.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &pe):
		case errors.As(err, &he):
			pe = problem.NewError(he.Code, fmt.Sprint(he.Message))
		case errors.Is(err, context.DeadlineExceeded):
			pe = problem.NewError(http.StatusServiceUnavailable, "timeout")
		default:
			pe = problem.NewError(http.StatusInternalServerError, "error")
		}
		pe.Render(c.Response(), c.Request())
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc { // a stand-in timeout stage
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), 50*time.Millisecond)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	e.POST("/things/:id", Route(name))
	return serve(t, e, s)
}

func TestRoute(t *testing.T) {
	s := newTestSystem(t)
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	_, err := s.Spawn("api", func() Actor {
		return fn(func(c *Context, msg any) {
			req, ok := msg.(*HTTPRequest)
			if !ok {
				return
			}
			switch req.Params["id"] {
			case "json":
				c.Respond(map[string]string{"route": req.Route, "body": string(req.Body), "q": req.Query.Get("q")})
			case "raw":
				c.Respond(&HTTPResponse{Status: http.StatusCreated, Header: http.Header{"X-Thing": {"1"}}, Body: []byte("made")})
			case "teapot":
				c.Respond(problem.NewError(http.StatusTeapot, "short and stout"))
			case "gone":
				c.Respond(echo.NewHTTPError(http.StatusNotFound, "no such thing"))
			case "err":
				c.Respond(errors.New("secret cause"))
			case "slow":
				<-gate
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := newRouteServer(t, s, "api")
	tests := []struct {
		id, wantType, wantBody string
		want                   int
	}{
		{"json?q=1", "application/json", `"route":"/things/:id"`, 200},
		{"raw", "", "made", 201},
		{"teapot", "application/problem+json", "short and stout", 418},
		{"gone", "application/problem+json", "no such thing", 404},
		{"err", "application/problem+json", failedDetail, 500},
		{"slow", "application/problem+json", "timeout", 503},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			res, err := http.Post(srv.URL+"/things/"+tt.id, "text/plain", strings.NewReader("hello"))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			body := string(raw)
			if res.StatusCode != tt.want || !strings.Contains(body, tt.wantBody) ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), tt.wantType) {
				t.Errorf("status %d %q %s, want %d %q containing %q", res.StatusCode,
					res.Header.Get("Content-Type"), body, tt.want, tt.wantType, tt.wantBody)
			}
			if strings.Contains(body, "secret") {
				t.Error("an error reply's cause leaked to the client")
			}
			if tt.id == "raw" && res.Header.Get("X-Thing") != "1" {
				t.Error("HTTPResponse header not sent")
			}
			if tt.id == "json?q=1" {
				var m map[string]string
				if err := json.Unmarshal([]byte(body), &m); err != nil || m["body"] != "hello" || m["q"] != "1" {
					t.Errorf("JSON reply = %v, %v", m, err)
				}
			}
		})
	}

	// An unknown actor and a full mailbox are both 503 + Retry-After.
	for _, name := range []string{"nobody", "full"} {
		if name == "full" {
			entered, gateFull := make(chan struct{}), make(chan struct{})
			blocker, err := s.Spawn("blocking", gated(entered, gateFull, make(chan int, 1)), WithMailboxSize(1), WithOverflow(Reject))
			if err != nil {
				t.Fatal(err)
			}
			_ = s.Send(blocker, "hold")
			wait(t, entered, "blocker")
			_ = s.Send(blocker, 1)
			defer close(gateFull)
			name = "blocking"
		}
		res, err := http.Post(newRouteServer(t, s, name).URL+"/things/x", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 503 || res.Header.Get("Retry-After") != "1" ||
			res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: status %d, Retry-After %q, type %q; want 503 problem with Retry-After 1",
				name, res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"))
		}
	}
}

func TestRouteFindsSystemInContextOrOption(t *testing.T) {
	s := newTestSystem(t)
	if _, err := s.Spawn("api", echoer); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]echo.HandlerFunc{
		"option":  Route("api", WithSystem(s)),
		"context": Route("api"),
	} {
		e := echo.New()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req = req.WithContext(NewContext(req.Context(), s))
		rec := httptest.NewRecorder()
		if err := h(e.NewContext(req, rec)); err != nil || rec.Code != 200 {
			t.Errorf("%s: %v, status %d", name, err, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	err := Route("api")(echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec))
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Status != 500 {
		t.Errorf("Route without a System = %v, want a 500 problem", err)
	}
}

// TestRouteCarriesPrincipal checks that the principal the authentication
// stage stored in the request's reqinfo reaches the actor.
func TestRouteCarriesPrincipal(t *testing.T) {
	s := newTestSystem(t)
	if _, err := s.Spawn("who", func() Actor {
		return fn(func(c *Context, msg any) {
			if req, ok := msg.(*HTTPRequest); ok {
				if req.Principal == nil {
					c.Respond("anonymous")
					return
				}
				c.Respond(req.Principal.Subject)
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc { // a stand-in request-ID + authentication stage
		return func(c echo.Context) error {
			info := &reqinfo.Info{}
			if c.Request().Header.Get("X-User") != "" {
				info.Principal = &principal.Principal{Subject: c.Request().Header.Get("X-User"), Kind: principal.User}
			}
			c.SetRequest(c.Request().WithContext(reqinfo.NewContext(c.Request().Context(), info)))
			return next(c)
		}
	})
	e.GET("/who", Route("who"))
	srv := serve(t, e, s)
	for user, want := range map[string]string{"ada": `"ada"`, "": `"anonymous"`} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/who", nil)
		req.Header.Set("X-User", user)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.TrimSpace(string(body)) != want {
			t.Errorf("user %q: actor saw %s, want %s", user, body, want)
		}
	}
}

// discard is a ResponseWriter that keeps nothing, so the route benchmark
// counts only the route's own costs.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkRoute serves one request through Route to an actor replying
// 204, with the System found in the request context, as in a service whose
// server's base context carries it.
func BenchmarkRoute(b *testing.B) {
	s := newTestSystem(b)
	if _, err := s.Spawn("api", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(*HTTPRequest); ok {
				c.Respond(nil)
			}
		})
	}); err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.GET("/things/:id", Route("api"))
	req := httptest.NewRequest(http.MethodGet, "/things/1", nil)
	req = req.WithContext(NewContext(req.Context(), s))
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		e.ServeHTTP(w, req)
	}
}

// TestRouteRequestErrors: a request that no actor processed — a full
// mailbox, a stopped or unknown actor, NATS down, or a sharded entity
// whose node refused it (ErrNotOwner, while the entity moves) — is a 503
// the client may retry, with Retry-After; any other failure a 500.
func TestRouteRequestErrors(t *testing.T) {
	for _, err := range []error{ErrMailboxFull, ErrStopped, ErrNotFound, ErrUnavailable, ErrNotOwner} {
		var pe *problem.Error
		if !errors.As(requestError(fmt.Errorf("wrapped: %w", err)), &pe) || pe.Status != http.StatusServiceUnavailable || pe.Header.Get("Retry-After") != "1" {
			t.Errorf("%v: %v, want 503 with Retry-After", err, requestError(err))
		}
	}
	var pe *problem.Error
	if !errors.As(requestError(errors.New("boom")), &pe) || pe.Status != http.StatusInternalServerError {
		t.Errorf("another error: %v, want 500", requestError(errors.New("boom")))
	}
	if err := requestError(context.DeadlineExceeded); err != context.DeadlineExceeded {
		t.Errorf("a deadline: %v, want it passed through", err)
	}
}
