package state_test

import (
	"context"
	"errors"
	"fmt"

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
