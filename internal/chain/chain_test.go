package chain_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/chain"
)

// record returns middleware that appends name to trace on the way in.
func record(name string, trace *[]string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			*trace = append(*trace, name)
			return next(c)
		}
	}
}

// run serves one request through h and returns the order things ran in.
func run(t *testing.T, h echo.HandlerFunc, trace *[]string) string {
	t.Helper()
	e := echo.New()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if err := h(c); err != nil {
		t.Fatal(err)
	}
	return strings.Join(*trace, " ")
}

func TestWrapOrdersFirstOutermostAndSkipsNil(t *testing.T) {
	var trace []string
	h := func(echo.Context) error { trace = append(trace, "handler"); return nil }
	wrapped := chain.Wrap(h, record("a", &trace), nil, record("b", &trace), record("c", &trace), nil)
	if got := run(t, wrapped, &trace); got != "a b c handler" {
		t.Fatalf("ran %q, want a b c handler", got)
	}
}

func TestWrapWithoutMiddlewareIsTheHandler(t *testing.T) {
	var trace []string
	h := func(echo.Context) error { trace = append(trace, "handler"); return nil }
	if got := run(t, chain.Wrap(h), &trace); got != "handler" {
		t.Fatalf("ran %q, want handler", got)
	}
}

func TestCompose(t *testing.T) {
	if chain.Compose() != nil || chain.Compose(nil, nil) != nil {
		t.Fatal("Compose of nothing is not nil: an empty slot would cost a layer")
	}
	var trace []string
	h := func(echo.Context) error { trace = append(trace, "handler"); return nil }
	one := record("only", &trace)
	if got := run(t, chain.Compose(nil, one)(h), &trace); got != "only handler" {
		t.Fatalf("ran %q, want only handler", got)
	}
	trace = nil
	m := chain.Compose(record("a", &trace), nil, record("b", &trace))
	if got := run(t, m(h), &trace); got != "a b handler" {
		t.Fatalf("ran %q, want a b handler", got)
	}
}
