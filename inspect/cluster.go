package inspect

import (
	"net/http"
	"time"
)

// ClusterView is the cluster the service runs in, as this node sees it:
// the console's Cluster page and GET /inspect/cluster. Membership is
// this node's view, kept by watching the cluster's lease buckets, so two
// nodes can disagree for up to a lease TTL after a node left.
type ClusterView struct {
	// Clustered reports whether the service runs in a cluster. Without
	// one, or before this node joined, Detail says why nothing else is set.
	Clustered bool   `json:"clustered"`
	Detail    string `json:"detail,omitempty"`
	// Node is this node's id, Service the cluster's name.
	Node    string `json:"node,omitempty"`
	Service string `json:"service,omitempty"`
	// LeaseTTL is how long a node (or a name) outlives its last renewal;
	// Replicas is the lease buckets' replication factor.
	LeaseTTL time.Duration `json:"lease_ttl_ns,omitempty"`
	Replicas int           `json:"replicas,omitempty"`
	// Connected reports whether this node's NATS connection can carry a
	// message now; Server is the server it uses, its password or token
	// replaced by "xxxxx".
	Connected bool   `json:"connected"`
	Server    string `json:"server,omitempty"`
	// Members are the nodes in the cluster, this one included, by id.
	Members []ClusterMember `json:"members"`
	// Departed are the nodes that left in the last two lease TTLs.
	Departed []ClusterDeparture `json:"departed"`
	// Names is how many actor names this node holds a lease on;
	// Entities its open entity activations by kind.
	Names    int     `json:"names"`
	Entities []Count `json:"entities"`
}

// ClusterMember is one node in the cluster.
type ClusterMember struct {
	Node string `json:"node"`
	// Self marks the node serving the view.
	Self bool `json:"self"`
	// Renewed is when the node last renewed its membership lease: one
	// not renewed for a lease TTL is about to be judged gone.
	Renewed time.Time `json:"renewed"`
}

// ClusterDeparture is a node that left the cluster lately.
type ClusterDeparture struct {
	Node string    `json:"node"`
	Left time.Time `json:"left"`
}

// Stale reports whether m went a lease TTL without renewing, as seen at
// the view: the cluster is about to drop it.
func (v ClusterView) Stale(m ClusterMember) bool {
	return !m.Self && time.Since(m.Renewed) > v.LeaseTTL
}

// clusterView asks the source, saying why there is nothing to show when
// the service runs on one node or this node has not joined yet.
func (h *handler) clusterView() ClusterView {
	var v ClusterView
	switch {
	case h.src.Cluster == nil:
		v.Detail = "the service runs on one node (actors.cluster.enabled is off)"
	default:
		if got := h.src.Cluster(); got != nil {
			v = *got
		} else {
			v.Detail = "this node has not joined the cluster yet"
		}
		v.Clustered = true
	}
	// Lists encode as [], never null, for the scripts that iterate them.
	if v.Members == nil {
		v.Members = []ClusterMember{}
	}
	if v.Departed == nil {
		v.Departed = []ClusterDeparture{}
	}
	if v.Entities == nil {
		v.Entities = []Count{}
	}
	return v
}

func (h *handler) cluster(w http.ResponseWriter, _ *http.Request) { writeJSON(w, h.clusterView()) }

func (h *handler) clusterPage(w http.ResponseWriter, r *http.Request) {
	data := struct {
		page
		C ClusterView
	}{page: h.refreshing(h.page("Cluster", "cluster", "")), C: h.clusterView()}
	h.render(w, r, "cluster", data)
}
