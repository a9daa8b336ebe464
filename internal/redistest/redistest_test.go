package redistest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartKillRestart(t *testing.T) {
	srv := Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got := c.Get(ctx, "k").Val(); got != "v" {
		t.Fatalf("GET k = %q, want v", got)
	}
	if !strings.HasPrefix(srv.URL(), "redis://127.0.0.1:") || !strings.HasSuffix(srv.URL(), "/0") {
		t.Errorf("URL() = %q", srv.URL())
	}

	srv.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING succeeded after Kill")
	}
	srv.Kill() // a second Kill is harmless

	srv.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Errorf("key survived a restart (persistence should be off): EXISTS = %d", n)
	}
}

// TestFreezeThaw checks that a frozen server answers nothing until thawed,
// and that a server left frozen is still cleaned up.
func TestFreezeThaw(t *testing.T) {
	srv := Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	srv.Freeze()
	srv.Freeze() // a second Freeze is harmless
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("a frozen server answered PING")
	}
	srv.Thaw()
	srv.Thaw()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Thaw: %v", err)
	}

	left := Start(t)
	left.Freeze()
	done := left.done
	left.Kill() // what the cleanup does: it must not hang on a stopped process
	select {
	case <-done:
	default:
		t.Fatal("Kill returned before a frozen redis-server exited")
	}
}

func TestServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("two servers share %s", a.Addr())
	}
	ctx := context.Background()
	a.Client(t).Set(ctx, "only-a", "1", 0)
	if n := b.Client(t).Exists(ctx, "only-a").Val(); n != 0 {
		t.Errorf("key written to one server is visible on the other")
	}
}

// recordingTB records Skip and Fatal instead of stopping the goroutine.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Skip(args ...any)      { r.skipped = args[0].(string) }
func (r *recordingTB) Fatal(args ...any)     { r.failed = args[0].(string) }
func (r *recordingTB) Fatalf(string, ...any) { r.failed = "fatalf" }

func TestMissingBinary(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantSkip bool
	}{{"", true}, {"true", false}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("PATH", t.TempDir())
			rec := &recordingTB{TB: t}
			if srv := Start(rec); srv != nil {
				t.Fatal("Start returned a server without redis-server on PATH")
			}
			if tc.wantSkip && (rec.skipped == "" || rec.failed != "") {
				t.Errorf("CI unset: skipped=%q failed=%q, want a skip", rec.skipped, rec.failed)
			}
			if !tc.wantSkip && (rec.failed == "" || rec.skipped != "") {
				t.Errorf("CI set: skipped=%q failed=%q, want a failure", rec.skipped, rec.failed)
			}
			if msg := rec.skipped + rec.failed; !strings.Contains(msg, Binary) {
				t.Errorf("message %q does not name %s", msg, Binary)
			}
		})
	}
}
