package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestErrorLimiterBoundsLogRate(t *testing.T) {
	var buf bytes.Buffer
	l := newErrorLimiter(slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	boom := errors.New("connection refused")

	for range 5 {
		l.report("traces", boom) // first logged, four suppressed
	}
	l.report("metrics", boom) // another kind has its own budget
	now = now.Add(errorLogEvery - time.Millisecond)
	l.report("traces", boom) // still inside the window
	now = now.Add(time.Millisecond)
	l.report("traces", boom) // window over: logged with the count

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d log lines, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{
		"signal=traces error=\"connection refused\" suppressed=0",
		"signal=metrics error=\"connection refused\" suppressed=0",
		"signal=traces error=\"connection refused\" suppressed=5",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines[i], want)
		}
	}
}

func TestErrorLimiterNilLogger(t *testing.T) {
	l := newErrorLimiter(nil)
	l.report("traces", errors.New("x")) // must not panic
	if len(l.kinds) != 0 {
		t.Errorf("a limiter without logger tracked %d kinds", len(l.kinds))
	}
}
