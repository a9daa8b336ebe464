package validate

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/troupehq/troupe/internal/scaffold"
)

// checkDeployment checks the pod of the Deployment or StatefulSet against
// the config it loads: probes, termination timing, security context,
// resources, mounts and rollouts.
func checkDeployment(r *rendered, l loaded) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, describe(r, format, args...)) }
	spec := r.pod().Spec
	if len(spec.Containers) != 1 {
		add("want one container, got %d", len(spec.Containers))
		return p
	}
	c := spec.Containers[0]
	cfg := l.cfg

	// Ports agree with the listeners the config sets.
	if got, want := containerPort(c, "http"), portOf(cfg.HTTP.Address); got == 0 || got != want {
		add("container port http is %d, http.address %q listens on %d", got, cfg.HTTP.Address, want)
	}
	if got, want := containerPort(c, "admin"), portOf(cfg.Admin.Address); got == 0 || got != want || strings.HasPrefix(cfg.Admin.Address, "127.") {
		add("container port admin is %d, admin.address %q must listen on it beyond loopback", got, cfg.Admin.Address)
	}

	// Probes: on the main port, liveness and start-up on /livez, readiness on /readyz.
	for probe, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{"startup probe": {c.StartupProbe, "/livez"}, "liveness probe": {c.LivenessProbe, "/livez"}, "readiness probe": {c.ReadinessProbe, "/readyz"}} {
		switch {
		case want.p == nil || want.p.HTTPGet == nil:
			add("no HTTP %s", probe)
		case want.p.HTTPGet.Path != want.path || want.p.HTTPGet.Port != intstr.FromString("http"):
			add("%s is %s on %s, want %s on http", probe, want.p.HTTPGet.Path, want.p.HTTPGet.Port.String(), want.path)
		}
	}

	// Termination: the preStop sleep is the drain delay, and the grace
	// period covers it and Troupe's worst-case shutdown.
	drain := int64(cfg.HTTP.DrainDelay / time.Second)
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != drain {
		add("preStop sleep must be http.drain_delay (%ds)", drain)
	}
	grace := int64(scaffold.GraceSeconds(cfg))
	minimum := int64((cfg.HTTP.DrainDelay + cfg.HTTP.ShutdownTimeout) / time.Second)
	if g := spec.TerminationGracePeriodSeconds; g == nil || *g < grace || *g <= minimum {
		add("terminationGracePeriodSeconds must be at least %d (preStop + drain + shutdown sequence, more than %d)", grace, minimum)
	}

	// Security: non-root, no escalation, read-only root, no capabilities.
	sc := c.SecurityContext
	psc := spec.SecurityContext
	switch {
	case sc == nil:
		add("no container securityContext")
	default:
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			add("allowPrivilegeEscalation must be false")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			add("readOnlyRootFilesystem must be true")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			add("capabilities: drop ALL and add none")
		}
	}
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		add("the pod must run as a non-root UID")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		add("seccompProfile must be RuntimeDefault")
	}

	// Resources.
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		add("cpu and memory requests must be set")
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		add("memory limit must be set")
	}

	// With a read-only root, everything written goes to a volume: the
	// config directory, the caches, /tmp.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, dir := range []string{"/cache", "/tmp"} {
		if m, ok := mounts[dir]; !ok || volumes[m.Name].EmptyDir == nil {
			add("%s must be a writable emptyDir", dir)
		}
	}
	if m, ok := mounts["/etc/xdg/"+r.serviceName]; !ok || volumes[m.Name].ConfigMap == nil || volumes[m.Name].ConfigMap.Name != r.configMap.Name {
		add("the ConfigMap %s must be mounted at /etc/xdg/%s", r.configMap.Name, r.serviceName)
	}
	// Every *_file key names a file in a mounted Secret.
	for _, f := range l.secretFiles {
		found := false
		for path, m := range mounts {
			if strings.HasPrefix(f, path+"/") && volumes[m.Name].Secret != nil {
				found = true
			}
		}
		if !found {
			add("%s is not mounted from a Secret", f)
		}
	}

	return append(p, checkRollout(r)...)
}

// checkRollout checks the update strategy. A Deployment never takes a pod
// away before its replacement is ready. A StatefulSet cannot surge (a
// pod's name and volume are its own): it replaces one pod at a time,
// waiting for each to be ready, and updates every pod (no partition).
func checkRollout(r *rendered) []string {
	if s := r.statefulSet; s != nil {
		u := s.Spec.UpdateStrategy
		if u.Type != appsv1.RollingUpdateStatefulSetStrategyType || u.RollingUpdate != nil &&
			(u.RollingUpdate.MaxUnavailable != nil && u.RollingUpdate.MaxUnavailable.IntValue() != 1 ||
				u.RollingUpdate.Partition != nil && *u.RollingUpdate.Partition != 0) {
			return []string{describe(r, "the StatefulSet needs updateStrategy RollingUpdate, maxUnavailable 1 and no partition")}
		}
		return nil
	}
	d := r.deployment
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 || d.Spec.Strategy.RollingUpdate.MaxSurge.IntValue() != 1 {
		return []string{describe(r, "rolling update needs maxSurge 1 and maxUnavailable 0")}
	}
	return nil
}

// checkWiring checks that the objects point at each other: selectors,
// ports, targets, and the admin port reachable only from monitoring.
func checkWiring(r *rendered) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, describe(r, format, args...)) }
	labels := r.pod().Labels
	matches := func(sel map[string]string) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !matches(r.selector()) || !matches(r.pdb.Spec.Selector.MatchLabels) {
		add("a selector does not match the pods")
	}
	for _, n := range r.netpols {
		if !matches(n.Spec.PodSelector.MatchLabels) {
			add("NetworkPolicy %s does not select the pods", n.Name)
		}
	}
	if r.hpa != nil {
		if h := r.hpa.Spec.ScaleTargetRef; h.Kind != "Deployment" || r.deployment == nil || h.Name != r.deployment.Name {
			add("the HPA scales %s %s", h.Kind, h.Name)
		}
	}
	var admin *corev1.Service
	for _, s := range r.services {
		if !matches(s.Spec.Selector) {
			add("Service %s does not select the pods", s.Name)
		}
		for _, port := range s.Spec.Ports {
			if port.TargetPort.Type != intstr.String || containerPort(r.pod().Spec.Containers[0], port.TargetPort.StrVal) == 0 {
				add("Service %s targets %s, not a named container port", s.Name, port.TargetPort.String())
			}
			if port.Name == "admin" {
				admin = s
			}
		}
	}
	if admin == nil {
		add("no Service exposes the admin port")
	} else {
		sel := r.monitor.Spec.Selector.MatchLabels
		for k, v := range sel {
			if admin.Labels[k] != v {
				add("the ServiceMonitor does not select Service %s", admin.Name)
			}
		}
	}
	if len(r.monitor.Spec.Endpoints) != 1 || r.monitor.Spec.Endpoints[0].Port != "admin" || r.monitor.Spec.Endpoints[0].Path != "/metrics" {
		add("the ServiceMonitor must scrape /metrics on the admin port")
	}
	// The admin port: only from the monitoring namespace; the API port:
	// open. Policies add up, so every one is read.
	var apiOpen, adminGuarded bool
	var rules []networkingv1.NetworkPolicyIngressRule
	for _, n := range r.netpols {
		rules = append(rules, n.Spec.Ingress...)
	}
	for _, rule := range rules {
		if len(rule.Ports) == 0 {
			add("a NetworkPolicy rule without ports admits its peers to every port, the admin port included")
		}
		for _, port := range rule.Ports {
			switch port.Port.String() {
			case "http":
				apiOpen = apiOpen || len(rule.From) == 0
			case "admin":
				adminGuarded = len(rule.From) == 1 && rule.From[0].NamespaceSelector != nil &&
					rule.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "monitoring" && rule.From[0].PodSelector == nil
				if !adminGuarded {
					add("the admin port is open to more than the monitoring namespace")
				}
			}
		}
	}
	if !apiOpen || !adminGuarded {
		add("the NetworkPolicy must admit the API port and the admin port from the monitoring namespace only")
	}
	return p
}

// portOf returns the port of a host:port address.
func portOf(addr string) int32 {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return -1
	}
	return int32(n)
}
