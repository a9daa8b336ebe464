package state_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/troupehq/troupe/actors/state"
)

func ExampleNewMemory() {
	ctx := context.Background()
	store := state.NewMemory(2) // at most two keys; never evicts

	_ = store.Put(ctx, "orders/cart/alice", []byte(`{"items":3}`))
	v, _ := store.Get(ctx, "orders/cart/alice")
	fmt.Println(string(v))

	_, err := store.Get(ctx, "orders/cart/bob")
	fmt.Println(errors.Is(err, state.ErrNotFound))

	_ = store.Put(ctx, "orders/cart/bob", nil)
	err = store.Put(ctx, "orders/cart/carol", nil)
	fmt.Println(errors.Is(err, state.ErrFull))
	// Output:
	// {"items":3}
	// true
	// true
}

func ExampleNewRedis() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	// Every key lands in Redis as "orders:" + key, so services sharing the
	// server keep apart.
	var store state.Store = state.NewRedis(client, "orders:")
	_ = store.Put(context.Background(), "orders/cart/alice", []byte(`{"items":3}`))
}

// A read-modify-write loop without a lock: PutIf writes only if nobody
// wrote since GetEntry, else it reports ErrConflict and the loop reads
// again.
func ExampleStore_PutIf() {
	ctx := context.Background()
	var store state.Store = state.NewMemory(0)

	increment := func() error {
		for {
			e, err := store.GetEntry(ctx, "orders/stats/count") // ErrNotFound: revision 0
			if err != nil && !errors.Is(err, state.ErrNotFound) {
				return err
			}
			n, _ := strconv.Atoi(string(e.Value))
			_, err = store.PutIf(ctx, "orders/stats/count", []byte(strconv.Itoa(n+1)), e.Revision)
			if !errors.Is(err, state.ErrConflict) {
				return err
			}
		}
	}
	for range 3 {
		_ = increment()
	}
	v, _ := store.Get(ctx, "orders/stats/count")
	fmt.Println(string(v))

	_, err := store.PutIf(ctx, "orders/stats/count", []byte("0"), 0) // only if absent
	fmt.Println(errors.Is(err, state.ErrConflict))
	// Output:
	// 3
	// true
}

func ExampleNewJetStream() {
	nc, err := nats.Connect(nats.DefaultURL)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	// One bucket for the store; keys are escaped into KV's charset, so
	// "orders/cart/alice" is stored as it reads.
	store, err := state.NewJetStream(context.Background(), js, state.JetStreamConfig{
		Bucket: "orders_state", Replicas: 3, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return
	}
	_ = store.Put(context.Background(), "orders/cart/alice", []byte(`{"items":3}`))
}
