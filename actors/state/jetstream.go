package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var _ Store = (*JetStream)(nil)

// JetStream is a Store in a NATS JetStream KV bucket: shared by every node
// of a cluster, replicated by JetStream (Raft) when the bucket has
// replicas, so a component's state survives its node and follows it to
// another. A revision is the bucket stream's sequence number. Keys are
// escaped into KV's key charset (see escapeKey's file).
//
// One bucket holds the whole store, components and namespaces apart by
// key prefix, rather than a bucket per namespace: a bucket is a stream,
// and replicated a Raft group of its own with its own leader election and
// heartbeats, so a bucket per namespace would multiply them with the
// components a service loads, and would put a bucket's creation on the
// path of a component's first kv call (BenchmarkJetStreamOpen: 0.4 ms
// for an in-memory bucket on the embedded server, 67 ms for three
// replicas on a three-server cluster, against 30-46 µs for a Get, Put or
// PutIf; docs/benchmarks.md#state-stores).
//
// Reads of a replicated bucket may be served by any replica (KV buckets
// allow direct gets), so a Get right after another node's write can
// return the previous value; PutIf is checked by the stream's leader and
// never acts on a stale revision.
//
// A Delete leaves a small delete marker per key, as JetStream KV does,
// until the key is written again.
type JetStream struct {
	kv jetstream.KeyValue
}

// JetStreamConfig describes a JetStream store's bucket.
type JetStreamConfig struct {
	// Bucket is the KV bucket's name: letters, digits, '-' and '_', at
	// most 255 bytes.
	Bucket string
	// Description is stored with the bucket, for operators.
	Description string
	// Replicas is how many servers keep a copy, 1 to 5; 0 means 1. In a
	// cluster, min(3, servers) survives the loss of one.
	Replicas int
	// Storage is where the bucket keeps its data; the zero value is
	// jetstream.FileStorage.
	Storage jetstream.StorageType
	// OpenTimeout bounds NewJetStream's retries while JetStream is not
	// ready yet; 0 means DefaultOpenTimeout. The caller's context can end
	// them sooner.
	OpenTimeout time.Duration
}

// DefaultOpenTimeout is JetStreamConfig.OpenTimeout's default: a cluster
// of embedded servers elects its JetStream leader within seconds of a
// majority of its nodes running.
const DefaultOpenTimeout = 30 * time.Second

// validBucketName is nats.go's rule for a bucket name, 1 to 255 of
// [a-zA-Z0-9_-]. A loop rather than nats.go's regexp: the bounded repeat
// compiles to 255 copies of the class, 240 KB of heap at every process's
// init whether or not a JetStream store is ever opened.
func validBucketName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewJetStream opens the store's bucket, creating it with cfg when it
// does not exist. An existing bucket is used as it is, so a bucket an
// operator made (more replicas on an external cluster, limits) keeps its
// settings, and nodes starting with different settings do not fight over
// it. A JetStream that is not ready yet — a cluster still electing its
// leader, or with too few servers up to place the replicas ("no suitable
// peers", "insufficient resources") — is retried with backoff until
// cfg.OpenTimeout or ctx ends; any other refusal is returned at once.
func NewJetStream(ctx context.Context, js jetstream.JetStream, cfg JetStreamConfig) (*JetStream, error) {
	if !validBucketName(cfg.Bucket) {
		return nil, fmt.Errorf("state: bucket name %q: use 1 to 255 letters, digits, '-' and '_'", cfg.Bucket)
	}
	if cfg.Replicas < 0 || cfg.Replicas > 5 {
		return nil, fmt.Errorf("state: bucket %s: replicas must be 1 to 5, got %d", cfg.Bucket, cfg.Replicas)
	}
	kvc := jetstream.KeyValueConfig{
		Bucket: cfg.Bucket, Description: cfg.Description,
		History: 1, Replicas: max(cfg.Replicas, 1), Storage: cfg.Storage,
	}
	timeout := cfg.OpenTimeout
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		kv, err := openBucket(ctx, js, kvc)
		if err == nil {
			return &JetStream{kv: kv}, nil
		}
		if !notReady(err) {
			return nil, fmt.Errorf("state: opening bucket %s: %w", cfg.Bucket, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("state: opening bucket %s: JetStream not ready within %s: %w", cfg.Bucket, timeout, err)
		case <-time.After(wait):
		}
	}
}

// attemptTimeout bounds one attempt to open the bucket: a server without
// a JetStream leader may leave a request unanswered.
const attemptTimeout = 5 * time.Second

// openBucket opens the bucket, or creates it when there is none. Of nodes
// racing to create it, those that lose find it made.
func openBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	kv, err = js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, cfg.Bucket)
	}
	return kv, err
}

// notReady reports the errors of a JetStream still starting: no leader
// yet, too few servers to place the replicas, or no answer at all.
func notReady(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode {
		case 10005, // no suitable peers for placement
			10008, // JetStream system temporarily unavailable
			10009, // JetStream cluster can not handle request (no leader)
			10023, // insufficient resources
			jetstream.JSErrCodeJetStreamNotEnabled:
			return true
		}
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

// Get returns the value under key, ErrNotFound when there is none, or the
// NATS error: an unreachable server is a failure, never a missing key.
func (s *JetStream) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.GetEntry(ctx, key)
	return e.Value, err
}

// GetEntry returns the value under key with its revision, ErrNotFound when
// there is none, or the NATS error.
func (s *JetStream) GetEntry(ctx context.Context, key string) (Entry, error) {
	k, err := escapeKey(key)
	if err != nil {
		return Entry{}, err
	}
	e, err := s.kv.Get(ctx, k)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return Entry{}, ErrNotFound
	case err != nil:
		return Entry{}, fmt.Errorf("state: jetstream get: %w", err)
	}
	return Entry{Value: e.Value(), Revision: e.Revision()}, nil
}

// Put stores value under key.
func (s *JetStream) Put(ctx context.Context, key string, value []byte) error {
	k, err := escapeKey(key)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, k, value); err != nil {
		return fmt.Errorf("state: jetstream put: %w", err)
	}
	return nil
}

// PutIf stores value under key if the key's revision is revision (0: if
// it is absent or deleted), and returns the new revision; else
// ErrConflict. The stream checks the revision as it appends ("expected
// last subject sequence"), so of racing writers exactly one lands.
func (s *JetStream) PutIf(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	k, err := escapeKey(key)
	if err != nil {
		return 0, err
	}
	var rev uint64
	if revision == 0 {
		rev, err = s.kv.Create(ctx, k, value)
	} else {
		rev, err = s.kv.Update(ctx, k, value, revision)
	}
	switch {
	case conflict(err):
		return 0, ErrConflict
	case err != nil:
		return 0, fmt.Errorf("state: jetstream put: %w", err)
	}
	return rev, nil
}

// conflict reports a write the stream refused because the key's last
// revision was not the expected one: code 10071, or 10164 from a
// replicated stream, however nats.go wrapped it.
func conflict(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// Delete removes key; a missing key is not an error.
func (s *JetStream) Delete(ctx context.Context, key string) error {
	k, err := escapeKey(key)
	if err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, k); err != nil {
		return fmt.Errorf("state: jetstream delete: %w", err)
	}
	return nil
}
