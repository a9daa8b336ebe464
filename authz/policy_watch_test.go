package authz

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/syncbuf"
)

// eventually polls cond until it holds, failing the test after a generous
// deadline. It waits for an outcome; it does not time anything.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestWatch(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.cedar": `@id("one") permit (principal, action, resource);`})
	s, err := LoadPolicies(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	write := func(content string) { // atomically, so each change is seen whole
		t.Helper()
		tmp := filepath.Join(dir, ".a.cedar.tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "a.cedar")); err != nil {
			t.Fatal(err)
		}
	}

	write(`@id("two") permit (principal, action, resource);`)
	eventually(t, "the new policy", func() bool { return s.Generation() == 2 })
	eventually(t, "the reload log", func() bool { return strings.Contains(logs.String(), "policies reloaded") })

	write("@id(\"two\") permit (principal, action, resource);\n\n  oops")
	eventually(t, "the failure", func() bool { return s.LastError() != nil })
	var pe *PolicyError
	if !errors.As(s.LastError(), &pe) || pe.Line != 3 {
		t.Fatalf("LastError = %v, want a PolicyError on line 3", s.LastError())
	}
	eventually(t, "the failure log", func() bool {
		return strings.Contains(logs.String(), "level=ERROR") && strings.Contains(logs.String(), "a.cedar:3:")
	})
	if s.Generation() != 2 {
		t.Fatalf("a failed reload changed the generation to %d", s.Generation())
	}

	write(`@id("three") permit (principal, action, resource);`)
	eventually(t, "the fix", func() bool { return s.Generation() == 3 && s.LastError() == nil })

	cancel()
	<-done
	if n := strings.Count(logs.String(), "reload failed"); n != 1 {
		t.Errorf("the failure was logged %d times, want once:\n%s", n, logs.String())
	}
}
