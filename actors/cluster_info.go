package actors

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// ClusterInfo is what a node knows of its cluster at one moment, for an
// operator: the ops console's Cluster page and GET /inspect/cluster show
// it. Membership is this node's view, kept by watching the nodes bucket,
// so two nodes can disagree for up to a lease TTL after a node left.
type ClusterInfo struct {
	// Node is this node's id; Service names the cluster.
	Node, Service string
	// LeaseTTL is how long a node (or a name) outlives its last renewal;
	// Replicas is the lease buckets' replication factor.
	LeaseTTL time.Duration
	Replicas int
	// Connected reports whether the NATS connection can carry a message
	// now; while it cannot, remote calls fail with ErrUnavailable.
	Connected bool
	// Server is the URL of the NATS server the connection uses, its
	// password (or a token given as its user) replaced by "xxxxx"; ""
	// while disconnected.
	Server string
	// Members are the nodes in the cluster as this node sees it, this one
	// included, sorted by id.
	Members []ClusterMember
	// Departed are the nodes that left in the last two lease TTLs, most
	// recent first: the leases still naming them are ageing out.
	Departed []DepartedNode
	// Names is how many actor names this node holds a lease on (a pool's
	// shared name counts once).
	Names int
	// Entities counts this node's open entity activations by kind
	// (WithSharding); an activation that finds another node holding the
	// entity's lease counts until it has handed its messages over.
	Entities map[string]int
}

// ClusterMember is one node in the cluster.
type ClusterMember struct {
	// Node is the node's id; Self marks this node.
	Node string
	Self bool
	// Renewed is when the node last renewed its membership lease, by this
	// node's clock: older than the lease TTL means it is about to be
	// judged gone.
	Renewed time.Time
}

// DepartedNode is a node that left the cluster lately.
type DepartedNode struct {
	Node string
	// Left is when this node saw it leave.
	Left time.Time
}

// Cluster describes the cluster this System runs in; ok is false outside
// a cluster (and before JoinCluster completed). Each call reads the
// runtime's state afresh under its locks, without network I/O.
func (s *System) Cluster() (info ClusterInfo, ok bool) {
	c := s.cluster.Load()
	if c == nil {
		return ClusterInfo{}, false
	}
	info = ClusterInfo{
		Node: c.node, Service: c.cfg.Service, LeaseTTL: c.cfg.LeaseTTL, Replicas: c.cfg.Replicas,
		Connected: c.connected(), Members: c.members.list(), Departed: c.members.departedList(),
		Names: c.names.count(), Entities: map[string]int{},
	}
	if info.Connected {
		info.Server = redactServer(c.nc.ConnectedUrlRedacted())
	}
	if s.shards != nil {
		s.shards.slots.Range(func(_, v any) bool {
			info.Entities[v.(*entitySlot).ref.kind.name]++
			return true
		})
	}
	return info, true
}

// redactServer hides a token given as a URL's user ("nats://token@host"):
// nats.go's redaction replaces only a password.
func redactServer(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, hasPassword := u.User.Password(); !hasPassword {
		u.User = url.User("xxxxx")
	}
	return u.String()
}

// list returns the members, this node included, sorted by id.
func (m *membership) list() []ClusterMember {
	out := []ClusterMember{{Node: m.c.node, Self: true, Renewed: m.self.Renewed()}}
	m.mu.Lock()
	for node, at := range m.seen {
		out = append(out, ClusterMember{Node: node, Renewed: at})
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b ClusterMember) int { return strings.Compare(a.Node, b.Node) })
	return out
}

// departedList returns the nodes that left in the last two TTLs, most
// recent first. expire forgets older ones only while connected, so they
// are filtered here too.
func (m *membership) departedList() []DepartedNode {
	since := time.Now().Add(-2 * m.bucket.TTL())
	m.mu.Lock()
	out := make([]DepartedNode, 0, len(m.departed))
	for node, at := range m.departed {
		if at.After(since) {
			out = append(out, DepartedNode{Node: node, Left: at})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b DepartedNode) int { return b.Left.Compare(a.Left) })
	return out
}

// count returns how many names this node holds a lease on.
func (n *nameRegistry) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.held)
}
