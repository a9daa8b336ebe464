package actors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Kinds of call the reply mux waits for, the metrics' operation label.
const (
	opRequest = "request"
	opControl = "control"
)

// replyMux waits for the replies of this node's remote requests and
// control calls: one wildcard subscription on an inbox of the node's own,
// with the token of each call as the last subject token, as nats.go's
// request mux does, but completing the caller's reply slot directly
// instead of a channel per call.
type replyMux struct {
	c       *cluster
	prefix  string // "<inbox>."
	sub     *nats.Subscription
	next    atomic.Uint64
	mu      sync.Mutex
	pending map[uint64]*pendingCall
}

// pendingCall is a call waiting for its reply.
type pendingCall struct {
	r     *request
	to    Ref
	op    string
	start time.Time
	timer *time.Timer
}

func (m *replyMux) start() error {
	m.prefix = m.c.nc.NewInbox() + "."
	m.pending = make(map[uint64]*pendingCall)
	sub, err := m.c.nc.Subscribe(m.prefix+"*", m.onReply)
	if err != nil {
		return fmt.Errorf("actors: cluster: subscribing to replies: %w", err)
	}
	m.sub = sub
	return nil
}

// add registers a call and returns its token and reply subject. The call
// is armed (its deadline timer started) once its envelope is out, so a
// failed publish never races the timer for the caller's slot.
func (m *replyMux) add(r *request, to Ref, op string) (uint64, string) {
	token := m.next.Add(1)
	m.mu.Lock()
	m.pending[token] = &pendingCall{r: r, to: to, op: op, start: time.Now()}
	m.mu.Unlock()
	return token, m.prefix + strconv.FormatUint(token, 10)
}

// arm starts the call's deadline timer, unless its reply came already.
// The timer fails the caller's slot with a *TimeoutError, which a caller
// whose context has no deadline needs, and removes the entry either way.
func (m *replyMux) arm(token uint64, deadline int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.pending[token]; ok {
		p.timer = time.AfterFunc(time.Until(time.Unix(0, deadline)), func() { m.expire(token) })
	}
}

// take removes a call; whoever takes it completes it, exactly once.
func (m *replyMux) take(token uint64) *pendingCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pending[token]
	if !ok {
		return nil
	}
	delete(m.pending, token)
	if p.timer != nil {
		p.timer.Stop()
	}
	return p
}

func (m *replyMux) expire(token uint64) {
	if p := m.take(token); p != nil {
		p.r.complete(nil, &TimeoutError{To: p.to})
		m.c.metrics.replied(p.op, "timeout", time.Since(p.start))
	}
}

// onReply completes the call a reply is for. A reply nobody waits for any
// more (its caller gave up) is dropped: the replier's node already judged
// it by the deadline.
func (m *replyMux) onReply(msg *nats.Msg) {
	token, err := strconv.ParseUint(msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:], 10, 64)
	if err != nil {
		return
	}
	p := m.take(token)
	if p == nil {
		return
	}
	v, err := m.c.decodeReply(msg, p.to)
	p.r.complete(v, err)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.c.metrics.replied(p.op, outcome, time.Since(p.start))
}

// failWhere completes every call whose target matches with err.
func (m *replyMux) failWhere(match func(Ref) bool, err error) {
	m.mu.Lock()
	var failed []*pendingCall
	for token, p := range m.pending {
		if match(p.to) {
			delete(m.pending, token)
			if p.timer != nil {
				p.timer.Stop()
			}
			failed = append(failed, p)
		}
	}
	m.mu.Unlock()
	for _, p := range failed {
		p.r.complete(nil, err)
	}
}

// close unsubscribes and fails every call still waiting: the System is
// shutting down.
func (m *replyMux) close() {
	if m.sub != nil {
		_ = m.sub.Unsubscribe()
	}
	m.failWhere(func(Ref) bool { return true }, ErrStopped)
}

// decodeReply turns a reply envelope into the reply value or error. A
// "no responders" status from the server means nobody subscribes to the
// target's subject: its node is gone (the actor with it), or the pool has
// no member.
func (c *cluster) decodeReply(msg *nats.Msg, to Ref) (any, error) {
	if len(msg.Data) == 0 && msg.Header.Get("Status") == "503" {
		if to.Node() == "" {
			return nil, &NotFoundError{Name: to.Name()}
		}
		if rr, ok := to.ep.(*remoteRef); ok && rr.entity {
			return nil, ErrNotOwner // the node is gone: not processed
		}
		return nil, ErrStopped
	}
	c.metrics.received(kindReply)
	var w wireMsg
	if err := decodeWire(msg.Data, &w); err != nil || w.kind != kindReply {
		c.sys.post.deadLetter(to, envelope{msg: msg.Data}, ReasonMalformed)
		return nil, fmt.Errorf("actors: reply from %s: %w", to, errors.Join(errWireMalformed, err))
	}
	var v any
	if w.typeName != "" {
		cd := wireTypes.forName([]byte(w.typeName))
		if cd == nil || cd.content != w.content {
			c.sys.post.deadLetter(to, envelope{msg: msg.Data}, ReasonUnknownType)
			return nil, &UnregisteredTypeError{Type: w.typeName}
		}
		var err error
		if v, err = cd.decode(w.payload); err != nil {
			c.sys.post.deadLetter(to, envelope{msg: msg.Data}, ReasonMalformed)
			return nil, fmt.Errorf("actors: reply from %s: %w: %w", to, errWireMalformed, err)
		}
	}
	if w.errCode != errNone {
		return nil, decodeError(&w, v, to)
	}
	return v, nil
}
