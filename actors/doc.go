// Package actors is Troupe's actor runtime: spawn, refs, bounded mailboxes,
// a name registry, request/response, pub/sub, supervision, timers and dead
// letters, behind a small API ([System], [Ref], [Context], [Actor]).
//
// An actor is a value with a Receive method. The runtime guarantees that one
// actor never runs two Receive calls at once and that messages from one
// sender arrive in the order they were sent. Receive gets lifecycle messages
// too: [Started] first (again after each restart), [Stopping] and [Stopped]
// last, and [Restarting] for actors spawned by value.
//
//	ref, _ := sys.Spawn("greeter", func() actors.Actor { return &Greeter{} })
//	reply, err := sys.Request(ctx, ref, "hello")
//
// Failures are contained: a panic in Receive is recovered, logged with its
// stack, published as an [ActorFailed] event, and handed to the parent's
// [Strategy] (OneForOne, OneForAll, RestForOne) which restarts after an
// exponential backoff, or, past the restart intensity, gives up and makes
// the parent fail in turn ([Escalated]); at the top level the actor stops.
// Messages that cannot be delivered are [DeadLetter]s, counted in [Stats]
// and published on [System.DeadLetters].
//
// # Rationale
//
// These decisions are not obvious from the code; change them knowingly.
//
// No goroutine per actor. A goroutine costs at least a 2 KiB stack, so an
// idle actor has none: it is a 448-byte struct. The sender that queues a
// message into an idle mailbox flips running (under the mailbox lock) and
// starts a drain goroutine, which processes what is queued and exits when
// the mailbox is empty, clearing running under the same lock, so a wake-up
// cannot be lost. Starting a goroutine is cheap (Go reuses stacks) and for
// request/response it is the fastest path: the new goroutine sits in the
// sender's run-next slot, so the request, the reply and the caller's wake-up
// all happen on one P without cross-core hand-off. Spinning before going
// idle was not needed to meet the latency target and would burn a core.
//
// Mailboxes are a mutex-protected ring of envelopes stored by value, grown
// by doubling on demand (never preallocated to the bound), so Send allocates
// nothing beyond boxing the message. The drain goroutine takes up to 256
// envelopes per lock acquisition and runs them outside the lock, so
// producers and the consumer touch the lock once per batch rather than per
// message; this beat a lock-free linked queue, which allocates a node per
// message. The bound counts messages queued and not yet taken: an actor may
// hold up to 255 more in its current batch. Drop-oldest evicts the ring
// head. Block waits on a channel that the consumer closes when it frees
// space, so blocked senders cost nothing until the mailbox is full.
//
// Panic containment costs one deferred recover per batch, not per message.
// System messages (start, stop, restart, a child's escalation) sit in a
// separate queue that the drain loop checks first; an atomic flag lets it
// notice one between two messages of a batch without taking the lock.
//
// Request/response uses pooled reply slots (a channel, an atomic state and a
// timer made once per slot). The replier and the giving-up caller race with
// a CAS on the state; a caller that gives up abandons its slot to the GC
// rather than returning it to the pool, so a late reply can never reach a
// later request. No timer is created per request. Under a context with a
// deadline the caller first waits for the reply alone, for up to a
// millisecond (or until the deadline), on the slot's timer, and only then
// on ctx.Done(): asking a context made per call for its Done channel costs
// an allocation, or seven for the request timeout stage's context, which
// registers with its parent when asked (see replyGrace). Without a deadline
// it waits on ctx.Done(), which is nil (free) for a context that never
// ends. A request that Receive returns from without Respond
// or Forward fails at once with [ErrNoReply], so no caller waits for a reply
// that cannot come; Stop fails queued requests with [ErrStopped].
//
// Supervision runs on the failing actor's own goroutine: it consults the
// parent's strategy, and restarts (its own and its siblings') travel as
// system messages, so every lifecycle transition of an actor happens on its
// own drain goroutine and never concurrently with its Receive. Restarting
// an actor stops its children and clears its timers and subscriptions; its
// new Started recreates them, and its mailbox is kept.
//
// Names are global to the System and held in a sync.Map (Lookup is one
// lock-free load). Ids are never reused, so a stale Ref cannot reach a newer
// actor that took the same name. A [Ref] is two words, one interface value:
// the endpoint that accepts the actor's messages and control (deliver,
// poison, stop, done, its address). A local actor's endpoint is its
// process; an actor on another node of a cluster (WithCluster,
// System.JoinCluster) is a remoteRef, so Send, Request, Forward, Stop
// and Done work unchanged, and a local send never touches NATS.
//
// Across nodes (docs/cluster.md): one NATS subscription per node, not per
// actor, since the envelope names the target; a versioned binary envelope
// in the message body, not NATS headers, which cost about 5x to parse
// (BenchmarkEnvelopeDecode); an outbox per destination coalescing sends
// into one publish, which keeps remote send throughput above raw nats.go
// publishing; cluster-wide names as leases in a JetStream KV bucket whose
// TTL ages out a crashed node's keys (nats.go sets per-key TTLs only on
// create, so renewals are revision-checked updates that restart the
// bucket's age), never gossip; at-most-once delivery, with the caller's
// deadline enforced on the receiving node.
//
// The core is in named parts. A process (process.go) is an address, a
// mailbox (mailbox.go: the two queues, the overflow policy, the running
// flag), its supervision (supervision.go: parent, children, restart
// history), the state its drain goroutine owns (drain.go) and its
// lifecycle (lifecycle.go). A message flows one way, from the sender into
// the mailbox and out to Receive; what does not arrive — dropped by a
// policy, queued at a stop, a late reply — goes to a sink, not back to the
// System. The System's sink counts, records and publishes it; a transport
// reports its own losses through the same two calls. The mailbox's lock
// and queue sit on other cache lines than what the drain goroutine reads
// per message, which is worth a third of Send's throughput.
//
// Metrics are optional: without a meter provider the hot path pays a nil
// check; mailbox depth is read by walking the tree at collection time.
package actors
