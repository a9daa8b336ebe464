package actors

import "time"

// Lifecycle messages, delivered to Receive by the runtime.
type (
	// Started is the first message of every instance: after Spawn and after
	// each restart. Set up timers, children and subscriptions here.
	Started struct{}
	// Stopping is delivered when the actor begins to stop, before its
	// children are stopped.
	Stopping struct{}
	// Stopped is the last message: children, timers and subscriptions are
	// gone and the mailbox has been turned into dead letters.
	Stopped struct{}
	// Restarting is delivered to an actor spawned by value (SpawnActor)
	// before it is restarted, so it can reset its own state; Started follows.
	Restarting struct{ Reason error }
)

// Dead-letter reasons, the DeadLetter.Reason values.
const (
	// ReasonStopped: the target had stopped, or stopped with the message queued.
	ReasonStopped = "stopped"
	// ReasonMailboxFull: refused by Reject, or Block's deadline passed.
	ReasonMailboxFull = "mailbox full"
	// ReasonDroppedOldest: evicted from a full DropOldest mailbox.
	ReasonDroppedOldest = "dropped oldest"
	// ReasonDroppedNewest: discarded by a full DropNewest mailbox.
	ReasonDroppedNewest = "dropped newest"
	// ReasonLateReply: a reply to a Request whose caller had given up.
	ReasonLateReply = "late reply"
	// ReasonNoSender: Respond to a message that has neither a Request
	// waiting nor a sending actor.
	ReasonNoSender = "no sender"

	// The reasons below concern messages between nodes of a cluster.

	// ReasonUnavailable: not sent, because the NATS connection was down.
	ReasonUnavailable = "unavailable"
	// ReasonUnknownType: its Go type is not registered for the wire on the
	// sending node (RegisterMessage), or its wire name is unknown on the
	// receiving node.
	ReasonUnknownType = "unknown type"
	// ReasonOversized: its envelope exceeds the max payload.
	ReasonOversized = "oversized"
	// ReasonMalformed: an envelope or payload that does not decode
	// (truncated, corrupt).
	ReasonMalformed = "malformed"
	// ReasonVersion: an envelope of a version this node does not speak.
	ReasonVersion = "unsupported version"
	// ReasonExpired: the caller's deadline passed before the message
	// reached Receive on the receiving node.
	ReasonExpired = "deadline passed"
	// ReasonNotOwner: a message to a sharded entity that a node refused
	// without processing it (ErrNotOwner): its lease lapsed (fencing), it
	// was handing the entity over, or the entity could not be activated.
	ReasonNotOwner = "not owner"
)

// deadLetterReasons orders the reasons for the Stats counters.
var deadLetterReasons = [...]string{
	ReasonStopped, ReasonMailboxFull, ReasonDroppedOldest, ReasonDroppedNewest, ReasonLateReply, ReasonNoSender,
	ReasonUnavailable, ReasonUnknownType, ReasonOversized, ReasonMalformed, ReasonVersion, ReasonExpired,
	ReasonNotOwner,
}

// DeadLetter is a message that did not reach Receive (or a reply nobody
// waited for). Publish with no subscriber is not a dead letter: its count
// of zero is the signal.
type DeadLetter struct {
	To, From Ref
	Message  any
	Reason   string
}

// Event is a lifecycle event published on System.Events: one of
// ActorStarted, ActorStopped, ActorRestarted, ActorFailed, Escalated.
type Event interface{ isEvent() }

// ActorStarted: an actor was spawned (not emitted for restarts).
type ActorStarted struct{ Ref Ref }

// ActorStopped: an actor terminated; Reason is nil for Stop, Poison and
// Shutdown, else the failure that made its supervisor give up.
type ActorStopped struct {
	Ref    Ref
	Reason error
}

// ActorRestarted: an actor was restarted by its supervisor after Delay.
type ActorRestarted struct {
	Ref    Ref
	Reason error
	Delay  time.Duration
}

// ActorFailed: Receive (or Started) failed; Stack is set for panics.
type ActorFailed struct {
	Ref   Ref
	Err   error
	Stack []byte
}

// Escalated: Ref exceeded its restart intensity. Supervisor is the parent
// that now fails in turn, or the zero Ref at the top level, where Ref is
// stopped instead.
type Escalated struct {
	Ref        Ref
	Supervisor Ref
	Err        error
}

func (ActorStarted) isEvent()   {}
func (ActorStopped) isEvent()   {}
func (ActorRestarted) isEvent() {}
func (ActorFailed) isEvent()    {}
func (Escalated) isEvent()      {}
