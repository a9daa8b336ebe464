package state

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

var _ Store = (*Redis)(nil)

// Redis is a Store in Redis, shared by every service instance that uses the
// same server and prefix, and surviving process restarts.
//
// Layout: a key is a hash at prefix+key with two fields, "v" (the value)
// and "r" (its revision), so one command reads both; the string at prefix
// itself is the store's revision counter, which every write increments
// (which is also why the empty key is refused: it would be the counter).
// Writes are Lua scripts, atomic on the server, that increment the counter
// and set the hash, PutIf after comparing the hash's revision. On Redis
// Cluster a script's two keys must share a slot: give the prefix a hash
// tag ("{orders}:kv:").
//
// Each call waits as long as the client and ctx let it. A Troupe service's
// client bounds every command by redis.timeout, without retries, and fails
// at once while Redis is not answering, so a component's kv call on a
// request's path costs at most that budget.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// putScript stores ARGV[1] under KEYS[1] with the next revision of the
// counter KEYS[2], and returns that revision. putIfScript does the same
// only if KEYS[1]'s revision is ARGV[2] ("0": absent), and returns 0
// otherwise.
var (
	putScript = redis.NewScript(`
local r = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'r', r)
return r`)
	putIfScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'r') or '0') ~= ARGV[2] then
	return 0
end
local r = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'r', r)
return r`)
)

// NewRedis returns a store keeping each key under prefix+key in client's
// database, and its revision counter at prefix. The prefix separates
// services (and tests) sharing one server. The caller owns client and
// closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Get returns the value under key, ErrNotFound when there is none, or the
// Redis error: an unreachable server is a failure, never a missing key.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := r.GetEntry(ctx, key)
	return e.Value, err
}

// GetEntry returns the value under key with its revision, ErrNotFound when
// there is none, or the Redis error.
func (r *Redis) GetEntry(ctx context.Context, key string) (Entry, error) {
	if key == "" {
		return Entry{}, ErrInvalidKey
	}
	fields, err := r.client.HMGet(ctx, r.prefix+key, "v", "r").Result()
	if err != nil {
		return Entry{}, fmt.Errorf("state: redis get: %w", err)
	}
	v, ok := fields[0].(string)
	if !ok {
		return Entry{}, ErrNotFound
	}
	rs, _ := fields[1].(string)
	rev, err := strconv.ParseUint(rs, 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("state: redis get: key %q has a bad revision %q", key, rs)
	}
	return Entry{Value: []byte(v), Revision: rev}, nil
}

// Put stores value under key, without expiry.
func (r *Redis) Put(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return ErrInvalidKey
	}
	if err := putScript.Run(ctx, r.client, []string{r.prefix + key, r.prefix}, value).Err(); err != nil {
		return fmt.Errorf("state: redis put: %w", err)
	}
	return nil
}

// PutIf stores value under key if the key's revision is revision (0: if
// it is absent), and returns the new revision; else ErrConflict.
func (r *Redis) PutIf(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	if key == "" {
		return 0, ErrInvalidKey
	}
	rev, err := putIfScript.Run(ctx, r.client, []string{r.prefix + key, r.prefix}, value, strconv.FormatUint(revision, 10)).Uint64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("state: redis put: %w", err)
	case rev == 0:
		return 0, ErrConflict
	}
	return rev, nil
}

// Delete removes key; a missing key is not an error.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if key == "" {
		return ErrInvalidKey
	}
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("state: redis del: %w", err)
	}
	return nil
}
