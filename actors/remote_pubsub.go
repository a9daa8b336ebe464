package actors

import (
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go"
)

// topicSubs carries pub/sub across nodes. A node delivers a publication
// to its own subscribers directly and publishes it once on
// "troupe.<service>.topic.<subject>" with its node id as the sender; each
// node subscribes, once per distinct local pattern, to the same pattern
// under that prefix (the grammar is NATS's own, so "*" and ">" map 1:1),
// ignores its own publications, and hands each publication to the local
// actors of that pattern. NATS delivers a publication once per matching
// subscription, which is once per (pattern, actor) pair here, exactly as
// locally: each subscriber receives each publication once.
type topicSubs struct {
	c      *cluster
	mu     sync.Mutex
	m      map[string]*topicSub
	closed bool
}

// topicSub is one NATS subscription and the local actors of its pattern,
// a slice replaced (never changed) so a delivery reads it without copying.
type topicSub struct {
	sub  *nats.Subscription
	refs []Ref
}

// add subscribes ref to pattern across the cluster.
func (t *topicSubs) add(pattern string, ref Ref) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrStopped
	}
	ts := t.m[pattern]
	if ts == nil {
		sub, err := t.c.nc.Subscribe(t.c.prefix+"topic."+pattern, func(m *nats.Msg) { t.c.onPublication(pattern, m) })
		if err != nil {
			return fmt.Errorf("%w: subscribing to %q: %w", ErrUnavailable, pattern, err)
		}
		if t.m == nil {
			t.m = make(map[string]*topicSub)
		}
		ts = &topicSub{sub: sub}
		t.m[pattern] = ts
	}
	ts.refs = append(slices.Clip(ts.refs), ref)
	return nil
}

// remove ends ref's subscription to pattern; the last one unsubscribes.
func (t *topicSubs) remove(pattern string, ref Ref) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := t.m[pattern]
	if ts == nil {
		return
	}
	i := slices.Index(ts.refs, ref)
	if i < 0 {
		return
	}
	ts.refs = slices.Delete(slices.Clone(ts.refs), i, i+1)
	if len(ts.refs) == 0 {
		_ = ts.sub.Unsubscribe()
		delete(t.m, pattern)
	}
}

func (t *topicSubs) subscribers(pattern string) []Ref {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ts := t.m[pattern]; ts != nil {
		return ts.refs
	}
	return nil
}

// close unsubscribes everything; the actors stopped already.
func (t *topicSubs) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for _, ts := range t.m {
		_ = ts.sub.Unsubscribe()
	}
	t.m = nil
}

// encodePublication encodes msg for the other nodes, before any local
// delivery, so an unregistered type fails the whole Publish.
func (c *cluster) encodePublication(subject string, msg any) (*[]byte, error) {
	cd, err := wireTypes.forValue(msg)
	if err != nil {
		return nil, err
	}
	w := wireMsg{kind: kindPublish, from: wireAddr{node: c.node}, to: wireAddr{name: subject}, typeName: cd.name, content: cd.content}
	return c.encode(&w, cd, msg, c.maxPayload)
}

// publishEncoded sends an encoded publication to the other nodes.
func (c *cluster) publishEncoded(subject string, bp *[]byte) error {
	err := c.publish(c.prefix+"topic."+subject, "", *bp)
	putWireBuf(bp)
	if err == nil {
		c.metrics.sent(kindPublish)
	}
	return err
}

// onPublication delivers another node's publication to the local actors
// subscribed to pattern.
func (c *cluster) onPublication(pattern string, m *nats.Msg) {
	var w wireMsg
	if !c.admit(m) || !c.decodeEnvelope(m.Data, m.Reply, &w) {
		return
	}
	if w.kind != kindPublish {
		c.refuse(m.Reply, &w, Ref{}, m.Data, ReasonMalformed, errCodeRemote, "unexpected envelope kind")
		return
	}
	if w.from.node == c.node {
		return // delivered locally when it was published
	}
	cd := wireTypes.forName([]byte(w.typeName))
	if cd == nil || cd.content != w.content {
		c.refuse(m.Reply, &w, Ref{}, w.payload, ReasonUnknownType, errCodeUnregistered, w.typeName)
		return
	}
	msg, err := cd.decode(w.payload)
	if err != nil {
		c.refuse(m.Reply, &w, Ref{}, w.payload, ReasonMalformed, errCodeRemote, err.Error())
		return
	}
	for _, r := range c.topics.subscribers(pattern) {
		_ = r.ep.deliver(noWait, envelope{msg: msg})
	}
}
