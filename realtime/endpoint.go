package realtime

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Transport selects the protocols an endpoint speaks.
type Transport uint8

const (
	// WebSocket serves WebSocket upgrades (RFC 6455).
	WebSocket Transport = 1 << iota
	// SSE serves Server-Sent Events to requests that accept
	// text/event-stream: one-way, for clients that only listen.
	SSE
)

// Endpoint describes one realtime route: which rooms a connection joins,
// where its messages go. Build the route's handler with Handler and mount it
// in a version group with Group.WS or Group.SSE, so it sits behind the
// service's whole chain: the connection is authenticated and authorized
// (Cedar action "connect") like any request before it is upgraded.
type Endpoint struct {
	// Handler names the actor that receives Connected, Received and
	// Disconnected for each connection. Empty means none: then messages that
	// are not protocol operations close the connection (1003) unless
	// PublishInbound is set. A named handler that is not running when a
	// client connects is a 503.
	Handler string
	// Rooms are joined when a connection opens. A token ":name" is replaced
	// by the route's path parameter name: "chat.:room" on the route
	// /rooms/:room joins chat.lobby for /rooms/lobby. The value must be one
	// room token (letters, digits, '_', '-'), or the upgrade is a 400.
	Rooms []string
	// PublishInbound publishes each text message a client sends that is not
	// a protocol operation to the endpoint's one room, as the data of a room
	// message with the sender and the time: a chat room. It must be JSON.
	PublishInbound bool
	// Raw turns the protocol off: every message goes to Handler as it is.
	Raw bool
	// Transports are the protocols served; zero means both.
	Transports Transport
	// Hub, when set, serves the endpoint; otherwise the hub in the request
	// context (NewContext), which a Troupe service provides.
	Hub *Hub
}

// endpoint is an Endpoint checked and compiled.
type endpoint struct {
	handler        string
	rooms          [][]string // each room's tokens; ":name" tokens are parameters
	publishInbound bool
	raw            bool
	transports     Transport
	hub            *Hub
}

// Validate reports what is wrong with e, each a *fielderr.Error naming the
// field: a room template that is not a room
// name (parameters aside), PublishInbound without exactly one room, or an
// unknown transport.
func (e Endpoint) Validate() error {
	var errs []error
	for _, room := range e.Rooms {
		probe := make([]string, 0, 4)
		for tok := range strings.SplitSeq(room, ".") {
			if name, ok := strings.CutPrefix(tok, ":"); ok && name != "" {
				tok = "x"
			}
			probe = append(probe, tok)
		}
		if err := checkRoomName(strings.Join(probe, "."), false); err != nil {
			errs = append(errs, fielderr.New("Rooms", "%q: %w", room, err))
		}
	}
	if e.PublishInbound && len(e.Rooms) != 1 {
		errs = append(errs, fielderr.New("PublishInbound", "needs exactly one room, got %d", len(e.Rooms)))
	}
	if e.Transports&^(WebSocket|SSE) != 0 {
		errs = append(errs, fielderr.New("Transports", "unknown transport bits %#x", uint8(e.Transports)))
	}
	return errors.Join(errs...)
}

// Handler returns the http.Handler that serves e. It panics when
// e.Validate fails: an endpoint is declared in code, and its mistakes are
// found at start-up.
func Handler(e Endpoint) http.Handler {
	if err := e.Validate(); err != nil {
		panic("realtime: Handler: " + err.Error())
	}
	ep := &endpoint{handler: e.Handler, publishInbound: e.PublishInbound, raw: e.Raw, transports: e.Transports, hub: e.Hub}
	if ep.transports == 0 {
		ep.transports = WebSocket | SSE
	}
	for _, room := range e.Rooms {
		ep.rooms = append(ep.rooms, strings.Split(room, "."))
	}
	return ep
}

// resolve returns the endpoint's rooms for r, path parameters substituted.
func (ep *endpoint) resolve(r *http.Request) ([]string, error) {
	out := make([]string, 0, len(ep.rooms))
	for _, toks := range ep.rooms {
		parts := make([]string, len(toks))
		for i, tok := range toks {
			parts[i] = tok
			if name, ok := strings.CutPrefix(tok, ":"); ok {
				v := r.PathValue(name)
				if v == "" || strings.IndexFunc(v, notRoomChar) >= 0 {
					return nil, fmt.Errorf("the room name %q in the path is not letters, digits, '_' and '-'", v)
				}
				parts[i] = v
			}
		}
		room := strings.Join(parts, ".")
		if err := checkRoomName(room, false); err != nil {
			return nil, err
		}
		out = append(out, room)
	}
	return out, nil
}

// publishRoom is the room PublishInbound publishes to.
func (ep *endpoint) publishRoom(params map[string]string) string {
	parts := make([]string, len(ep.rooms[0]))
	for i, tok := range ep.rooms[0] {
		parts[i] = tok
		if name, ok := strings.CutPrefix(tok, ":"); ok {
			parts[i] = params[name]
		}
	}
	return strings.Join(parts, ".")
}

// params returns the values of the endpoint's path parameters in r.
func (ep *endpoint) params(r *http.Request) map[string]string {
	var out map[string]string
	for _, toks := range ep.rooms {
		for _, tok := range toks {
			if name, ok := strings.CutPrefix(tok, ":"); ok {
				if out == nil {
					out = make(map[string]string)
				}
				out[name] = r.PathValue(name)
			}
		}
	}
	return out
}
