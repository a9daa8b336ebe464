package actors

import "sync/atomic"

// sink takes the messages that did not reach Receive. Mailboxes, replies
// and the drain loop report to it rather than to the System, so the path of
// a message runs one way; a transport carrying messages to other nodes
// reports what it cannot deliver through the same two calls.
type sink interface {
	// dropped reports a message lost to policy (and makes it a dead letter).
	dropped(to Ref, env envelope, policy OverflowPolicy, reason string)
	// deadLetter reports a message that will never be processed.
	deadLetter(to Ref, env envelope, reason string)
}

// postOffice is the System's sink: it counts dead letters by reason and
// drops by policy, records them as metrics, and publishes dead letters to
// subscribers.
type postOffice struct {
	stream   Stream[DeadLetter]
	metrics  *instruments // nil without a meter provider
	observe  *observing   // nil without an Observer
	byReason [len(deadLetterReasons)]atomic.Uint64
	byPolicy [Reject + 1]atomic.Uint64
}

// dropped counts a message lost to an overflow policy and dead-letters it.
func (o *postOffice) dropped(to Ref, env envelope, policy OverflowPolicy, reason string) {
	o.byPolicy[policy].Add(1)
	if o.metrics != nil {
		o.metrics.dropped(bg, to.kind(), policy)
	}
	o.deadLetter(to, env, reason)
}

// deadLetter counts and publishes a message that did not reach Receive.
func (o *postOffice) deadLetter(to Ref, env envelope, reason string) {
	if o.observe != nil {
		env.msg = o.observe.deadLetter(to, &env, reason)
	}
	for i, r := range deadLetterReasons {
		if r == reason {
			o.byReason[i].Add(1)
			break
		}
	}
	if o.metrics != nil {
		o.metrics.deadLetter(bg, reason)
	}
	if o.stream.hasSubscribers() {
		o.stream.publish(DeadLetter{To: to, From: env.from.ref(), Message: env.msg, Reason: reason})
	}
}

// counts copies the counters into st.
func (o *postOffice) counts(st *Stats) {
	st.DeadLetters = make(map[string]uint64, len(deadLetterReasons))
	st.Dropped = make(map[OverflowPolicy]uint64, len(o.byPolicy))
	for i, r := range deadLetterReasons {
		st.DeadLetters[r] = o.byReason[i].Load()
	}
	for i := range o.byPolicy {
		st.Dropped[OverflowPolicy(i)] = o.byPolicy[i].Load()
	}
}
