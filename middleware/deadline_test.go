package middleware

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// newDeadlineCtx returns a context that only ends when the test says so: its
// deadline is an hour away and no timer drives it, so each test calls expire
// or release itself.
func newDeadlineCtx(parent context.Context) *deadlineCtx {
	c := new(deadlineCtx)
	c.begin(parent, time.Hour)
	return c
}

// pending counts the callbacks registered with c and not yet run or stopped.
func (c *deadlineCtx) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for a := c.waiting.next; a != &c.waiting; a = a.next {
		n++
	}
	return n
}

// fakeParent is a cancellable parent that implements AfterFunc itself, so a
// test can count the registrations made with it.
type fakeParent struct {
	done chan struct{}

	mu      sync.Mutex
	err     error
	waiting map[*func()]bool
}

func newFakeParent() *fakeParent {
	return &fakeParent{done: make(chan struct{}), waiting: make(map[*func()]bool)}
}

func (p *fakeParent) Deadline() (time.Time, bool) { return time.Time{}, false }
func (p *fakeParent) Done() <-chan struct{}       { return p.done }
func (p *fakeParent) Value(any) any               { return nil }

func (p *fakeParent) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *fakeParent) AfterFunc(f func()) func() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := &f
	p.waiting[key] = true
	return func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		stopped := p.waiting[key]
		delete(p.waiting, key)
		return stopped
	}
}

func (p *fakeParent) cancel() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = context.Canceled
	close(p.done)
	for f := range p.waiting {
		go (*f)()
	}
	clear(p.waiting)
}

func (p *fakeParent) registrations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiting)
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// goroutineID returns the calling goroutine's number, from its stack header.
func goroutineID() string {
	buf := make([]byte, 64)
	return string(bytes.Fields(buf[:runtime.Stack(buf, false)])[1])
}

func TestDeadlineCtxDeadline(t *testing.T) {
	early := time.Now().Add(time.Minute)
	late := time.Now().Add(2 * time.Hour)
	earlyCtx, cancelEarly := context.WithDeadline(context.Background(), early)
	defer cancelEarly()
	lateCtx, cancelLate := context.WithDeadline(context.Background(), late)
	defer cancelLate()

	for _, tt := range []struct {
		name   string
		parent context.Context
		want   time.Time // zero: an hour after begin
	}{
		{"no parent deadline", context.Background(), time.Time{}},
		{"earlier parent deadline wins", earlyCtx, early},
		{"later parent deadline", lateCtx, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c deadlineCtx
			before := time.Now()
			wait := c.begin(tt.parent, time.Hour)
			after := time.Now()
			got, ok := c.Deadline()
			if !ok {
				t.Fatal("Deadline reports no deadline")
			}
			if !tt.want.IsZero() {
				if !got.Equal(tt.want) {
					t.Errorf("deadline %v, want the parent's %v", got, tt.want)
				}
			} else if got.Before(before.Add(time.Hour)) || got.After(after.Add(time.Hour)) {
				t.Errorf("deadline %v, want an hour after begin (%v)", got, before)
			}
			if wait < got.Sub(after) || wait > got.Sub(before) {
				t.Errorf("begin returned wait %v for deadline %v, begun at %v", wait, got, before)
			}
		})
	}
}

func TestDeadlineCtxEnds(t *testing.T) {
	tests := []struct {
		name      string
		doneFirst bool // Done is asked for, and the parent registered with, before the end
		end       func(c *deadlineCtx, cancelParent context.CancelFunc)
		want      error
	}{
		{"expire", false, func(c *deadlineCtx, _ context.CancelFunc) { c.expire() }, context.DeadlineExceeded},
		{"expire, Done waited on", true, func(c *deadlineCtx, _ context.CancelFunc) { c.expire() }, context.DeadlineExceeded},
		{"release", false, func(c *deadlineCtx, _ context.CancelFunc) { c.release() }, context.Canceled},
		{"release, Done waited on", true, func(c *deadlineCtx, _ context.CancelFunc) { c.release() }, context.Canceled},
		{"parent cancelled, noticed by Err", false, func(_ *deadlineCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"parent cancelled, noticed by the registration", true, func(_ *deadlineCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"parent cancelled, then expire", false, func(c *deadlineCtx, cancel context.CancelFunc) {
			cancel()
			c.expire()
		}, context.Canceled},
		{"expire, then parent cancelled", true, func(c *deadlineCtx, cancel context.CancelFunc) {
			c.expire()
			cancel()
		}, context.DeadlineExceeded},
		{"expire, then release", false, func(c *deadlineCtx, _ context.CancelFunc) {
			c.expire()
			c.release()
		}, context.DeadlineExceeded},
		{"release, then expire", false, func(c *deadlineCtx, _ context.CancelFunc) {
			c.release()
			c.expire()
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newDeadlineCtx(parent)
			var done <-chan struct{}
			if tt.doneFirst {
				done = c.Done()
				if isClosed(done) {
					t.Fatal("Done closed before the end")
				}
			}
			if err := c.Err(); err != nil {
				t.Fatalf("Err before the end = %v", err)
			}
			tt.end(c, cancel)
			if done == nil {
				// Nothing is registered: the end is seen at once.
				_ = c.Err()
				if done = c.Done(); !isClosed(done) {
					t.Fatal("Done open after the end")
				}
			}
			<-done // the registration may report a cancelled parent a moment later
			for range 2 {
				if err := c.Err(); err != tt.want {
					t.Errorf("Err = %v, want %v", err, tt.want)
				}
			}
			if c.Done() != done {
				t.Error("Done returned a different channel after the end")
			}
		})
	}
}

func TestDeadlineCtxDoneAfterParentCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	parent, cancel := context.WithCancel(context.Background())
	c := newDeadlineCtx(parent)
	cancel()
	// Nothing registered before the parent ended; the first Done finds out.
	if done := c.Done(); !isClosed(done) {
		t.Fatal("Done of a context whose parent has ended is open")
	}
	if err := c.Err(); err != context.Canceled {
		t.Errorf("Err = %v, want context.Canceled", err)
	}
}

func TestDeadlineCtxRegistersWithParentLazily(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	parent := newFakeParent()
	c := newDeadlineCtx(parent)
	_, _ = c.Deadline()
	_ = c.Value("key")
	if c.Err() != nil || parent.registrations() != 0 {
		t.Fatalf("registrations before Done = %d, want 0", parent.registrations())
	}
	done := c.Done()
	_ = c.Done()
	if n := parent.registrations(); n != 1 {
		t.Fatalf("registrations after Done = %d, want 1", n)
	}
	c.release()
	if n := parent.registrations(); n != 0 {
		t.Errorf("registrations after release = %d, want 0", n)
	}
	if !isClosed(done) {
		t.Error("Done open after release")
	}

	// A registration made by AfterFunc hears of the parent's end.
	parent = newFakeParent()
	c = newDeadlineCtx(parent)
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	if n := parent.registrations(); n != 1 {
		t.Fatalf("registrations after AfterFunc = %d, want 1", n)
	}
	parent.cancel()
	<-ran
	if err := c.Err(); err != context.Canceled {
		t.Errorf("Err = %v, want context.Canceled", err)
	}
}

func TestDeadlineCtxParentNeverEnds(t *testing.T) {
	c := newDeadlineCtx(context.Background())
	_ = c.Done()
	if c.unhook != nil {
		t.Error("registered with a parent that cannot end")
	}
	c.expire()
	if !isClosed(c.Done()) || c.Err() != context.DeadlineExceeded {
		t.Errorf("after expire: Err %v", c.Err())
	}
}

type testCtxKey string

func TestDeadlineCtxValue(t *testing.T) {
	parent := context.WithValue(context.Background(), testCtxKey("user"), "ada")
	c := newDeadlineCtx(parent)
	if got := c.Value(testCtxKey("user")); got != "ada" {
		t.Errorf("Value(user) = %v, want the parent's", got)
	}
	if got := c.Value(testCtxKey("other")); got != nil {
		t.Errorf("Value(other) = %v, want nil", got)
	}
	child := context.WithValue(c, testCtxKey("other"), 7)
	if child.Value(testCtxKey("user")) != "ada" || child.Value(testCtxKey("other")) != 7 {
		t.Error("values do not pass through to derived contexts")
	}
}

func TestDeadlineCtxCause(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	clientGone := errors.New("client went away")
	for _, tt := range []struct {
		name      string
		end       func(c *deadlineCtx, cancel context.CancelCauseFunc)
		wantErr   error
		wantCause error
	}{
		{"live", func(*deadlineCtx, context.CancelCauseFunc) {}, nil, nil},
		{"expire", func(c *deadlineCtx, _ context.CancelCauseFunc) { c.expire() }, context.DeadlineExceeded, context.DeadlineExceeded},
		{"release", func(c *deadlineCtx, _ context.CancelCauseFunc) { c.release() }, context.Canceled, context.Canceled},
		{"parent cancelled with a cause", func(_ *deadlineCtx, cancel context.CancelCauseFunc) { cancel(clientGone) }, context.Canceled, clientGone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			c := newDeadlineCtx(parent)
			child, cancelChild := context.WithCancel(c)
			defer cancelChild()
			tt.end(c, cancel)
			if err, cause := c.Err(), context.Cause(c); err != tt.wantErr || cause != tt.wantCause {
				t.Errorf("Err, Cause = %v, %v; want %v, %v", err, cause, tt.wantErr, tt.wantCause)
			}
			if tt.wantErr == nil {
				return
			}
			<-child.Done()
			if err, cause := child.Err(), context.Cause(child); err != tt.wantErr || cause != tt.wantCause {
				t.Errorf("derived Err, Cause = %v, %v; want %v, %v", err, cause, tt.wantErr, tt.wantCause)
			}
		})
	}
}

func TestDeadlineCtxDerivedContexts(t *testing.T) {
	// registers: the derived context registers with c's AfterFunc. One
	// derived through a value context cannot: the standard library looks
	// for the method on the immediate parent only, and falls back to a
	// goroutine, as it does for any context type of its own.
	derive := map[string]struct {
		derive    func(context.Context) (context.Context, context.CancelFunc)
		registers bool
	}{
		"WithCancel": {context.WithCancel, true},
		"WithTimeout": {func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 2*time.Hour)
		}, true},
		"WithDeadline sooner": {func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithDeadline(ctx, time.Now().Add(30*time.Minute))
		}, true},
		"WithValue then WithCancel": {func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithCancel(context.WithValue(ctx, testCtxKey("k"), "v"))
		}, false},
	}
	ends := map[string]struct {
		end  func(c *deadlineCtx, cancelParent context.CancelFunc)
		want error
	}{
		"expire":           {func(c *deadlineCtx, _ context.CancelFunc) { c.expire() }, context.DeadlineExceeded},
		"release":          {func(c *deadlineCtx, _ context.CancelFunc) { c.release() }, context.Canceled},
		"parent cancelled": {func(_ *deadlineCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
	}
	for dname, d := range derive {
		for ename, e := range ends {
			t.Run(dname+"/"+ename, func(t *testing.T) {
				defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
				parent, cancel := context.WithCancel(context.Background())
				defer cancel()
				c := newDeadlineCtx(parent)
				detached, cancelDetached := context.WithCancel(context.WithoutCancel(c))
				defer cancelDetached()
				child, cancelChild := d.derive(c)
				defer cancelChild()
				if d.registers && c.pending() != 1 {
					t.Fatalf("derived context registered %d callbacks, want 1", c.pending())
				}
				e.end(c, cancel)
				<-child.Done()
				if err := child.Err(); err != e.want {
					t.Errorf("derived Err = %v, want %v", err, e.want)
				}
				if err := detached.Err(); err != nil {
					t.Errorf("context detached by WithoutCancel ended: %v", err)
				}
			})
		}
	}
}

// TestDeadlineCtxDerivedContextsStartNoGoroutine pins the point of the
// AfterFunc method: without it, each context.WithCancel of a custom context
// starts a goroutine that waits for the parent.
func TestDeadlineCtxDerivedContextsStartNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const n = 200
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newDeadlineCtx(parent)
	before := runtime.NumGoroutine()
	cancels := make([]context.CancelFunc, 0, 2*n)
	for range n {
		_, cancelChild := context.WithCancel(c)
		cancels = append(cancels, cancelChild)
		_, cancelChild = context.WithTimeout(c, time.Minute)
		cancels = append(cancels, cancelChild)
	}
	if got := c.pending(); got != 2*n {
		t.Errorf("derived contexts registered %d callbacks, want %d", got, 2*n)
	}
	// Other tests' goroutines may still be winding down; a goroutine per
	// derived context would add 400.
	if grown := runtime.NumGoroutine() - before; grown >= n/2 {
		t.Errorf("%d goroutines started for %d derived contexts", grown, 2*n)
	}
	for _, cancelChild := range cancels {
		cancelChild()
	}
	if got := c.pending(); got != 0 {
		t.Errorf("%d callbacks still registered after every derived context was cancelled", got)
	}
}

func TestDeadlineCtxAfterFunc(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := newDeadlineCtx(context.Background())
	var runs atomic.Int32
	ran := make(chan string, 4)
	stopped := c.AfterFunc(func() { runs.Add(100) })
	stop := c.AfterFunc(func() {
		runs.Add(1)
		ran <- goroutineID()
	})
	if c.pending() != 2 {
		t.Fatalf("pending = %d, want 2", c.pending())
	}
	if !stopped() {
		t.Error("stop before the end = false, want true")
	}
	if stopped() {
		t.Error("second stop = true, want false")
	}
	if c.pending() != 1 {
		t.Fatalf("pending after stop = %d, want 1", c.pending())
	}

	c.expire()
	if id := <-ran; id == goroutineID() {
		t.Error("callback ran on the goroutine that ended the context")
	}
	c.release()
	c.expire()
	if stop() {
		t.Error("stop after the callback started = true, want false")
	}
	if c.pending() != 0 {
		t.Errorf("pending after the end = %d, want 0", c.pending())
	}

	// Registered after the end: runs at once, in its own goroutine.
	late := c.AfterFunc(func() { ran <- goroutineID() })
	if id := <-ran; id == goroutineID() {
		t.Error("late callback ran on the registering goroutine")
	}
	if late() {
		t.Error("stop of a late callback = true, want false")
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("callbacks ran %d times (hundreds: the stopped one), want 1", got)
	}
}

func TestDeadlineCtxContextAfterFunc(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := newDeadlineCtx(context.Background())
	if stop := context.AfterFunc(c, func() { t.Error("stopped callback ran") }); !stop() {
		t.Error("stop before the end = false")
	}
	ran := make(chan struct{})
	stop := context.AfterFunc(c, func() { close(ran) })
	c.expire()
	<-ran
	if stop() {
		t.Error("stop after the callback ran = true")
	}
	if c.pending() != 0 {
		t.Errorf("pending = %d, want 0", c.pending())
	}
}

func TestDeadlineCtxNested(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	outer := newDeadlineCtx(context.Background())
	inner := newDeadlineCtx(outer)
	done := inner.Done()
	if outer.pending() != 1 {
		t.Fatalf("inner registered %d callbacks with outer, want 1", outer.pending())
	}
	outer.expire()
	<-done
	if err := inner.Err(); err != context.DeadlineExceeded {
		t.Errorf("inner Err = %v, want context.DeadlineExceeded", err)
	}
}

// TestDeadlineCtxConcurrent exercises every method from several goroutines
// while the context ends from two sides; run it with -race.
func TestDeadlineCtxConcurrent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for range 20 {
		parent, cancel := context.WithCancel(context.Background())
		c := newDeadlineCtx(parent)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 6 {
			wg.Go(func() {
				<-start
				for range 20 {
					switch i % 3 {
					case 0:
						_ = c.Done()
						_ = c.Err()
					case 1:
						child, cancelChild := context.WithCancel(c)
						_ = child.Err()
						cancelChild()
					case 2:
						stop := context.AfterFunc(c, func() {})
						stop()
					}
				}
			})
		}
		wg.Go(func() { <-start; c.expire() })
		wg.Go(func() { <-start; cancel() })
		close(start)
		wg.Wait()
		<-c.Done()
		err := c.Err()
		if err != context.DeadlineExceeded && err != context.Canceled {
			t.Fatalf("Err = %v", err)
		}
		c.release()
		if c.Err() != err {
			t.Fatalf("Err changed from %v to %v", err, c.Err())
		}
	}
}

// BenchmarkDeadlineCtxDone prices the first Done call on a request's
// deadline context: its channel and its registration with the parent, here a
// context.WithCancel per request as net/http gives each request. A waiter
// that can do without the channel (actors' Request within its first
// millisecond) saves the difference.
func BenchmarkDeadlineCtxDone(b *testing.B) {
	for _, asked := range []bool{false, true} {
		name := "unasked"
		if asked {
			name = "asked"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parent, cancel := context.WithCancel(context.Background())
				c := newDeadlineCtx(parent)
				if asked {
					_ = c.Done()
				}
				c.release()
				cancel()
			}
		})
	}
}
