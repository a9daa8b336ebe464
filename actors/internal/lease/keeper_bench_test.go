package lease

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// BenchmarkKeeperRound times one round of a Keeper renewing n leases of a
// 3-replica bucket, in memory or on file, on a 3-server cluster on
// loopback: the work a node with n active entities does every TTL/3.
func BenchmarkKeeperRound(b *testing.B) {
	servers := natstest.Cluster(b, 3)
	natstest.WaitForCluster(b, servers)
	js, err := jetstream.New(natstest.Connect(b, servers[0]))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, storage := range []jetstream.StorageType{jetstream.MemoryStorage, jetstream.FileStorage} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/leases=%d", storage, n), func(b *testing.B) {
				keeperRound(ctx, b, openReplicated(ctx, b, js, fmt.Sprintf("round%d%s", n, storage), storage), n)
			})
		}
	}
}

// keeperRound acquires n leases in bucket and times renewAll.
func keeperRound(ctx context.Context, b *testing.B, bucket *Bucket, n int) {
	k := bucket.NewKeeper()
	defer k.Close()
	for i := range n {
		l, err := bucket.Acquire(ctx, strconv.Itoa(i), []byte("v"))
		if err != nil {
			b.Fatal(err)
		}
		k.Add(l, func(err error) { b.Errorf("renewal: %v", err) })
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		k.renewAll()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/lease")
}

// openReplicated opens a 3-replica bucket with a TTL far above a round's
// time, retrying while the cluster is still placing its peers.
func openReplicated(ctx context.Context, b *testing.B, js jetstream.JetStream, name string, storage jetstream.StorageType) *Bucket {
	b.Helper()
	for {
		bucket, err := Open(ctx, js, Config{Bucket: name, TTL: time.Hour, Replicas: 3, Storage: storage})
		if err == nil {
			return bucket
		}
		if ctx.Err() != nil {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
