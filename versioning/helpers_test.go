package versioning_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// clock is a settable fake time source for MountOptions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// mount mounts api on a fresh Echo and fails the test on error.
func mount(t testing.TB, api *versioning.API, opts versioning.MountOptions) *echo.Echo {
	t.Helper()
	e := echo.New()
	if err := api.Mount(e, opts); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	return e
}

// do serves one request on h and returns the recorded response.
func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// text answers 200 with body s.
func text(s string) echo.HandlerFunc {
	return func(c echo.Context) error { return c.String(http.StatusOK, s) }
}

func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
