package inspect

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serveSources starts the inspector's handler with src.
func serveSources(t testing.TB, src *Sources) *httptest.Server {
	t.Helper()
	i, _ := testSystem(t, devConfig(), Options{})
	srv := httptest.NewServer(i.Handler(DefaultConsoleConfig(), src))
	t.Cleanup(srv.Close)
	return srv
}

// TestClusterView: GET /inspect/cluster and the Cluster page show what the
// source reports — members with this node marked and a silent one
// flagged, departures, names, entities, the redacted server — and the
// Overview sums it up in one line.
func TestClusterView(t *testing.T) {
	now := time.Now()
	view := &ClusterView{
		Node: "node-a", Service: "orders", LeaseTTL: 10 * time.Second, Replicas: 3,
		Connected: true, Server: "nats://ops:xxxxx@10.0.0.7:4222",
		Members: []ClusterMember{
			{Node: "node-a", Self: true, Renewed: now},
			{Node: "node-b", Renewed: now.Add(-2 * time.Second)},
			{Node: "node-c", Renewed: now.Add(-12 * time.Second)},
		},
		Departed: []ClusterDeparture{{Node: "node-d", Left: now.Add(-5 * time.Second)}},
		Names:    4,
		Entities: []Count{{"cart", 17}},
	}
	srv := serveSources(t, &Sources{Service: "orders", Cluster: func() *ClusterView { return view }})

	resp, body := fetch(t, srv.URL+"/inspect/cluster")
	got := decodeJSON[ClusterView](t, body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !got.Clustered || got.Detail != "" ||
		got.Node != "node-a" || got.LeaseTTL != 10*time.Second || got.Replicas != 3 || !got.Connected || got.Server != view.Server ||
		len(got.Members) != 3 || !got.Members[0].Self || got.Members[1].Self || len(got.Departed) != 1 || got.Names != 4 ||
		len(got.Entities) != 1 || got.Entities[0] != (Count{"cart", 17}) {
		t.Errorf("GET /inspect/cluster = %d %s", resp.StatusCode, body)
	}
	for _, key := range []string{`"lease_ttl_ns":10000000000`, `"self":true`, `"renewed":`, `"left":`, `"entities":[{"name":"cart","count":17}]`} {
		if !strings.Contains(body, key) {
			t.Errorf("GET /inspect/cluster lacks %s: %s", key, body)
		}
	}

	resp, body = fetch(t, srv.URL+"/console/cluster")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/console/cluster" aria-current="page"`) {
		t.Fatalf("/console/cluster = %d, not the current view:\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"node-a <span class=\"muted\">(this node)</span>", "node-b", "node-d", "10s</span>, 3 replicas",
		"nats://ops:xxxxx@10.0.0.7:4222", "<td>cart</td><td>17</td>", "names held here</span><span>4"} {
		if !strings.Contains(body, want) {
			t.Errorf("/console/cluster lacks %q", want)
		}
	}
	if n := strings.Count(body, "not renewed within the lease TTL"); n != 1 {
		t.Errorf("%d members flagged as silent, want node-c alone", n)
	}
	if strings.Contains(body, "<script>") {
		t.Error("/console/cluster has inline script")
	}
	if !strings.Contains(body, `<meta http-equiv="refresh" content="5">`) {
		t.Error("/console/cluster does not reload itself")
	}
	_, body = fetch(t, srv.URL+"/console")
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("the Overview, which streams its figures, reloads itself")
	}
	if !strings.Contains(body, "node node-a · 3 members · <span class=\"status pass\">connected</span>") {
		t.Errorf("the Overview has no cluster summary:\n%s", body)
	}

	view.Connected, view.Server = false, ""
	if _, body = fetch(t, srv.URL+"/console/cluster"); !strings.Contains(body, "disconnected") {
		t.Error("/console/cluster does not say the node is disconnected")
	}
}

// TestClusterViewWithoutCluster: a service on one node answers 200 with
// clustered false and says why; one that has not joined yet says so; the
// Overview shows no cluster line on one node.
func TestClusterViewWithoutCluster(t *testing.T) {
	srv := serveSources(t, &Sources{Service: "alone"})
	resp, body := fetch(t, srv.URL+"/inspect/cluster")
	got := decodeJSON[ClusterView](t, body)
	if resp.StatusCode != 200 || got.Clustered || !strings.Contains(got.Detail, "one node") ||
		!strings.Contains(body, `"members":[]`) || !strings.Contains(body, `"entities":[]`) {
		t.Errorf("GET /inspect/cluster on one node = %d %s", resp.StatusCode, body)
	}
	if resp, body = fetch(t, srv.URL+"/console/cluster"); resp.StatusCode != 200 || !strings.Contains(body, "runs on one node") {
		t.Errorf("/console/cluster on one node = %d:\n%s", resp.StatusCode, body)
	}
	if _, body = fetch(t, srv.URL+"/console"); strings.Contains(body, `<span class="label">cluster</span>`) {
		t.Error("the Overview shows a cluster on one node")
	}

	joining := serveSources(t, &Sources{Service: "joining", Cluster: func() *ClusterView { return nil }})
	_, body = fetch(t, joining.URL+"/inspect/cluster")
	if got := decodeJSON[ClusterView](t, body); !got.Clustered || !strings.Contains(got.Detail, "not joined") {
		t.Errorf("GET /inspect/cluster before joining = %s", body)
	}
	if _, body = fetch(t, joining.URL+"/console"); !strings.Contains(body, "this node has not joined the cluster yet") {
		t.Error("the Overview does not say the node has not joined yet")
	}
}
