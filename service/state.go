package service

import (
	"errors"
	"fmt"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
)

// entitySpec is a sharded entity kind WithEntity registered.
type entitySpec struct {
	kind     string
	producer actors.EntityProducer
	opts     []actors.SpawnOption
}

// WithEntity registers the sharded entity kind (virtual actors, see
// actors.WithSharding): svc.Actors().Entity(kind, key) reaches the entity
// key, activated on its first message by p(key) — on this node, or in a
// cluster (actors.cluster.enabled) on the one node that takes its lease —
// and passivated after actors.sharding.idle_timeout without a message.
// The same code runs on one node and many. Keep what must outlive an
// activation in svc.State().
//
// It is an option rather than a System method because the service makes
// its actor System in New, from [actors], and registers kinds there, so
// every node knows every kind before its first message can arrive.
func WithEntity(kind string, p actors.EntityProducer, opts ...actors.SpawnOption) Option {
	return func(o *options) {
		o.entityKinds = append(o.entityKinds, entitySpec{kind: kind, producer: p, opts: opts})
	}
}

// checkEntities rejects WithEntity registrations that cannot work.
func checkEntities(specs []entitySpec) error {
	var errs []error
	seen := map[string]bool{}
	for _, e := range specs {
		switch err := actors.CheckEntityKind(e.kind); {
		case err != nil:
			errs = append(errs, fmt.Errorf("WithEntity: %w", err))
		case e.producer == nil:
			errs = append(errs, fmt.Errorf("entity kind %q: nil producer", e.kind))
		case seen[e.kind]:
			errs = append(errs, fmt.Errorf("entity kind %q: registered twice", e.kind))
		}
		seen[e.kind] = true
	}
	return errors.Join(errs...)
}

// shardingOptions are the actor System's options for the WithEntity kinds.
func shardingOptions(specs []entitySpec) []actors.Option {
	opts := make([]actors.Option, len(specs))
	for i, e := range specs {
		opts[i] = actors.WithSharding(e.kind, e.producer, e.opts...)
	}
	return opts
}

// State returns the service's store for application state — sharded
// entities' first of all, whose state must survive passivation and a move
// to another node. It is chosen like actors.components.kv_store's "auto":
// JetStream KV, bucket "troupe_<service>_state", when the service's NATS
// is on for its own sake (nats.url, nats.cluster.listen,
// actors.cluster.enabled, WithNATS); else Redis, keys
// "troupe:<service>:state:<key>", when redis.url is set; else process
// memory. It is apart from the components' store (their keys cannot
// reach the application's). On JetStream the bucket opens on the first
// call (calls meanwhile wait, within their context), so a service that
// never uses State creates no bucket (see docs/cluster.md).
func (s *Service) State() state.Store { return s.state }

// appStore makes the store State returns.
func appStore(b *builder) state.Store {
	switch {
	case natsWanted(b.cfg, &b.s.opts):
		return &natsStore{run: b.nats, bucket: "troupe_" + b.s.name + "_state", wait: b.cfg.NATS.ConnectTimeout,
			logger: b.logger, purpose: "application state (Service.State)", queue: true}
	case b.cfg.Redis.URL != "":
		return state.NewRedis(b.redis, "troupe:"+b.s.name+":state:")
	}
	return state.NewMemory(0)
}
