package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/realtime"
)

// WithRealtime adds options to the service's realtime hub — rooms with
// history and presence (realtime.WithRooms), above all — and builds the hub
// even when no route needs it, for an application that only publishes.
func WithRealtime(opts ...realtime.Option) Option {
	return func(o *options) {
		o.realtime = append(o.realtime, opts...)
		o.realtimeOn = true
	}
}

// Realtime returns the service's realtime hub, for publishing to rooms
// (hub.Publish): nil when the API has no WS or SSE route and WithRealtime
// was not given. Request handlers find it with realtime.FromContext too.
func (s *Service) Realtime() *realtime.Hub { return s.hub }

// realtimePart builds the realtime hub from [realtime] when the API has a
// WS or SSE route (or the application asked for it): its connection
// limits, its metrics, the CORS allow-list as its Origin allow-list and the
// Cedar policies as its authorizer of joins and publications. The hub is
// put in every request's context, counts in readiness, and shuts down —
// 1001 and a reconnect hint to every client — before the actors stop.
type realtimePart struct{}

func (realtimePart) check(c *checker) {
	rc, err := realtimeConfig(c.cfg.Realtime)
	if err != nil {
		c.fail("realtime.slow_consumer", err)
		return
	}
	c.fields("realtime", rc.Validate(), nil)
}

func (realtimePart) build(b *builder) {
	if !b.s.opts.realtimeOn && !b.routes.hasRealtime() {
		return
	}
	rc, _ := realtimeConfig(b.cfg.Realtime) // checked
	opts := []realtime.Option{realtime.WithLogger(b.logger), realtime.WithAllowedOrigins(b.cfg.CORS.AllowOrigins...)}
	if b.tel.MetricsEnabled() {
		opts = append(opts, realtime.WithMeterProvider(b.tel.MeterProvider()))
	}
	if b.authorizer != nil {
		opts = append(opts, realtime.WithAuthorizer(roomAuthorizer(b.authorizer)))
	}
	hub, err := realtime.New(b.actors, rc, append(opts, b.s.opts.realtime...)...)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("realtime: %w", err)) // a WithRealtime option's mistake
		return
	}
	b.hub = hub
	b.ready("realtime", hub.Ready, false)
	b.run(&realtimeRun{hub: hub, sys: b.actors, log: b.logger})
}

// realtimeConfig is [realtime] as the hub takes it.
func realtimeConfig(r config.Realtime) (realtime.Config, error) {
	c := realtime.DefaultConfig()
	err := c.SlowConsumer.UnmarshalText([]byte(r.SlowConsumer))
	c.MaxConnections, c.MaxConnectionsPerPrincipal = r.MaxConnections, r.MaxConnectionsPerPrincipal
	c.MaxMessageSize, c.InboundRate, c.OutboundQueue = r.MaxMessageSize.Int64(), r.InboundRate, r.OutboundQueue
	c.PingInterval, c.IdleTimeout, c.ShutdownTimeout = r.PingInterval, r.IdleTimeout, r.ShutdownTimeout
	c.Compression = r.Compression
	return c, err
}

// roomEntityType is the Cedar entity type of a room: a join of chat.lobby
// asks for Action::"join" on Room::"chat.lobby".
const roomEntityType = "Room"

// roomAuthorizer asks the service's Cedar policies about a join or a
// publication. An anonymous connection is refused, as authz refuses a
// request without a principal: with policies in force, rooms need a token.
func roomAuthorizer(a *authz.Authorizer) realtime.Authorizer {
	return func(ctx context.Context, p *authz.Principal, action, room string) error {
		d, err := a.Authorize(ctx, authz.Request{
			Principal: p, Action: action,
			Resource: cedar.NewEntityUID(roomEntityType, cedar.String(room)),
			Context:  authz.RequestContext{Time: time.Now()},
		})
		switch {
		case err != nil:
			return err
		case !d.Allowed:
			return fmt.Errorf("denied by the policies (%v)", d.Reasons)
		}
		return nil
	}
}

// realtimeRun starts the bridge that lets WASM components publish to
// rooms, once the actors run, and shuts the hub down with the service.
type realtimeRun struct {
	hub *realtime.Hub
	sys *actors.System
	log *slog.Logger
}

func (r *realtimeRun) Name() string { return "realtime" }

func (r *realtimeRun) Start(context.Context) error {
	_, err := spawnRoomPublisher(r.sys, r.hub, r.log)
	return err
}

// Stop sends every client 1001 and a reconnect hint and waits, within
// realtime.shutdown_timeout (and the shutdown's own deadline), for them to
// close.
func (r *realtimeRun) Stop(ctx context.Context) error { return r.hub.Shutdown(ctx) }
