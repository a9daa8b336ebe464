package middleware_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

func TestRecover(t *testing.T) {
	tests := []struct {
		name       string
		handler    echo.HandlerFunc
		wantStatus int
		wantBody   string // exact body when the response was committed before the panic
		wantPanic  string
	}{
		{
			name:       "panic with a string",
			handler:    func(echo.Context) error { panic("secret=hunter2") },
			wantStatus: http.StatusInternalServerError,
			wantPanic:  "secret=hunter2",
		},
		{
			name:       "panic with an error",
			handler:    func(echo.Context) error { panic(errors.New("nil map write")) },
			wantStatus: http.StatusInternalServerError,
			wantPanic:  "nil map write",
		},
		{
			name: "panic after the response was committed",
			handler: func(c echo.Context) error {
				_ = c.String(http.StatusAccepted, "half")
				panic("late")
			},
			wantStatus: http.StatusAccepted,
			wantBody:   "half",
			wantPanic:  "late",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, logger := newCoreLog()
			e := coreEcho(logger, middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}), middleware.RequestID())
			e.GET("/boom", tt.handler)
			w := serve(e, httptest.NewRequest(http.MethodGet, "/boom", nil))

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if tt.wantBody != "" {
				if w.Body.String() != tt.wantBody {
					t.Errorf("body = %q, want %q untouched", w.Body, tt.wantBody)
				}
			} else {
				p := readProblem(t, w)
				if p.Detail != "The server encountered an unexpected condition." || p.RequestID == "" {
					t.Errorf("problem = %+v", p)
				}
			}
			if strings.Contains(w.Body.String(), tt.wantPanic) || strings.Contains(w.Body.String(), "goroutine") {
				t.Errorf("body leaks the panic: %s", w.Body)
			}

			recs := logs.find(t, "panic recovered")
			if len(recs) != 1 {
				t.Fatalf("got %d panic records, want 1", len(recs))
			}
			rec := recs[0]
			stack, _ := rec["stack"].(string)
			if rec["level"] != "ERROR" || !strings.Contains(rec["panic"].(string), tt.wantPanic) ||
				rec["method"] != "GET" || rec["path"] != "/boom" ||
				rec["request_id"] != w.Header().Get(middleware.HeaderRequestID) ||
				!strings.Contains(stack, "recover_test.go") {
				t.Errorf("record = %v", rec)
			}
		})
	}
}

func TestRecoverRepanicsErrAbortHandler(t *testing.T) {
	_, logger := newCoreLog()
	e := coreEcho(logger, middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}))
	e.GET("/abort", func(echo.Context) error { panic(http.ErrAbortHandler) })

	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	serve(e, httptest.NewRequest(http.MethodGet, "/abort", nil))
	t.Error("ServeHTTP returned normally")
}

func TestRecoverSkipper(t *testing.T) {
	e := coreEcho(nil, middleware.RecoverWithConfig(middleware.RecoverConfig{
		Skipper: func(*http.Request) bool { return true },
	}))
	e.GET("/boom", func(echo.Context) error { panic("unguarded") })

	defer func() {
		if v := recover(); v != "unguarded" {
			t.Errorf("recovered %v, want the handler's panic", v)
		}
	}()
	serve(e, httptest.NewRequest(http.MethodGet, "/boom", nil))
}

func ExampleRecover() {
	e := echo.New()
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: slog.New(slog.DiscardHandler)}))
	e.GET("/", func(echo.Context) error { panic("secret state") })

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(w.Code, w.Body)
	// Output:
	// 500 {"type":"about:blank","title":"Internal Server Error","status":500,"detail":"The server encountered an unexpected condition.","instance":"/"}
}
