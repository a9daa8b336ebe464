package realtime

import (
	"crypto/rand"
	"strings"
)

// connIDPrefix starts the ids of one hub's connections: "c", six random
// letters and digits, and "-" before a per-hub counter ("ck7q2xa-42").
// A connection's actor is named after its id, and in an actor cluster
// names are unique cluster-wide: with a counter alone, every node's first
// connection was "c1", and every node but one refused it. Random per hub
// rather than the node's id, because a node restarted after a crash gets
// the same id while its previous run's names are still leased, for up to
// actors.sharding.lease_ttl. Thirty random bits make two hubs of a
// 10-node cluster share a tag about once in 24 million clusters. The
// characters keep the id one subject token, so a component's grant
// actor:send:realtime.conn.* still matches it.
func connIDPrefix() string {
	return "c" + strings.ToLower(rand.Text()[:6]) + "-"
}
