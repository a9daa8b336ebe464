package validate

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/troupehq/troupe/config"
)

// routePort is the container port the NATS routes use.
const routePort = "nats-route"

// checkCluster checks what cluster mode adds to the pods (docs/cluster.md):
// the NATS routes name every pod of the StatefulSet by its stable name,
// JetStream knows each peer by its pod's name and keeps its files on the
// pod's own volume, and the cluster keeps a quorum through disruptions.
func checkCluster(r *rendered, l loaded) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, describe(r, format, args...)) }
	s := r.statefulSet
	c := r.pod().Spec.Containers[0]
	n := l.cfg.NATS
	replicas := int32(1)
	if s.Spec.Replicas != nil {
		replicas = *s.Spec.Replicas
	}
	if replicas < 3 {
		add("cluster of %d pods: JetStream's replicated buckets need 3 to survive one pod down", replicas)
	}
	if n.URL != "" {
		add("nats.url is set: cluster mode runs the embedded servers")
	}
	// Clustered JetStream elects a leader among every listed peer: pods
	// started one by one, each waiting for the previous to be ready, wait
	// for a quorum that is not there yet.
	if s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		add("podManagementPolicy must be Parallel, got %q", s.Spec.PodManagementPolicy)
	}
	if !fromPodName(c, config.EnvPrefix(r.serviceName)+"NATS__SERVER_NAME") {
		add("nats.server_name must come from the pod name (fieldRef metadata.name)")
	}
	if n.Cluster.User == "" || n.Cluster.Password == "" {
		add("routes must authenticate: set nats.cluster.user and nats.cluster.password_file")
	}
	headless := checkHeadless(r, &p)
	port := containerPort(c, routePort)
	if port == 0 || port != portOf(n.Cluster.Listen) || strings.HasPrefix(n.Cluster.Listen, "127.") {
		add("container port %s is %d, nats.cluster.listen %q must listen on it beyond loopback", routePort, port, n.Cluster.Listen)
	}
	p = append(p, checkRoutes(r, n.Cluster.Routes, replicas, headless, port)...)
	p = append(p, checkStateVolume(r, l)...)
	p = append(p, checkQuorum(r, replicas)...)
	p = append(p, checkRouteIngress(r)...)
	return p
}

// fromPodName reports whether the container's variable name is set from
// the pod's name.
func fromPodName(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
		}
	}
	return false
}

// checkHeadless checks the StatefulSet's governing Service and returns its
// name: headless, selecting the pods, publishing them before they are
// ready (a pod becomes ready only after joining over these names), and
// declaring the route port.
func checkHeadless(r *rendered, p *[]string) string {
	name := r.statefulSet.Spec.ServiceName
	for _, s := range r.services {
		if s.Name != name {
			continue
		}
		if s.Spec.ClusterIP != corev1.ClusterIPNone {
			*p = append(*p, describe(r, "Service %s must be headless (clusterIP: None)", name))
		}
		if !s.Spec.PublishNotReadyAddresses {
			*p = append(*p, describe(r, "Service %s must publish not-ready addresses: pods join over it before they are ready", name))
		}
		declared := false
		for _, port := range s.Spec.Ports {
			declared = declared || port.Name == routePort && port.TargetPort == intstr.FromString(routePort)
		}
		if !declared {
			*p = append(*p, describe(r, "Service %s must declare the route port %s", name, routePort))
		}
		return name
	}
	*p = append(*p, describe(r, "serviceName %q names no Service", name))
	return name
}

// checkRoutes checks that the routes list every pod exactly once by its
// stable name, <statefulset>-<ordinal>.<headless service>[.<namespace>...],
// on the route port: a pod missing from the list is a JetStream peer the
// others never expect, and a name beyond the replicas a peer that never
// comes, counted against the quorum.
func checkRoutes(r *rendered, routes []string, replicas int32, headless string, port int32) []string {
	var p []string
	seen := map[string]bool{}
	for _, raw := range routes {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "nats" || u.Port() != strconv.Itoa(int(port)) {
			p = append(p, describe(r, "route %q must be nats://<pod>.%s:%d", raw, headless, port))
			continue
		}
		labels := strings.Split(u.Hostname(), ".")
		ordinal, ok := strings.CutPrefix(labels[0], r.statefulSet.Name+"-")
		i, err := strconv.Atoi(ordinal)
		if !ok || err != nil || len(labels) < 2 || labels[1] != headless || i < 0 || i >= int(replicas) || seen[ordinal] {
			p = append(p, describe(r, "route %q is not one of the %d pods' stable names %s-0..%d.%s", raw, replicas, r.statefulSet.Name, replicas-1, headless))
			continue
		}
		seen[ordinal] = true
	}
	if len(seen) != int(replicas) {
		p = append(p, describe(r, "nats.cluster.routes lists %d of the %d pods", len(seen), replicas))
	}
	return p
}

// checkStateVolume checks that JetStream's files live on a volume claim of
// the StatefulSet: each pod keeps its own across restarts and moves, and
// a pod that lost its files would rejoin as an empty peer.
func checkStateVolume(r *rendered, l loaded) []string {
	n := l.cfg.NATS
	if n.JetStream.Store != "file" {
		return []string{describe(r, "nats.jetstream.store must be file: a memory store loses the pod's replicas on every restart")}
	}
	dir := n.JetStream.Dir
	if dir == "" {
		state := ""
		for _, e := range r.pod().Spec.Containers[0].Env {
			if e.Name == "XDG_STATE_HOME" && e.ValueFrom == nil {
				state = e.Value
			}
		}
		if state == "" {
			return []string{describe(r, "XDG_STATE_HOME must be set: JetStream's files go to $XDG_STATE_HOME/%s/nats", r.serviceName)}
		}
		dir = path.Join(state, r.serviceName, "nats")
	}
	claims := map[string]bool{}
	for _, t := range r.statefulSet.Spec.VolumeClaimTemplates {
		claims[t.Name] = len(t.Spec.AccessModes) == 1 && t.Spec.AccessModes[0] == corev1.ReadWriteOnce && !t.Spec.Resources.Requests.Storage().IsZero()
	}
	for _, m := range r.pod().Spec.Containers[0].VolumeMounts {
		if (dir == m.MountPath || strings.HasPrefix(dir, m.MountPath+"/")) && claims[m.Name] && !m.ReadOnly {
			return nil
		}
	}
	return []string{describe(r, "JetStream's directory %s must be on a ReadWriteOnce volumeClaimTemplate with a size", dir)}
}

// checkQuorum checks that the PodDisruptionBudget leaves a majority of the
// JetStream peers running through a voluntary disruption (a drain, an
// upgrade of the nodes): with fewer, the buckets stop taking writes.
func checkQuorum(r *rendered, replicas int32) []string {
	quorum := replicas/2 + 1
	spec := r.pdb.Spec
	var available int32
	switch {
	case spec.MinAvailable != nil && spec.MinAvailable.Type == intstr.Int:
		available = spec.MinAvailable.IntVal
	case spec.MaxUnavailable != nil && spec.MaxUnavailable.Type == intstr.Int:
		available = replicas - spec.MaxUnavailable.IntVal
	default:
		return []string{describe(r, "the PodDisruptionBudget must give a number of pods, not a percentage, to keep a quorum of %d", quorum)}
	}
	if available < quorum {
		return []string{describe(r, "the PodDisruptionBudget keeps %d of %d pods, below the quorum of %d", available, replicas, quorum)}
	}
	return nil
}

// checkRouteIngress checks that the route port admits the service's own
// pods and no one else: a route carries every message of the cluster.
func checkRouteIngress(r *rendered) []string {
	var p []string
	labels := r.pod().Labels
	admitted := false
	for _, n := range r.netpols {
		for _, rule := range n.Spec.Ingress {
			opens := false
			for _, port := range rule.Ports {
				opens = opens || port.Port != nil && (port.Port.String() == routePort || port.Port.IntValue() == 6222)
			}
			if !opens {
				continue
			}
			own := len(rule.From) > 0
			for _, peer := range rule.From {
				sel := map[string]string{}
				if peer.PodSelector != nil {
					sel = peer.PodSelector.MatchLabels
				}
				ok := peer.NamespaceSelector == nil && peer.IPBlock == nil && len(sel) > 0
				for k, v := range sel {
					ok = ok && labels[k] == v
				}
				own = own && ok
			}
			if !own {
				p = append(p, describe(r, "NetworkPolicy %s opens the route port beyond the %s pods", n.Name, r.serviceName))
			}
			admitted = admitted || own
		}
	}
	if !admitted {
		p = append(p, describe(r, "no NetworkPolicy admits the %s pods to each other's route port", r.serviceName))
	}
	return p
}

// TestClusterChecksCatchMistakes breaks the rendered cluster layer in the
// ways checkCluster exists for, and expects each to be reported.
func TestClusterChecksCatchMistakes(t *testing.T) {
	dir := filepath.Join("..", "k8s", "cluster")
	setEnv := func(r *rendered, name, value string) {
		env := r.pod().Spec.Containers[0].Env
		for i := range env {
			if env[i].Name == name {
				env[i] = corev1.EnvVar{Name: name, Value: value}
			}
		}
	}
	routes := func(hosts ...string) string {
		var out []string
		for _, h := range hosts {
			out = append(out, fmt.Sprintf("nats://%s:6222", h))
		}
		return strings.Join(out, ",")
	}
	for mistake, breakIt := range map[string]func(*rendered){
		"lists 2 of the 3 pods": func(r *rendered) {
			setEnv(r, "SHOWCASE_NATS__CLUSTER__ROUTES", routes("showcase-0.showcase-cluster", "showcase-1.showcase-cluster"))
		},
		`route "nats://showcase-3.showcase-cluster:6222" is not one`: func(r *rendered) {
			setEnv(r, "SHOWCASE_NATS__CLUSTER__ROUTES", routes("showcase-1.showcase-cluster", "showcase-2.showcase-cluster", "showcase-3.showcase-cluster"))
		},
		`route "nats://showcase-0.showcase:6222" is not one`: func(r *rendered) {
			setEnv(r, "SHOWCASE_NATS__CLUSTER__ROUTES", routes("showcase-0.showcase", "showcase-1.showcase-cluster", "showcase-2.showcase-cluster"))
		},
		"lists 3 of the 4 pods":                func(r *rendered) { *r.statefulSet.Spec.Replicas = 4 },
		"server_name must come from the pod":   func(r *rendered) { setEnv(r, "SHOWCASE_NATS__SERVER_NAME", "showcase") },
		"must listen on it":                    func(r *rendered) { setEnv(r, "SHOWCASE_NATS__CLUSTER__LISTEN", "0.0.0.0:7222") },
		"must declare the route port":          func(r *rendered) { serviceNamed(r, "showcase-cluster").Spec.Ports[0].Name = "routes" },
		"must publish not-ready addresses":     func(r *rendered) { serviceNamed(r, "showcase-cluster").Spec.PublishNotReadyAddresses = false },
		"must be headless":                     func(r *rendered) { serviceNamed(r, "showcase-cluster").Spec.ClusterIP = "" },
		"below the quorum of 2":                func(r *rendered) { r.pdb.Spec.MaxUnavailable.IntVal = 2 },
		"podManagementPolicy must be Parallel": func(r *rendered) { r.statefulSet.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement },
		"routes must authenticate":             func(r *rendered) { setEnv(r, "SHOWCASE_NATS__CLUSTER__USER", "") },
		"nats.jetstream.store must be file":    func(r *rendered) { setEnv(r, "SHOWCASE_NATS__JETSTREAM__STORE", "memory") },
		"must be on a ReadWriteOnce":           func(r *rendered) { setEnv(r, "XDG_STATE_HOME", "/tmp") },
		"opens the route port beyond":          func(r *rendered) { netpolNamed(r, "showcase-cluster").Spec.Ingress[0].From = nil },
		"maxUnavailable 1 and no partition":    func(r *rendered) { r.statefulSet.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType },
		"admits its peers to every port":       func(r *rendered) { netpolNamed(r, "showcase-cluster").Spec.Ingress[0].Ports = nil },
		"does not select the pods": func(r *rendered) {
			serviceNamed(r, "showcase-cluster").Spec.Selector = map[string]string{"app": "other"}
		},
		"targets nats-route, not a named":        func(r *rendered) { r.pod().Spec.Containers[0].Ports = r.pod().Spec.Containers[0].Ports[1:] },
		"preStop sleep must be http.drain_delay": func(r *rendered) { r.pod().Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds = 1 },
	} {
		t.Run(mistake, func(t *testing.T) {
			r := render(t, "deploy/k8s/cluster", dir)
			if problems := clusterProblems(t, r); problems != "" {
				t.Fatalf("the layer as committed has problems:\n%s", problems)
			}
			breakIt(r)
			if problems := clusterProblems(t, r); !strings.Contains(problems, mistake) {
				t.Errorf("breaking it went unnoticed:\n%s", problems)
			}
		})
	}
}

// serviceNamed returns the rendered Service called name.
func serviceNamed(r *rendered, name string) *corev1.Service {
	for _, s := range r.services {
		if s.Name == name {
			return s
		}
	}
	panic("no Service " + name)
}

// netpolNamed returns the rendered NetworkPolicy called name.
func netpolNamed(r *rendered, name string) *networkingv1.NetworkPolicy {
	for _, n := range r.netpols {
		if n.Name == name {
			return n
		}
	}
	panic("no NetworkPolicy " + name)
}

// clusterProblems runs every check of a cluster layer on r, loading its
// config afresh (a mistake may be in a variable), and joins what they
// report.
func clusterProblems(t *testing.T, r *rendered) string {
	t.Helper()
	cfg := effectiveConfig(t, r)
	var p []string
	p = append(p, checkDeployment(r, cfg)...)
	p = append(p, checkWiring(r)...)
	p = append(p, checkCluster(r, cfg)...)
	return strings.Join(p, "\n")
}
