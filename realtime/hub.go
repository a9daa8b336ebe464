package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/problem"
	"github.com/troupehq/troupe/resilience"
)

// ErrShuttingDown is returned by Publish, and is what an upgrade is refused
// with (503), once Shutdown has begun.
var ErrShuttingDown = errors.New("realtime: shutting down")

// Authorizer decides whether p may perform action — "join" or "publish" —
// on room, returning nil to allow. A Troupe service plugs its Cedar
// policies in here, with the action Action::"join" or Action::"publish" and
// the resource Room::"<room>". It must be safe for concurrent use.
type Authorizer func(ctx context.Context, p *principal.Principal, action, room string) error

// Hub holds one process's realtime connections and rooms: it admits
// upgrades under the connection limits, owns the rooms' actors, records the
// metrics, and shuts every connection down in order. Create one with New;
// a Troupe service creates it from its [realtime] section and puts it in
// every request's context, where Handler finds it.
type Hub struct {
	sys       *actors.System
	cfg       Config
	log       *slog.Logger
	authorize Authorizer
	origins   originPolicy
	roomCfg   []RoomConfig
	inbound   resilience.Limit
	metrics   *instruments
	clock     time.Time // origin of the monotonic readings conns keep
	idPrefix  string    // "c" and this hub's random tag: connection ids are "ck7q2xa-42"
	nextID    atomic.Uint64

	mu          sync.Mutex
	conns       map[*conn]struct{}
	byPrincipal map[string]int
	reserved    int // admitted: upgrading or open
	closing     bool
	drained     chan struct{} // closed when closing and reserved reaches 0

	rooms roomTable
	stats stats
}

// Option configures a Hub at New.
type Option func(*Hub)

// WithAuthorizer sets the authorizer of joins and publications that
// clients ask for. Without one, every connection that passed the route's
// own authorization may join and publish in any room it names.
func WithAuthorizer(a Authorizer) Option { return func(h *Hub) { h.authorize = a } }

// WithAllowedOrigins lets browsers on these origins (scheme://host[:port],
// or "*" for any) open connections. A page's own origin — the request's
// Host — is always allowed; any other Origin is refused with 403 before
// the upgrade, since browsers apply no CORS check to WebSockets and a
// foreign page could otherwise act with the user's cookies. A Troupe
// service passes its cors.allow_origins.
func WithAllowedOrigins(origins ...string) Option {
	return func(h *Hub) { h.origins.allow = append(h.origins.allow, origins...) }
}

// WithMeterProvider records the realtime metrics (troupe.realtime.*)
// through mp.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(h *Hub) { h.metrics = newInstruments(mp) }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(h *Hub) { h.log = l } }

// WithRooms configures rooms by name pattern: history and presence. A room
// takes the first config whose pattern matches its name; rooms no pattern
// matches keep no history and track no presence.
func WithRooms(rooms ...RoomConfig) Option {
	return func(h *Hub) { h.roomCfg = append(h.roomCfg, rooms...) }
}

// New returns a Hub for sys with the limits of cfg, or the error of
// cfg.Validate, or of a RoomConfig or allowed origin that is not valid.
func New(sys *actors.System, cfg Config, opts ...Option) (*Hub, error) {
	if sys == nil {
		return nil, errors.New("realtime: New: nil actor system")
	}
	h := &Hub{
		sys: sys, cfg: cfg, log: slog.Default(), clock: time.Now(), idPrefix: connIDPrefix(),
		conns: make(map[*conn]struct{}), byPrincipal: make(map[string]int),
		drained: make(chan struct{}),
		inbound: resilience.Limit{Rate: cfg.InboundRate, Period: time.Second},
	}
	for _, o := range opts {
		o(h)
	}
	errs := []error{cfg.Validate()}
	for i, rc := range h.roomCfg {
		if err := rc.validate(); err != nil {
			errs = append(errs, fmt.Errorf("realtime: room config %d: %w", i, err))
		}
	}
	if err := h.origins.compile(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if h.metrics == nil {
		h.metrics = newInstruments(nil)
	}
	h.stats.init()
	h.metrics.observe(h)
	h.rooms.init()
	return h, nil
}

// Config returns the hub's limits.
func (h *Hub) Config() Config { return h.cfg }

// Connections returns the number of open connections.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Ready is the hub's readiness check: an error while the hub is full —
// MaxConnections reserved — or shutting down, so a load balancer sends new
// clients to an instance with room for them.
func (h *Hub) Ready(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closing:
		return ErrShuttingDown
	case h.reserved >= h.cfg.MaxConnections:
		return fmt.Errorf("realtime: %d connections, the limit (max_connections)", h.reserved)
	}
	return nil
}

// retryAfter is what a refused upgrade tells the client to wait: long
// enough for a load balancer to have noticed a full instance's failing
// readiness, short enough that a user barely notices.
const retryAfter = 5 * time.Second

// admit reserves a connection slot for key — "p:<subject>" or "ip:<addr>"
// — under the limits, or returns the problem to refuse the upgrade with.
func (h *Hub) admit(key string) (*problem.Error, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closing:
		return unavailable("The server is shutting down; reconnect to another instance."), outcomeShuttingDown
	case h.reserved >= h.cfg.MaxConnections:
		return unavailable("The server has no room for more connections."), outcomeNodeLimit
	case h.byPrincipal[key] >= h.cfg.MaxConnectionsPerPrincipal:
		pe := problem.NewError(http.StatusTooManyRequests, "Too many open connections for this client.")
		return pe.WithHeader("Retry-After", strconv.Itoa(int(retryAfter/time.Second))), outcomePrincipalLimit
	}
	h.reserved++
	h.byPrincipal[key]++
	return nil, ""
}

// release gives back the slot admit reserved for key.
func (h *Hub) release(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reserved--
	if n := h.byPrincipal[key] - 1; n > 0 {
		h.byPrincipal[key] = n
	} else if delete(h.byPrincipal, key); len(h.byPrincipal) == 0 {
		h.byPrincipal = make(map[string]int) // see remove
	}
	if h.closing && h.reserved == 0 {
		close(h.drained)
	}
}

// add registers an open connection, or reports false once Shutdown has
// begun: an upgrade that raced with it must close at once.
func (h *Hub) add(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

// remove unregisters a closed connection. An emptied map is replaced: Go
// maps keep their high-water size, and a burst of 100,000 connections
// would otherwise leave megabytes of empty slots behind.
func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	if len(h.conns) == 0 {
		h.conns = make(map[*conn]struct{})
	}
	h.mu.Unlock()
}

// unavailable is the 503 of a refused upgrade.
func unavailable(detail string) *problem.Error {
	pe := problem.NewError(http.StatusServiceUnavailable, detail)
	return pe.WithHeader("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
}

// now reads the hub's monotonic clock.
func (h *Hub) now() time.Duration { return time.Since(h.clock) }

type hubKey struct{}

// NewContext returns a copy of ctx carrying h, for Handler to find. A
// Troupe service puts its hub in its HTTP server's base context.
func NewContext(ctx context.Context, h *Hub) context.Context {
	return context.WithValue(ctx, hubKey{}, h)
}

// FromContext returns the Hub stored by NewContext, or nil.
func FromContext(ctx context.Context) *Hub {
	h, _ := ctx.Value(hubKey{}).(*Hub)
	return h
}
