package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/config"
)

// clusterKeys maps the actors.ClusterConfig fields: one is a key, the
// rest the service fills from the nats part and its own name.
var clusterKeys = map[string]string{
	"LeaseTTL": "actors.sharding.lease_ttl",
	"Conn":     "-", "Node": "-", "Service": "-", "Replicas": "-",
	"Storage": "-", "MaxPayload": "-", "RequestTimeout": "-",
}

// checkCluster checks the keys of the actor cluster. A zero lease_ttl
// would mean the runtime's default, which a key cannot spell.
func checkCluster(c *checker) {
	ttl := c.cfg.Actors.Sharding.LeaseTTL
	if ttl == 0 {
		c.fail("actors.sharding.lease_ttl", errors.New("must be at least 300ms (renewal runs every TTL/3), got 0s"))
		return
	}
	c.fields("actors", actors.ClusterConfig{LeaseTTL: ttl}.Validate(), clusterKeys)
}

// clusterJoin joins the actor system to the cluster at the start of the
// actors run, when the nats run, started before it, has its connection.
type clusterJoin struct {
	nats     *natsRun
	service  string // subject prefix and bucket names: troupe.<service>.
	node     string
	leaseTTL time.Duration
	timeout  time.Duration
	source   func(key string) string
}

// newClusterJoin is the join [actors.cluster] asks for, or nil.
func newClusterJoin(b *builder) *clusterJoin {
	a := b.cfg.Actors
	if !a.Cluster.Enabled {
		return nil
	}
	return &clusterJoin{
		nats: b.nats, service: subjectToken(b.s.name), node: nodeID(b.cfg.NATS.ServerName),
		leaseTTL: a.Sharding.LeaseTTL, timeout: a.Cluster.JoinTimeout, source: b.s.effective.Source,
	}
}

// join joins sys, retrying while JetStream cannot place the buckets yet
// (a cluster whose other servers are still starting), within
// actors.cluster.join_timeout.
func (j *clusterJoin) join(ctx context.Context, sys *actors.System) error {
	node := j.nats.current()
	if node == nil {
		return errors.New("joining the actor cluster: NATS is not running")
	}
	cfg := actors.ClusterConfig{
		Conn: node.Conn(), Node: j.node, Service: j.service, LeaseTTL: j.leaseTTL,
		Replicas: node.Replicas(), Storage: node.Storage(), MaxPayload: int(node.MaxPayload()),
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, max(j.leaseTTL, 2*time.Second))
		err := sys.JoinCluster(attempt, cfg)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return &config.Error{Key: "actors.cluster.join_timeout", Source: j.source("actors.cluster.join_timeout"),
				Err: fmt.Errorf("node %s did not join the actor cluster within %s (%d bucket replicas): %w", j.node, j.timeout, cfg.Replicas, err)}
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// nodeID is this process's node id in the actor cluster: nats.server_name
// when set (stable across restarts), else the host name and a random
// suffix, unique per run, so a restarted process never waits for its
// previous run's lease to age out.
func nodeID(serverName string) string {
	if serverName != "" {
		return subjectToken(serverName)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "troupe"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	host = subjectToken(host)
	return host[:min(len(host), 55)] + "-" + hex.EncodeToString(b[:])
}

// subjectToken makes s one NATS subject token and bucket-name part, as
// actors.ClusterConfig requires: letters, digits, '-' and '_', at most
// 64 bytes; any other byte becomes '_'.
func subjectToken(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	return s[:min(len(s), 64)]
}
