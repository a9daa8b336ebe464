package service

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/adrg/xdg"
	"github.com/nats-io/nats.go"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/natsnode"
)

// WithNATS starts the service's NATS even when no feature needs it, for
// application code that uses NATS itself through Service.NATS: the
// embedded server when nats.url is empty, else the external NATS.
func WithNATS() Option { return func(o *options) { o.nats = true } }

// NATS returns the service's NATS connection while Run has it open: nil
// before the service has started, after it has stopped, and when nothing
// uses NATS (see WithNATS). It reconnects by itself; do not close it.
// While it is disconnected a publish fails at once rather than queueing.
func (s *Service) NATS() *nats.Conn {
	if s.nats == nil {
		return nil
	}
	return s.nats.conn()
}

// natsPart runs the service's NATS (internal/natsnode) when something uses
// it (usesNATS): an embedded nats-server in the process, alone or
// clustered with other processes' over routes, or a connection to the
// external NATS of nats.url. The node starts in Run, after the listeners
// are bound (New binds nothing, and a clustered server binds its route
// port), and before the parts built after this one start, so they find the
// connection up. It stops after them — after the actors — draining the
// connection within http.shutdown_timeout, and before the telemetry
// providers flush in the release phase. Readiness shows it as "nats":
// failing while the connection is down, or warning with nats.optional.
type natsPart struct{}

// natsKeys maps the natsnode.Config fields whose keys fielderr.Key cannot
// spell ("JetStream" is one word in a key).
var natsKeys = map[string]string{
	"JetStream.Store":    "nats.jetstream.store",
	"JetStream.Dir":      "nats.jetstream.dir",
	"JetStream.Replicas": "-",
}

func (natsPart) check(c *checker) {
	c.fields("nats", natsConfig(c.cfg, "").Validate(), natsKeys)
}

func (natsPart) build(b *builder) {
	if !usesNATS(b.cfg, &b.s.opts) {
		return
	}
	cfg := natsConfig(b.cfg, b.s.name)
	cfg.Logger = b.logger
	if b.tel.MetricsEnabled() {
		cfg.MeterProvider = b.tel.MeterProvider()
	}
	r := &natsRun{cfg: cfg, optional: b.cfg.NATS.Optional, connectTimeout: b.cfg.NATS.ConnectTimeout, source: b.s.effective.Source}
	b.nats = r
	b.ready("nats", r.check, b.cfg.NATS.Optional)
	b.run(r)
}

// usesNATS reports whether anything needs NATS: natsWanted, or the
// components keep their state in JetStream (actors.components.kv_store).
// A feature that needs NATS adds its condition here, and its part, built
// after natsPart, finds the run in builder.nats.
func usesNATS(c *config.Config, o *options) bool {
	return natsWanted(c, o) || componentsKV(c, o) == kvNATS
}

// natsWanted reports whether NATS is on for its own sake: an external NATS
// is configured, the embedded server is to form a cluster, or the
// application asked (WithNATS). Stores set to "auto" follow it.
func natsWanted(c *config.Config, o *options) bool {
	return o.nats || c.NATS.URL != "" || c.NATS.Cluster.Listen != ""
}

// natsConfig is [nats] as natsnode takes it, with the service's defaults:
// the connection and the cluster are named after the service, and an
// embedded file store lives in $XDG_STATE_HOME/<service>/nats. A memory
// store gets no directory unless nats.jetstream.dir names one, so it
// writes nothing there.
func natsConfig(c *config.Config, service string) natsnode.Config {
	n := c.NATS
	out := natsnode.Config{
		URL: n.URL, Name: n.Name,
		Token: n.Token, User: n.User, Password: n.Password, NkeySeed: n.NkeySeed, Creds: n.Creds,
		TLS:        natsnode.TLSConfig{CAFile: n.TLS.CAFile, CertFile: n.TLS.CertFile, KeyFile: n.TLS.KeyFile, MinVersion: n.TLS.MinVersion},
		MaxPayload: int64(n.MaxPayload),
		Listen:     n.Listen, ServerName: n.ServerName,
		JetStream: natsnode.JetStreamConfig{Store: n.JetStream.Store, Dir: n.JetStream.Dir},
		Cluster: natsnode.ClusterConfig{
			Listen: n.Cluster.Listen, Routes: n.Cluster.Routes, Name: n.Cluster.Name,
			User: n.Cluster.User, Password: n.Cluster.Password,
		},
	}
	if out.Name == "" {
		out.Name = service
	}
	if n.URL == "" && n.JetStream.Dir == "" && n.JetStream.Store == natsnode.StoreFile {
		out.JetStream.Dir = filepath.Join(xdg.StateHome, service, "nats")
	}
	if n.URL == "" && n.Cluster.Listen != "" && n.Cluster.Name == "" {
		out.Cluster.Name = service
	}
	return out
}

// natsRun starts and stops the node; the readiness check and Service.NATS
// read it.
type natsRun struct {
	cfg            natsnode.Config
	optional       bool
	connectTimeout time.Duration
	source         func(key string) string

	mu   sync.Mutex
	node *natsnode.Node
}

func (r *natsRun) Name() string { return "nats" }

// Start starts the node. Unless nats.optional, it waits up to
// nats.connect_timeout for an external NATS, so that a service whose
// NATS is unreachable or refuses its credentials fails to start, naming
// nats.url and the last connection error.
func (r *natsRun) Start(ctx context.Context) error {
	node, err := natsnode.Start(ctx, r.cfg)
	if err != nil {
		var errs config.Errors
		byKey("nats", err, natsKeys, func(key string, err error) {
			errs = append(errs, &config.Error{Key: key, Source: r.source(key), Err: err})
		})
		return errs
	}
	if !r.optional && !node.Embedded() {
		wait, cancel := context.WithTimeout(ctx, r.connectTimeout)
		err := node.WaitConnected(wait)
		cancel()
		if err != nil {
			_ = node.Close(context.Background()) // not connected: nothing to drain
			return &config.Error{Key: "nats.url", Source: r.source("nats.url"),
				Err: fmt.Errorf("no connection within nats.connect_timeout (%s), and nats.optional is false: %w", r.connectTimeout, err)}
		}
	}
	r.mu.Lock()
	r.node = node
	r.mu.Unlock()
	return nil
}

// Stop drains the connection within ctx, then stops the embedded server.
func (r *natsRun) Stop(ctx context.Context) error {
	r.mu.Lock()
	node := r.node
	r.node = nil
	r.mu.Unlock()
	if node == nil {
		return nil
	}
	return node.Close(ctx)
}

// check is the "nats" readiness check.
func (r *natsRun) check(ctx context.Context) error {
	node := r.current()
	if node == nil {
		return natsnode.ErrUnavailable
	}
	return node.Check(ctx)
}

// conn returns the open node's connection, or nil.
func (r *natsRun) conn() *nats.Conn {
	if node := r.current(); node != nil {
		return node.Conn()
	}
	return nil
}

// current returns the open node, or nil before Start and after Stop.
func (r *natsRun) current() *natsnode.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node
}
