package reqinfo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/troupehq/troupe/internal/reqinfo"
)

type otherKey struct{}

func TestContext(t *testing.T) {
	parent := context.WithValue(context.Background(), otherKey{}, "parent value")
	c := &reqinfo.Context{Context: parent, Info: reqinfo.Info{ID: "req-7"}}
	derived, cancel := context.WithCancel(context.WithValue(c, otherKey{}, "shadow"))
	defer cancel()

	for name, ctx := range map[string]context.Context{"itself": c, "derived": derived} {
		if got := reqinfo.FromContext(ctx); got != &c.Info {
			t.Errorf("%s: FromContext = %p, want the Info inside the Context (%p)", name, got, &c.Info)
		}
		if got := reqinfo.RequestID(ctx); got != "req-7" {
			t.Errorf("%s: RequestID = %q", name, got)
		}
	}
	if got := c.Value(otherKey{}); got != "parent value" {
		t.Errorf("other keys: Value = %v, want the parent's", got)
	}
	// A later layer's write is visible through every context that carries it.
	reqinfo.FromContext(derived).APIVersion = "v2"
	if c.Info.APIVersion != "v2" {
		t.Errorf("APIVersion = %q after a write through a derived context", c.Info.APIVersion)
	}
}

func TestNewContext(t *testing.T) {
	info := &reqinfo.Info{ID: "req-1"}
	ctx := reqinfo.NewContext(context.Background(), info)
	if reqinfo.FromContext(ctx) != info || reqinfo.RequestID(ctx) != "req-1" {
		t.Errorf("FromContext = %v", reqinfo.FromContext(ctx))
	}
	// The innermost Info wins.
	inner := &reqinfo.Context{Context: ctx, Info: reqinfo.Info{ID: "req-2"}}
	if reqinfo.RequestID(inner) != "req-2" {
		t.Errorf("RequestID = %q, want the innermost", reqinfo.RequestID(inner))
	}
}

func TestFromContextWithoutInfo(t *testing.T) {
	if info := reqinfo.FromContext(context.Background()); info != nil {
		t.Errorf("FromContext = %v, want nil", info)
	}
	if id := reqinfo.RequestID(context.Background()); id != "" {
		t.Errorf("RequestID = %q, want empty", id)
	}
}

func ExampleContext() {
	// A middleware allocates the Context as part of a record of its own.
	type record struct {
		ctx    reqinfo.Context
		header [1]string
	}
	rec := &record{header: [1]string{"req-42"}}
	rec.ctx.Context = context.Background()
	rec.ctx.Info.ID = rec.header[0]

	fmt.Println(reqinfo.RequestID(&rec.ctx))
	// Output: req-42
}
