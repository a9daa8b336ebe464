package resilience

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.uber.org/goleak"
)

// TestAdmission runs shedding and bulkheads in the one stage: the shedder
// counts every request in flight, the bulkhead only its group's.
func TestAdmission(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedAdmission(AdmissionConfig{
		Shedding: &SheddingConfig{InitialLimit: 2, MinLimit: 1, MaxLimit: 2},
		Bulkhead: BulkheadConfig{MaxConcurrent: 1, Group: byRoute},
	})
	a := inBackground(e, 1, "/a")
	<-entered
	refusal(t, serve(e, http.MethodGet, "/a"), bulkheadFullDetail) // two in flight: past the shedder, group a full
	b := inBackground(e, 1, "/b")
	<-entered
	refusal(t, serve(e, http.MethodGet, "/c"), shedDetail) // three in flight: shed before its group is asked
	close(gate)
	if a()[0] != http.StatusOK || b()[0] != http.StatusOK {
		t.Fatal("an admitted request failed")
	}
}

// TestAdmissionOff checks that with neither mechanism on the stage returns
// the next handler itself: a request pays nothing for it.
func TestAdmissionOff(t *testing.T) {
	next := func(echo.Context) error { return nil }
	got := Admission(AdmissionConfig{Bulkhead: DefaultBulkheadConfig})(next)
	if reflect.ValueOf(got).Pointer() != reflect.ValueOf(next).Pointer() {
		t.Error("Admission with nothing on wrapped the handler")
	}
}

// gatedAdmission serves /a, /b and /c behind Admission(cfg) with a handler
// that signals entered and then waits for gate to close.
func gatedAdmission(cfg AdmissionConfig) (e *echo.Echo, entered chan struct{}, gate chan struct{}) {
	entered, gate = make(chan struct{}, 16), make(chan struct{})
	e = newTestEcho(Admission(cfg))
	h := func(c echo.Context) error {
		entered <- struct{}{}
		<-gate
		return c.NoContent(http.StatusOK)
	}
	for _, path := range []string{"/a", "/b", "/c"} {
		e.GET(path, h)
	}
	return e, entered, gate
}

// refusal asserts a 503 problem whose detail is detail.
func refusal(t *testing.T, w *httptest.ResponseRecorder, detail string) {
	t.Helper()
	assertProblem(t, w, http.StatusServiceUnavailable)
	if !strings.Contains(w.Body.String(), detail) {
		t.Fatalf("body %s, want the detail %q", w.Body, detail)
	}
}
