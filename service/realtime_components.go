package service

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/realtime"
)

// roomPublishPrefix is the topic a WASM component publishes on to publish
// to a room: a publication on realtime.publish.chat.lobby is published to
// room chat.lobby, with its position, its time and a place in the room's
// history, as hub.Publish does for native code. The manifest's grant
// topic:publish:realtime.publish.chat.* is thus the component's
// room:publish:chat.* — topic patterns and room patterns share their
// syntax — and it is checked, and a refusal audited, by the component
// runtime like any other grant. (Pushing to one connection needs no bridge:
// actor:send:realtime.conn.* reaches the connections' actors by name.)
const roomPublishPrefix = "realtime.publish."

// roomPublisher is the actor subscribed to realtime.publish.> that hands
// components' publications to the hub.
type roomPublisher struct {
	hub *realtime.Hub
	log *slog.Logger
}

// spawnRoomPublisher starts the bridge and subscribes it. Every node of an
// actor cluster runs its own, for its own hub's rooms, so the bridge is a
// pool member: a plain name is unique in a cluster, and the second node
// would fail to start. Each node's bridge hears every node's publications
// (pub/sub crosses nodes), so a component's publication reaches the room's
// clients on every node.
func spawnRoomPublisher(sys *actors.System, hub *realtime.Hub, log *slog.Logger) (actors.Ref, error) {
	ref, err := sys.SpawnActor(strings.TrimSuffix(roomPublishPrefix, "."), &roomPublisher{hub: hub, log: log},
		actors.WithKind("realtime.publisher"), actors.WithPool())
	if err != nil {
		return actors.Ref{}, fmt.Errorf("realtime: starting the room publisher: %w", err)
	}
	if _, err := sys.Subscribe(ref, roomPublishPrefix+">"); err != nil {
		sys.Stop(ref)
		return actors.Ref{}, fmt.Errorf("realtime: subscribing the room publisher: %w", err)
	}
	return ref, nil
}

// Receive publishes one component's publication to its room. The data must
// be JSON, as hub.Publish requires; anything else is the component's bug,
// logged, since a publish call returns before the hub sees it.
func (p *roomPublisher) Receive(_ *actors.Context, msg any) {
	m, ok := msg.(wasm.Publication)
	if !ok {
		return
	}
	room := strings.TrimPrefix(m.Subject, roomPublishPrefix)
	if err := p.hub.Publish(room, m.Data); err != nil {
		p.log.Warn("a component's room publication was refused", "subject", m.Subject, "err", err)
	}
}
