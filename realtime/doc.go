// Package realtime serves WebSocket and Server-Sent Events routes whose
// connections are actors: each connection has an actors.Ref, so any actor
// — or a WASM component, through the connection's registered name — can
// push to it, and the messages a client sends go to a handler actor. Rooms
// are actor pub/sub subjects (realtime.room.<name>), so they cross nodes
// with the actor runtime's transport, with optional presence and a history
// that reconnecting clients resume from.
//
//	api.Version(2, func(g *versioning.Group) {
//		g.WS("/notes/live", realtime.Handler(realtime.Endpoint{Rooms: []string{"notes"}}))
//		g.WS("/rooms/:room", realtime.Handler(realtime.Endpoint{
//			Rooms: []string{"chat.:room"}, PublishInbound: true,
//		}))
//	})
//	...
//	hub.Publish("notes", event) // from anywhere: an actor, a handler
//
// A Troupe service creates the Hub from its [realtime] section (Config) and
// mounts the routes behind its whole request path, so a connection is
// authenticated, rate-limited and authorized (Cedar action "connect") like
// any request before it is upgraded, and refused with a problem document
// otherwise.
//
// # Protocol
//
// Server messages are JSON text with a "type":
//
//	{"type":"message","room":"chat.lobby","seq":12,"time":"…","sender":"ada","data":{…}}
//	{"type":"joined","room":"chat.lobby","seq":12,"gap":false,"members":[…],"total":2}
//	{"type":"left","room":"chat.lobby"}
//	{"type":"presence","room":"chat.lobby","joins":[{"id":"ck7q2xa-7","user":"bob"}],"leaves":[…]}
//	{"type":"members","room":"chat.lobby","members":[…],"total":2}
//	{"type":"error","op":"join","room":"secret","status":403,"detail":"…"}
//	{"type":"pong"}
//	{"type":"reconnect","delay_ms":2300}
//
// Clients send operations, JSON objects with an "op":
//
//	{"op":"join","room":"chat.lobby","since":12}   // since: resume after position 12
//	{"op":"leave","room":"chat.lobby"}
//	{"op":"publish","room":"chat.lobby","data":{…}}
//	{"op":"presence","room":"chat.lobby"}
//	{"op":"ping"}
//
// Join and publish are decided by the hub's Authorizer (Cedar actions
// "join" and "publish" on Room::"<name>"), once per room and connection. A
// message that is not an operation goes to the endpoint's handler actor as
// Received, or is published to its room (PublishInbound), or else closes
// the connection with 1003. Endpoint.Raw turns operations off. SSE carries
// the same messages as events, each room message with an id listing every
// room's position ("chat.lobby:12,notes:40"), which a browser sends back as
// Last-Event-ID when it reconnects; WebSocket clients pass the same list in
// the since query parameter.
//
// # Rationale
//
// coder/websocket (v1.8.15) rather than gorilla/websocket or lxzan/gws: it
// is maintained, takes a context on every call, allows concurrent writes
// (the heartbeat pings while a writer writes), validates the handshake and
// negotiates permessage-deflate, and — since v1.8.13 — starts no goroutine
// of its own per connection. It needs someone to read, to answer pings and
// close frames, so each connection has one reader goroutine. An
// event-driven library (gws's non-blocking mode) would save that goroutine,
// a few KB of stack per idle connection, at the price of a callback model
// without contexts; it was not tried, since the measured cost per
// connection (docs/realtime.md) is within the 16 KB budget. The library's
// Conn carries a finalizer and points to
// itself, so a connection must always be closed through it (see
// wsTransport.release): one aborted only at the socket is never collected.
//
// No goroutine per idle connection beyond the reader. The connection's actor
// has none while idle (the actor runtime starts a drain goroutine per burst
// of messages); the writer goroutine exists while the outbound queue is not
// empty; the heartbeat is a runtime timer, whose callback runs only when it
// fires. net/http's 4 KiB read and write buffers are swapped for 1 KiB ones
// at the upgrade (hijack.go). An SSE stream is hijacked from net/http too, so
// it holds no HTTP handler, deadline or bulkhead slot for its lifetime, and
// a reader goroutine notices the client leaving.
//
// The outbound queue is the connection's own, not the actor's mailbox, so
// that a full queue is seen where the slow-consumer policy can act on it
// and count it. Room messages are encoded once per publication, not once
// per member.
//
// A client past inbound_rate is closed with 1008 rather than throttled.
// Throttling means not reading, which also stops pongs and close frames
// and leaves the client unaware; a legitimate client's bursts fit in the
// burst (one second's worth), and a client beyond it is broken or
// abusive, and is better told so (1008) than slowed silently.
//
// A room is an actor, the one writer of its position, history and members.
// A join is handled in the room's Receive: it subscribes the connection and
// sends the history in the same step, so the connection's mailbox holds the
// history before any later message — no gap, no duplicate. Presence changes
// are batched for 100 ms: a storm of n joins would otherwise cost n²
// messages. A room's position and history belong to the node whose room
// actor sequences them. Delivery crosses nodes through the subject; with
// the cluster, positions that agree across nodes need each room's actor to
// run once in the cluster (a singleton), and Hub.room, where room actors
// are spawned, is the one place that changes.
package realtime
