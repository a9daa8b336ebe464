package realtime

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// ServeHTTP admits and upgrades one connection. Everything that can refuse
// it is decided before the upgrade, while the answer can still be an HTTP
// problem the client's code can read: a request that is neither a
// WebSocket handshake nor asks for an event stream (426 or 406), a
// disallowed Origin (403), a bad room or position (400), a handler actor
// that is not running (503), a room the principal may not join (403),
// a full process (503) or too many connections for the principal (429).
func (ep *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := ep.hub
	if h == nil {
		h = FromContext(r.Context())
	}
	if h == nil {
		problem.NewError(http.StatusInternalServerError, "The realtime endpoint has no hub.").Render(w, r)
		return
	}
	tr, pe := ep.negotiate(r)
	if pe != nil {
		h.refuse(w, r, tr, pe, outcomeBadRequest)
		return
	}
	c, pe, outcome := ep.prepare(h, r)
	if pe != nil {
		h.refuse(w, r, tr, pe, outcome)
		return
	}
	if pe, outcome := h.admit(c.key); pe != nil {
		h.refuse(w, r, tr, pe, outcome)
		return
	}
	var err error
	if tr == transportWebSocket {
		err = ep.upgradeWebSocket(w, r, c)
	} else {
		err = ep.upgradeSSE(w, r, c)
	}
	if err != nil {
		h.release(c.key)
		h.stats.upgraded(tr, outcomeFailed)
		h.log.Info("realtime: upgrade failed", "request_id", reqinfo.RequestID(r.Context()), "error", err)
	}
}

// refuse answers a refused upgrade with its problem.
func (h *Hub) refuse(w http.ResponseWriter, r *http.Request, tr int, pe *problem.Error, outcome string) {
	h.stats.upgraded(tr, outcome)
	pe.Render(w, r)
}

// negotiate picks the transport r asks for.
func (ep *endpoint) negotiate(r *http.Request) (int, *problem.Error) {
	if headerHasToken(r.Header, "Upgrade", "websocket") {
		if ep.transports&WebSocket == 0 {
			return transportWebSocket, problem.NewError(http.StatusBadRequest, "This endpoint serves Server-Sent Events, not WebSocket.")
		}
		return transportWebSocket, checkHandshake(r)
	}
	if ep.transports&SSE != 0 && acceptsEventStream(r) {
		if r.Method != http.MethodGet {
			return transportSSE, problem.NewError(http.StatusMethodNotAllowed, "An event stream is opened with GET.")
		}
		if r.ProtoMajor != 1 {
			// Troupe's listener speaks HTTP/1.1; an HTTP/2 stream cannot be
			// detached from its handler.
			return transportSSE, problem.NewError(http.StatusHTTPVersionNotSupported, "Server-Sent Events need HTTP/1.1 here.")
		}
		return transportSSE, nil
	}
	if ep.transports&WebSocket != 0 {
		return transportWebSocket, problem.NewError(http.StatusUpgradeRequired,
			"This endpoint needs a WebSocket upgrade"+ifSSE(ep)+".").WithHeader("Upgrade", "websocket")
	}
	return transportSSE, problem.NewError(http.StatusNotAcceptable, "This endpoint serves text/event-stream only.")
}

func ifSSE(ep *endpoint) string {
	if ep.transports&SSE != 0 {
		return ", or a request that accepts text/event-stream"
	}
	return ""
}

// checkHandshake checks what the WebSocket library would, so that a bad
// handshake gets a problem document rather than the library's plain text.
func checkHandshake(r *http.Request) *problem.Error {
	switch {
	case r.Method != http.MethodGet:
		return problem.NewError(http.StatusMethodNotAllowed, "A WebSocket handshake is a GET request.")
	case !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1:
		return problem.NewError(http.StatusHTTPVersionNotSupported, "A WebSocket handshake needs HTTP/1.1.")
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return problem.NewError(http.StatusBadRequest, "A WebSocket handshake needs Connection: Upgrade.")
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return problem.NewError(http.StatusUpgradeRequired, "Only WebSocket version 13 is supported.").
			WithHeader("Sec-WebSocket-Version", "13")
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return problem.NewError(http.StatusBadRequest, "A WebSocket handshake needs one Sec-WebSocket-Key.")
	}
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0])); err != nil || len(k) != 16 {
		return problem.NewError(http.StatusBadRequest, "Sec-WebSocket-Key must be 16 bytes in base64.")
	}
	return nil
}

// prepare checks what depends on the hub and the principal — Origin, rooms,
// positions, the handler actor, the rooms' join policy — and returns the
// connection to upgrade, or the problem and outcome to refuse it with.
func (ep *endpoint) prepare(h *Hub, r *http.Request) (*conn, *problem.Error, string) {
	if !h.origins.allowed(r) {
		return nil, problem.NewError(http.StatusForbidden, "This origin may not open connections here."), outcomeOrigin
	}
	rooms, err := ep.resolve(r)
	if err != nil {
		return nil, problem.NewError(http.StatusBadRequest, err.Error()), outcomeBadRequest
	}
	positions, err := requestPositions(r)
	if err != nil {
		return nil, problem.NewError(http.StatusBadRequest, err.Error()), outcomeBadRequest
	}
	if ep.handler != "" {
		if _, err := h.sys.Lookup(ep.handler); err != nil {
			return nil, unavailable("The endpoint's handler is not running."), outcomeUnavailable
		}
	}
	p := requestPrincipal(r.Context())
	c := &conn{hub: h, ep: ep, principal: p, key: admissionKey(r, p), params: ep.params(r), lastSeen: new(atomic.Int64)}
	for _, room := range rooms {
		if !c.allowedCtx(r.Context(), opJoin, room) {
			return nil, problem.NewError(http.StatusForbidden, "You may not join this room."), outcomeForbidden
		}
	}
	for _, room := range rooms {
		in := initialRoom{room: room}
		if seq, ok := positions[room]; ok {
			in.since = &seq
		}
		c.initial = append(c.initial, in)
	}
	return c, nil, ""
}

// requestPositions reads where the client resumes: the since query
// parameter, or an EventSource's Last-Event-ID.
func requestPositions(r *http.Request) (map[string]uint64, error) {
	s := r.URL.Query().Get("since")
	if s == "" {
		s = r.Header.Get("Last-Event-ID")
	}
	if s == "" {
		return nil, nil
	}
	return parsePositions(s)
}

// requestPrincipal returns the principal the authentication stage stored
// for the request, or nil.
func requestPrincipal(ctx context.Context) *principal.Principal {
	if info := reqinfo.FromContext(ctx); info != nil {
		p, _ := info.Principal.(*principal.Principal)
		return p
	}
	return nil
}

// admissionKey is whose connection limit a connection counts against: its
// principal's, or for anonymous clients their address's.
func admissionKey(r *http.Request, p *principal.Principal) string {
	if p != nil {
		return "p:" + string(p.Kind) + ":" + p.Subject
	}
	if info := reqinfo.FromContext(r.Context()); info != nil && info.ClientIP != "" {
		return "ip:" + info.ClientIP
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

// upgradeWebSocket completes the handshake and starts the connection.
func (ep *endpoint) upgradeWebSocket(w http.ResponseWriter, r *http.Request, c *conn) error {
	h := c.hub
	mode := websocket.CompressionDisabled
	if h.cfg.Compression {
		mode = websocket.CompressionNoContextTakeover
	}
	sb := &smallBuffers{ResponseWriter: w}
	// The callbacks see only the activity clock: the library's Conn has a
	// finalizer, and a cycle through it back to the conn (Conn → callback
	// → conn → transport → Conn) would never be collected.
	seen, origin := c.lastSeen, h.clock
	touch := func() { seen.Store(int64(time.Since(origin))) }
	ws, err := websocket.Accept(sb, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the Origin was checked in prepare, with problem answers
		CompressionMode:    mode,
		OnPingReceived:     func(context.Context, []byte) bool { touch(); return true },
		OnPongReceived:     func(context.Context, []byte) { touch() },
	})
	if err != nil {
		return err
	}
	ws.SetReadLimit(h.cfg.MaxMessageSize)
	t := &wsTransport{ws: ws, nc: sb.nc, idle: h.cfg.IdleTimeout}
	return c.start(t, transportWebSocket, func() { go t.readLoop(c) })
}

// upgradeSSE sends the event stream's header and takes the socket over.
func (ep *endpoint) upgradeSSE(w http.ResponseWriter, r *http.Request, c *conn) error {
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	// no-transform keeps the compression stage (and proxies) from
	// buffering the stream.
	hd.Set("Cache-Control", "no-store, no-transform")
	hd.Set("Transfer-Encoding", "identity")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return err
	}
	nc, _, err := rc.Hijack()
	if err != nil {
		return err
	}
	t := &sseTransport{nc: nc, idle: c.hub.cfg.IdleTimeout}
	return c.start(t, transportSSE, func() { go t.readLoop(c) })
}

// minConnMailbox is the least a connection actor's mailbox holds. The
// mailbox only hands messages on to the outbound queue, whose bound and
// slow-consumer policy are the ones that matter; it is larger so that a
// burst that arrives before the actor runs reaches the queue and its
// policy rather than being dropped at the door. It costs nothing unused:
// mailboxes grow on demand.
const minConnMailbox = 1024

// start makes an upgraded connection live: its actor, its place in the hub,
// its rooms, the handler's Connected, its heartbeat and its reader.
func (c *conn) start(t transport, tr int, read func()) error {
	h := c.hub
	c.t = t
	c.id = h.idPrefix + strconv.FormatUint(h.nextID.Add(1), 10)
	setUserTimeout(connOf(t), h.cfg.IdleTimeout)
	ref, err := h.sys.SpawnActor("realtime.conn."+c.id, &connActor{c: c},
		actors.WithKind("realtime.conn"), actors.WithoutProcessingMetrics(),
		actors.WithMailboxSize(max(4*h.cfg.OutboundQueue, minConnMailbox)), actors.WithOverflow(actors.DropNewest))
	if err != nil {
		t.close(closeTryAgainLater, "server unavailable")
		return err
	}
	c.ref = ref
	c.touch()
	c.timer = time.AfterFunc(h.cfg.PingInterval, c.heartbeat)
	if !h.add(c) { // Shutdown began during the handshake
		c.timer.Stop()
		_ = h.sys.Stop(ref)
		t.close(closeGoingAway, "server shutting down; reconnect")
		return ErrShuttingDown
	}
	h.stats.active[tr].Add(1)
	h.stats.upgraded(tr, outcomeAccepted)
	member := c.member()
	rooms := make([]string, len(c.initial))
	for i, in := range c.initial {
		rooms[i] = in.room
		_ = h.sendRoom(in.room, &joinRequest{conn: ref, member: member, since: in.since})
	}
	c.initial = nil
	if c.ep.handler != "" {
		c.notify(&Connected{Conn: ref, ID: c.id, Principal: c.principal, Params: c.params,
			Rooms: rooms, Transport: transportNames[tr]})
	}
	read()
	return nil
}

// connOf returns a transport's socket.
func connOf(t transport) net.Conn {
	switch t := t.(type) {
	case *wsTransport:
		return t.nc
	case *sseTransport:
		return t.nc
	}
	return nil
}

// headerHasToken reports whether a comma-separated header field of h
// contains token, case-insensitively.
func headerHasToken(h http.Header, field, token string) bool {
	for _, v := range h.Values(field) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// acceptsEventStream reports whether r's Accept field names
// text/event-stream.
func acceptsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			media, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(media), "text/event-stream") {
				return true
			}
		}
	}
	return false
}
