package realtime

import (
	"encoding/json"
	"time"

	"github.com/troupehq/troupe/actors"
)

// A room is an actor: the one writer of the room's position, history and
// members. Members are connections subscribed to the room's subject
// (realtime.room.<name>) through the actor runtime's pub/sub, which is what
// carries a publication to them — and, once the cluster lands, to members
// on other nodes, with no change here.
//
// Joining happens in the room's own Receive: it subscribes the connection
// and sends it the history, and only then handles the next publication. The
// connection's mailbox therefore holds the history before any later
// message, with no gap and no duplicate, because messages from one actor
// arrive in the order they were sent.

// Room timings.
const (
	// roomSweep is how often a room drops members whose connection ended
	// without leaving (a crash between join and leave) and checks whether it
	// is idle.
	roomSweep = 30 * time.Second
	// roomLinger is how long a room with no members and no publication
	// stays, holding its history for clients that come back.
	roomLinger = time.Minute
	// presenceBatch is how long a room gathers membership changes before
	// announcing them in one message: a join storm of n clients would
	// otherwise cost n² messages.
	presenceBatch = 100 * time.Millisecond
	// maxMemberList bounds the members listed in a joined or members
	// message; the total is always given. Ten thousand members would make a
	// 300 KB message per join.
	maxMemberList = 1000
)

// Room messages.
type (
	joinRequest struct {
		conn   actors.Ref
		member Member
		since  *uint64
	}
	leaveRequest   struct{ conn actors.Ref }
	publishRequest struct {
		sender string
		data   json.RawMessage
	}
	membersRequest struct{ conn actors.Ref }
	sweepTick      struct{}
	presenceTick   struct{}
)

// Replies to a connection.
type (
	joinedAck struct {
		room    string
		seq     uint64
		gap     bool
		history []*Publication
		members []Member
		total   int
	}
	leftAck      struct{ room string }
	membersReply struct {
		room    string
		members []Member
		total   int
	}
)

// roomMember is one subscribed connection.
type roomMember struct {
	Member
	cancel func()
}

type roomActor struct {
	hub      *Hub
	name     string
	subject  string
	cfg      RoomConfig
	seq      uint64
	history  []*Publication // a ring of cfg.History, oldest at start
	start    int
	members  map[actors.Ref]roomMember
	active   time.Time // the last join, leave or publication
	retiring bool
	pending  *Presence // changes not yet announced
}

func newRoomActor(h *Hub, name string) *roomActor {
	return &roomActor{hub: h, name: name, subject: roomSubjectPrefix + name, cfg: h.roomConfig(name)}
}

// Receive handles one room message.
func (r *roomActor) Receive(c *actors.Context, msg any) {
	switch m := msg.(type) {
	case actors.Started:
		// Also after a restart: the actor is kept by value, so its members
		// map survives, but their subscriptions were the connections' own
		// and survive too.
		if r.members == nil {
			r.members = make(map[actors.Ref]roomMember)
		}
		r.active = time.Now()
		c.Every(roomSweep, sweepTick{})
	case *joinRequest:
		if r.forward(m) {
			return
		}
		r.join(c, m)
	case *leaveRequest:
		r.leave(c, m.conn, true)
	case *publishRequest:
		if r.forward(m) {
			return
		}
		r.publish(m)
	case *membersRequest:
		_ = c.Send(m.conn, &membersReply{room: r.name, members: r.memberList(), total: len(r.members)})
	case sweepTick:
		r.sweep(c)
	case presenceTick:
		if p := r.pending; p != nil {
			r.pending = nil
			_, _ = r.hub.sys.Publish(r.subject, p)
		}
	}
}

// forward hands msg to the room's successor once this actor is retiring.
func (r *roomActor) forward(msg any) bool {
	if !r.retiring {
		return false
	}
	_ = r.hub.sendRoom(r.name, msg)
	return true
}

func (r *roomActor) join(c *actors.Context, m *joinRequest) {
	cancel, err := r.hub.sys.Subscribe(m.conn, r.subject)
	if err != nil {
		return // the connection has ended
	}
	_, again := r.members[m.conn]
	r.members[m.conn] = roomMember{Member: m.member, cancel: cancel}
	r.active = time.Now()
	ack := &joinedAck{room: r.name, seq: r.seq}
	if m.since != nil {
		ack.history, ack.gap = r.since(*m.since)
	}
	if r.cfg.Presence {
		ack.members, ack.total = r.memberList(), len(r.members)
	}
	_ = c.Send(m.conn, ack)
	if r.cfg.Presence && !again {
		p := r.announce(c)
		p.Joins = append(p.Joins, m.member)
	}
}

// announce returns the batch of changes to announce, scheduling its
// announcement when it is new.
func (r *roomActor) announce(c *actors.Context) *Presence {
	if r.pending == nil {
		r.pending = &Presence{Room: r.name}
		c.After(presenceBatch, presenceTick{})
	}
	return r.pending
}

// leave unsubscribes conn; ack tells the connection, which asked.
func (r *roomActor) leave(c *actors.Context, conn actors.Ref, ack bool) {
	m, ok := r.members[conn]
	if !ok {
		return
	}
	m.cancel()
	if delete(r.members, conn); len(r.members) == 0 {
		r.members = make(map[actors.Ref]roomMember) // maps keep their high-water size
	}
	r.active = time.Now()
	if ack {
		_ = c.Send(conn, &leftAck{room: r.name})
	}
	if r.cfg.Presence {
		p := r.announce(c)
		p.Leaves = append(p.Leaves, m.Member)
	}
}

func (r *roomActor) publish(m *publishRequest) {
	r.seq++
	p := &Publication{Room: r.name, Seq: r.seq, Time: time.Now(), Sender: m.sender, Data: m.data}
	r.active = p.Time
	if n := r.cfg.History; n > 0 {
		if len(r.history) < n {
			r.history = append(r.history, p)
		} else {
			r.history[r.start] = p
			r.start = (r.start + 1) % n
		}
	}
	_, _ = r.hub.sys.Publish(r.subject, p)
}

// since returns the kept messages after position seq, oldest first, and
// whether some messages after seq are no longer kept.
func (r *roomActor) since(seq uint64) (out []*Publication, gap bool) {
	if seq >= r.seq {
		return nil, false
	}
	n := len(r.history)
	for i := range n {
		p := r.history[(r.start+i)%n]
		if p.Seq > seq {
			out = append(out, p)
		}
	}
	first := r.seq + 1 // the oldest position kept, when none is
	if len(out) > 0 {
		first = out[0].Seq
	}
	return out, first > seq+1
}

// memberList lists at most maxMemberList members.
func (r *roomActor) memberList() []Member {
	out := make([]Member, 0, min(len(r.members), maxMemberList))
	for _, m := range r.members {
		if len(out) == maxMemberList {
			break
		}
		out = append(out, m.Member)
	}
	return out
}

// sweep drops the members whose connection has ended, and retires the room
// once it has had neither members nor traffic for roomLinger.
func (r *roomActor) sweep(c *actors.Context) {
	for conn := range r.members {
		select {
		case <-r.hub.sys.Done(conn):
			r.leave(c, conn, false)
		default:
		}
	}
	if r.retiring || len(r.members) > 0 || time.Since(r.active) < roomLinger {
		return
	}
	if r.hub.retire(r.name, c.Self()) {
		// Messages already queued here are forwarded to the successor;
		// Poison lets them be handled before the actor stops.
		r.retiring = true
		_ = c.Poison(c.Self())
	}
}
