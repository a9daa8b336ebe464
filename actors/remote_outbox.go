package actors

import (
	"encoding/binary"
	"sync"
)

// batchOverhead is what framing adds to an envelope in a batch: the
// batch header and the largest length prefix an envelope can need.
const batchOverhead = 2 + binary.MaxVarintLen32

// outbox coalesces the sends to one subject (a node, or a pool) into
// batches: a Send appends its envelope and returns, and a flush
// goroutine, started like a mailbox's drain goroutine (once per busy
// period), publishes whatever queued up meanwhile as one NATS message.
// Under load many sends share one publish, one server routing and one
// receipt, which is what lets remote throughput keep up with raw nats.go
// publishing; an idle outbox costs one goroutine hand-off per send.
//
// Requests and control calls are not queued: they publish directly, after
// whatever is queued (pub serialises the two), so the messages of one
// sender reach an actor in the order they were sent, whatever their kind.
type outbox struct {
	c       *cluster
	subject string
	pub     sync.Mutex // held while publishing; guards spare
	spare   []byte     // the last published batch, reused
	mu      sync.Mutex // guards the fields below; a Send holds it to append
	buf     []byte     // batchHeader, then framed envelopes
	n       int        // envelopes in buf
	busy    bool       // a flush goroutine runs (or is about to)
}

// outboxFor returns the outbox of subject, making it on first use. There
// is one per node and pool, never removed.
func (c *cluster) outboxFor(subject string) *outbox {
	c.outboxMu.Lock()
	defer c.outboxMu.Unlock()
	o := c.outboxes[subject]
	if o == nil {
		if c.outboxes == nil {
			c.outboxes = make(map[string]*outbox)
		}
		o = &outbox{c: c, subject: subject, buf: append([]byte(nil), batchHeader...)}
		c.outboxes[subject] = o
	}
	return o
}

// enqueue queues an encoded envelope and makes sure a flush follows.
func (o *outbox) enqueue(env []byte) {
	o.mu.Lock()
	o.buf = appendFrame(o.buf, env)
	o.n++
	if o.busy {
		o.mu.Unlock()
		return
	}
	o.busy = true
	o.mu.Unlock()
	if !o.c.background(o.flush) {
		o.flush() // the cluster is leaving: no goroutine may start
	}
}

// flush publishes batches until nothing is queued.
func (o *outbox) flush() {
	for {
		o.pub.Lock()
		batch, n := o.take()
		if n == 0 {
			o.mu.Lock()
			idle := o.n == 0
			o.busy = !idle
			o.mu.Unlock()
			o.pub.Unlock()
			if idle {
				return
			}
			continue
		}
		o.publishBatch(batch, n)
		o.pub.Unlock()
	}
}

// take swaps the queued batch for an empty buffer; called with pub held.
func (o *outbox) take() (batch []byte, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == 0 {
		return nil, 0
	}
	batch, n = o.buf, o.n
	o.buf, o.n = append(o.spare[:0], batchHeader...), 0
	o.spare = batch
	return batch, n
}

// direct publishes a request or control envelope after what is queued.
func (o *outbox) direct(reply string, env []byte) error {
	o.pub.Lock()
	defer o.pub.Unlock()
	if batch, n := o.take(); n > 0 {
		o.publishBatch(batch, n)
	}
	return o.c.publish(o.subject, reply, env)
}

// publishBatch publishes n framed envelopes: a lone one as itself, more
// as batches within the max payload. What cannot be published is a dead
// letter here: the sends returned already.
func (o *outbox) publishBatch(batch []byte, n int) {
	c := o.c
	if n == 1 {
		_ = batchFrames(batch, func(env []byte) { o.publishOrLose(env, 1) })
		return
	}
	if len(batch) <= c.maxPayload {
		o.publishOrLose(batch, n)
		return
	}
	chunk := append(make([]byte, 0, c.maxPayload), batchHeader...)
	k := 0
	_ = batchFrames(batch, func(env []byte) {
		if len(chunk)+binary.MaxVarintLen32+len(env) > c.maxPayload && k > 0 {
			o.publishOrLose(chunk, k)
			chunk, k = append(chunk[:0], batchHeader...), 0
		}
		chunk = appendFrame(chunk, env)
		k++
	})
	o.publishOrLose(chunk, k)
}

func (o *outbox) publishOrLose(data []byte, n int) {
	err := o.c.publish(o.subject, "", data)
	if err != nil {
		for range n {
			o.c.sys.post.deadLetter(Ref{}, envelope{}, lossReason(err))
		}
		return
	}
	o.c.metrics.sentN(kindSend, n)
}
