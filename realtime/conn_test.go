package realtime

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coder/websocket"

	"github.com/troupehq/troupe/internal/wstest"
)

// TestHandlerActor: a connection's messages reach the handler actor with
// its Ref, which the actor uses to answer; the connection's lifecycle
// brackets them.
func TestHandlerActor(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /echo": {Handler: "echo"}})
	rec := newRecorder()
	if _, err := th.sys.SpawnActor("echo", rec); err != nil {
		t.Fatal(err)
	}
	c := th.dial(t, "/echo", "ada")

	conn, ok := rec.next(t).(*Connected)
	if !ok || conn.Principal == nil || conn.Principal.Subject != "ada" || conn.Transport != "websocket" {
		t.Fatalf("first message = %#v, want Connected for ada over websocket", conn)
	}
	if err := c.Write(context.Background(), websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, ok := rec.next(t).(*Received)
	if !ok || string(got.Data) != "hello" || got.Binary || got.Conn != conn.Conn {
		t.Fatalf("second message = %#v, want Received hello from the same conn", got)
	}
	// The actor answers through the Ref: text, JSON of any value, binary.
	_ = th.sys.Send(conn.Conn, "hi ada")
	_ = th.sys.Send(conn.Conn, map[string]int{"n": 1})
	_ = th.sys.Send(conn.Conn, Binary{0xff, 0})
	if f := read(t, c); f.Raw != "hi ada" {
		t.Errorf("text = %q", f.Raw)
	}
	if f := read(t, c); f.Raw != `{"n":1}` {
		t.Errorf("JSON = %q", f.Raw)
	}
	ctx := context.Background()
	if typ, b, err := c.Read(ctx); err != nil || typ != websocket.MessageBinary || string(b) != "\xff\x00" {
		t.Errorf("binary = %v %q %v", typ, b, err)
	}

	// Addressable by name, as a WASM component with actor:send reaches it.
	byName, err := th.sys.Lookup("realtime.conn." + conn.ID)
	if err != nil || byName != conn.Conn {
		t.Fatalf("Lookup(realtime.conn.%s) = %v, %v", conn.ID, byName, err)
	}
	_ = th.sys.Send(byName, []byte(`{"from":"wasm"}`))
	if f := read(t, c); f.Raw != `{"from":"wasm"}` {
		t.Errorf("bytes = %q", f.Raw)
	}

	_ = c.Close(websocket.StatusNormalClosure, "bye")
	d, ok := rec.next(t).(*Disconnected)
	if !ok || d.Conn != conn.Conn || d.Reason != reasonClientClosed || d.Code != 1000 {
		t.Fatalf("last message = %#v, want Disconnected client_closed 1000", d)
	}
	eventually(t, "the connection's actor stops", func() bool {
		select {
		case <-th.sys.Done(conn.Conn):
			return true
		default:
			return false
		}
	})
	if n := th.Connections(); n != 0 {
		t.Errorf("Connections() = %d after close", n)
	}
}

// TestCloseFromActor: Close sent to the Ref closes after what was queued.
func TestCloseFromActor(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /echo": {Handler: "echo"}})
	rec := newRecorder()
	_, _ = th.sys.SpawnActor("echo", rec)
	c := th.dial(t, "/echo", "")
	conn := rec.next(t).(*Connected)
	_ = th.sys.Send(conn.Conn, "last words")
	_ = th.sys.Send(conn.Conn, Close{Code: 4001, Reason: "kicked"})
	if f := read(t, c); f.Raw != "last words" {
		t.Fatalf("got %q before the close", f.Raw)
	}
	if code := wstest.CloseStatus(t, c); code != 4001 {
		t.Errorf("close code %d, want 4001", code)
	}
	d := rec.next(t).(*Disconnected)
	if d.Reason != reasonServerClosed {
		t.Errorf("reason %q, want server_closed", d.Reason)
	}
}

// TestRoomsOverPubSub: joined clients get every publication of a room, from
// clients and from Go, in order with positions; a room is an actor pub/sub
// subject that any local actor can subscribe to.
func TestRoomsOverPubSub(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /ws": {}})
	a := th.dial(t, "/ws", "ada")
	b := th.dial(t, "/ws", "bob")
	for _, c := range []*websocket.Conn{a, b} {
		send(t, c, map[string]any{"op": "join", "room": "chat.lobby"})
		if f := read(t, c); f.Type != "joined" || f.Room != "chat.lobby" || f.Seq != 0 {
			t.Fatalf("join answer %s", f.Raw)
		}
	}
	// An actor listening on the room's subject sees the same messages.
	spy := newRecorder()
	spyRef, _ := th.sys.SpawnActor("", spy)
	if _, err := th.sys.Subscribe(spyRef, "realtime.room.chat.lobby"); err != nil {
		t.Fatal(err)
	}

	send(t, a, map[string]any{"op": "publish", "room": "chat.lobby", "data": map[string]string{"text": "hi"}})
	first := map[*websocket.Conn]frame{a: read(t, a)}
	if err := th.Publish("chat.lobby", map[string]string{"text": "from the server"}); err != nil {
		t.Fatal(err)
	}
	first[b] = read(t, b)
	for _, c := range []*websocket.Conn{a, b} {
		f1, f2 := first[c], read(t, c)
		if f1.Type != "message" || f1.Seq != 1 || f1.Sender != "ada" || string(f1.Data) != `{"text":"hi"}` {
			t.Errorf("first message %s", f1.Raw)
		}
		if f2.Seq != 2 || f2.Sender != "" || string(f2.Data) != `{"text":"from the server"}` {
			t.Errorf("second message %s", f2.Raw)
		}
	}
	if p, ok := spy.next(t).(*Publication); !ok || p.Seq != 1 || p.Room != "chat.lobby" {
		t.Errorf("subscriber got %#v", p)
	}

	send(t, b, map[string]any{"op": "leave", "room": "chat.lobby"})
	if f := readType(t, b, "left"); f.Room != "chat.lobby" {
		t.Fatalf("leave answer %s", f.Raw)
	}
	_ = th.Publish("chat.lobby", json.RawMessage(`3`))
	if f := read(t, a); f.Seq != 3 {
		t.Errorf("member after leave got %s", f.Raw)
	}
	send(t, b, map[string]any{"op": "ping"})
	if f := read(t, b); f.Type != "pong" {
		t.Errorf("after leaving, got %s, want only the pong", f.Raw)
	}
}

// TestHistoryResume: a client that resumes from a position gets the
// messages it missed, then the joined frame; gap says when history no
// longer reaches back that far.
func TestHistoryResume(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /ws": {}, "GET /feed": {Rooms: []string{"feed"}}},
		WithRooms(RoomConfig{Pattern: "feed", History: 3}))
	for i := 1; i <= 5; i++ {
		if err := th.Publish("feed", i); err != nil {
			t.Fatal(err)
		}
	}
	c := th.dial(t, "/ws", "")
	send(t, c, map[string]any{"op": "join", "room": "feed", "since": 3})
	for _, want := range []uint64{4, 5} {
		if f := read(t, c); f.Type != "message" || f.Seq != want || string(f.Data) != string(rune('0'+want)) {
			t.Fatalf("replay: %s, want message %d", f.Raw, want)
		}
	}
	if f := read(t, c); f.Type != "joined" || f.Seq != 5 || f.Gap {
		t.Fatalf("joined: %s", f.Raw)
	}

	// From 1, positions 2 is gone (history 3 keeps 3..5).
	c2 := th.dial(t, "/feed?since=feed:1", "")
	for _, want := range []uint64{3, 4, 5} {
		if f := read(t, c2); f.Seq != want {
			t.Fatalf("replay from 1: %s, want %d", f.Raw, want)
		}
	}
	if f := read(t, c2); f.Type != "joined" || !f.Gap {
		t.Fatalf("joined after a gap: %s", f.Raw)
	}
	_ = th.Publish("feed", 6)
	if f := read(t, c2); f.Seq != 6 {
		t.Fatalf("live after replay: %s", f.Raw)
	}

	if _, resp, err := th.tryDial("/feed?since=feed", "", nil); err == nil || resp.StatusCode != 400 {
		t.Fatalf("bad position: %v %v", resp, err)
	}
}

// TestPresence: members see who joins and leaves, and can ask who is in.
func TestPresence(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /rooms/{room}": {Rooms: []string{"chat.:room"}}, "GET /ws": {}},
		WithRooms(RoomConfig{Pattern: "chat.*", Presence: true}))
	a := th.dial(t, "/rooms/lobby", "ada")
	if f := readType(t, a, "joined"); len(f.Members) != 1 || f.Members[0].User != "ada" || f.Total != 1 {
		t.Fatalf("joined: %s", f.Raw)
	}
	if f := readType(t, a, "presence"); len(f.Joins) != 1 || f.Joins[0].User != "ada" {
		t.Fatalf("own presence: %s", f.Raw)
	}
	b := th.dial(t, "/rooms/lobby", "bob")
	if f := readType(t, a, "presence"); len(f.Joins) != 1 || f.Joins[0].User != "bob" {
		t.Fatalf("presence: %s", f.Raw)
	}
	send(t, a, map[string]any{"op": "presence", "room": "chat.lobby"})
	if f := readType(t, a, "members"); len(f.Members) != 2 || f.Total != 2 {
		t.Fatalf("members: %s", f.Raw)
	}
	_ = b.Close(websocket.StatusNormalClosure, "")
	if f := readType(t, a, "presence"); len(f.Leaves) != 1 || f.Leaves[0].User != "bob" {
		t.Fatalf("presence after close: %s", f.Raw)
	}
	// Changes close together are announced together.
	c1, c2 := th.dial(t, "/rooms/lobby", "cyd"), th.dial(t, "/rooms/lobby", "dee")
	readType(t, c1, "joined")
	readType(t, c2, "joined")
	_ = c1.CloseNow()
	f := readType(t, a, "presence")
	for len(f.Joins) < 2 && len(f.Leaves) == 0 { // the joins may straddle a batch
		f = readType(t, a, "presence")
	}
	if len(f.Joins)+len(f.Leaves) < 2 {
		t.Errorf("changes not batched: %s", f.Raw)
	}
	// A room without presence says so.
	w := th.dial(t, "/ws", "")
	send(t, w, map[string]any{"op": "presence", "room": "other"})
	if f := read(t, w); f.Type != "error" || f.Status != 404 {
		t.Fatalf("presence of a room without: %s", f.Raw)
	}
}

// TestChatRoom is the showcase's room: messages a client sends are
// published with its name.
func TestChatRoom(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /rooms/{room}": {Rooms: []string{"chat.:room"}, PublishInbound: true}})
	a := th.dial(t, "/rooms/lobby", "ada")
	b := th.dial(t, "/rooms/lobby", "bob")
	readType(t, a, "joined")
	readType(t, b, "joined")
	send(t, a, map[string]string{"text": "hello"})
	f := readType(t, b, "message")
	if f.Sender != "ada" || string(f.Data) != `{"text":"hello"}` || f.Room != "chat.lobby" {
		t.Fatalf("chat message %s", f.Raw)
	}
	if err := a.Write(context.Background(), websocket.MessageText, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if f := readType(t, a, "error"); f.Status != 400 {
		t.Fatalf("non-JSON chat message: %s", f.Raw)
	}
	if _, resp, err := th.tryDial("/rooms/a.b", "", nil); err == nil || resp.StatusCode != 400 {
		t.Fatalf("room name with a dot: %v", err)
	}
}
