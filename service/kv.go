package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/natsnode"
)

// Backends of actors.components.kv_store once "auto" is resolved.
const (
	kvMemory = "memory"
	kvRedis  = "redis"
	kvNATS   = "nats"
)

// componentsKV resolves actors.components.kv_store: "auto" is JetStream
// KV when the service's NATS is on for its own sake (natsWanted: an
// external NATS, an embedded cluster, WithNATS), else Redis when
// redis.url is set, else memory. "" means components are off.
func componentsKV(c *config.Config, o *options) string {
	kv := c.Actors.Components.KVStore
	switch {
	case c.Actors.Components.Dir == "":
		return ""
	case kv != "auto":
		return kv
	case natsWanted(c, o):
		return kvNATS
	case c.Redis.URL != "":
		return kvRedis
	}
	return kvMemory
}

// componentStore is the KV backend of actors.components.kv_store.
func componentStore(b *builder) state.Store {
	c := b.cfg.Actors.Components
	switch componentsKV(b.cfg, &b.s.opts) {
	case kvRedis:
		return state.NewRedis(b.redis, "troupe:"+b.s.name+":kv:")
	case kvNATS:
		s := &natsStore{run: b.nats, bucket: "troupe_" + b.s.name + "_kv", wait: b.cfg.NATS.ConnectTimeout,
			optional: b.cfg.NATS.Optional, logger: b.logger, source: b.s.effective.Source,
			name: "kv", key: "actors.components.kv_store", purpose: "component state (actors.components.kv_store)",
			why: `is "nats" (or "auto" with NATS on), but`}
		b.run(s)
		return s
	}
	return state.NewMemory(c.KVMaxKeys)
}

var _ state.Store = (*natsStore)(nil)

// natsStore is the components' store in JetStream KV, one bucket,
// "troupe_<service>_kv", with min(3, cluster size) replicas in an embedded
// cluster (natsnode.Node.Replicas) and nats.jetstream.store's storage. The
// bucket can only be opened once NATS is up, in Run, so the store is made
// in New and opens its bucket at start: after the nats run, before the
// components spawn. Start waits up to nats.connect_timeout (a cluster
// places replicas once a majority of its nodes run) and fails naming
// actors.components.kv_store — unless nats.optional, where the service
// starts anyway and the bucket opens on the first kv call after NATS is
// back.
type natsStore struct {
	run      *natsRun
	bucket   string
	wait     time.Duration
	optional bool
	logger   *slog.Logger
	source   func(key string) string
	// name is the run's; key the config key a failure to open names,
	// purpose the store's in logs and the bucket's description, why the
	// start of the failure's text.
	name, key, purpose, why string

	opening sync.Mutex // held by the one call opening the bucket
	// queue makes calls wait (within their context) for the one opening
	// the bucket rather than fail: for a store opened on first use.
	queue bool
	store atomic.Pointer[state.JetStream]
}

func (s *natsStore) Name() string { return s.name }

func (s *natsStore) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	if node := s.run.current(); s.optional && (node == nil || node.Check(ctx) != nil) {
		s.logger.Warn(s.purpose+": NATS is down; the JetStream bucket opens on the first call after it is back", "bucket", s.bucket)
		return nil
	}
	_, err := s.open(ctx)
	switch {
	case err == nil:
		return nil
	case s.optional:
		s.logger.Warn(s.purpose+": JetStream bucket not open; retried on the next call", "bucket", s.bucket, "error", err)
		return nil
	}
	return &config.Error{Key: s.key, Source: s.source(s.key),
		Err: fmt.Errorf(`%s the JetStream bucket %s did not open within nats.connect_timeout (%s): %w`, s.why, s.bucket, s.wait, err)}
}

// Stop does nothing: the bucket outlives the service, and the components
// stopping after this may still use it until NATS closes.
func (s *natsStore) Stop(context.Context) error { return nil }

// errOpening fails a kv call while another call is opening the bucket,
// rather than queueing every call behind a slow open.
var errOpening = errors.New("the JetStream bucket is being opened")

// open returns the store, opening its bucket within ctx if need be.
func (s *natsStore) open(ctx context.Context) (*state.JetStream, error) {
	if st := s.store.Load(); st != nil {
		return st, nil
	}
	if !s.opening.TryLock() {
		if !s.queue {
			return nil, errOpening
		}
		if err := lockWithin(ctx, &s.opening); err != nil {
			return nil, err
		}
	}
	defer s.opening.Unlock()
	if st := s.store.Load(); st != nil {
		return st, nil
	}
	node := s.run.current()
	if node == nil {
		return nil, natsnode.ErrUnavailable
	}
	st, err := state.NewJetStream(ctx, node.JetStream(), state.JetStreamConfig{
		Bucket: s.bucket, Description: "Troupe " + s.purpose,
		Replicas: node.Replicas(), Storage: node.Storage(), OpenTimeout: s.wait,
	})
	if err != nil {
		return nil, err
	}
	s.store.Store(st)
	return st, nil
}

func (s *natsStore) Get(ctx context.Context, key string) ([]byte, error) {
	st, err := s.open(ctx)
	if err != nil {
		return nil, notOpen(err)
	}
	return st.Get(ctx, key)
}

func (s *natsStore) GetEntry(ctx context.Context, key string) (state.Entry, error) {
	st, err := s.open(ctx)
	if err != nil {
		return state.Entry{}, notOpen(err)
	}
	return st.GetEntry(ctx, key)
}

func (s *natsStore) Put(ctx context.Context, key string, value []byte) error {
	st, err := s.open(ctx)
	if err != nil {
		return notOpen(err)
	}
	return st.Put(ctx, key, value)
}

func (s *natsStore) PutIf(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	st, err := s.open(ctx)
	if err != nil {
		return 0, notOpen(err)
	}
	return st.PutIf(ctx, key, value, revision)
}

func (s *natsStore) Delete(ctx context.Context, key string) error {
	st, err := s.open(ctx)
	if err != nil {
		return notOpen(err)
	}
	return st.Delete(ctx, key)
}

// notOpen wraps the reason a call found no bucket.
func notOpen(err error) error { return fmt.Errorf("state: JetStream bucket not open: %w", err) }

// lockWithin takes mu, giving up when ctx ends first.
func lockWithin(ctx context.Context, mu *sync.Mutex) error {
	for !mu.TryLock() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}
