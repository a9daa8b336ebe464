package validate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// rendered is one kustomization's output, decoded. A layer runs the pods
// either as a Deployment or, in cluster mode, as a StatefulSet (which has
// no HPA); pod returns the template of either.
type rendered struct {
	name        string
	deployment  *appsv1.Deployment
	statefulSet *appsv1.StatefulSet
	services    []*corev1.Service
	configMap   *corev1.ConfigMap
	pdb         *policyv1.PodDisruptionBudget
	hpa         *autoscalingv2.HorizontalPodAutoscaler
	netpol      *networkingv1.NetworkPolicy   // the one named after the service
	netpols     []*networkingv1.NetworkPolicy // every one, netpol included
	monitor     *monitoringv1.ServiceMonitor
	serviceName string
}

// pod returns the pod template of the layer's Deployment or StatefulSet.
func (r *rendered) pod() *corev1.PodTemplateSpec {
	if r.statefulSet != nil {
		return &r.statefulSet.Spec.Template
	}
	return &r.deployment.Spec.Template
}

// selector returns the label selector of the Deployment or StatefulSet.
func (r *rendered) selector() map[string]string {
	if r.statefulSet != nil {
		return r.statefulSet.Spec.Selector.MatchLabels
	}
	return r.deployment.Spec.Selector.MatchLabels
}

// kustomizations lists every kustomization to render: the repository's
// deploy/k8s and, for every feature combination, troupe new's.
func kustomizations(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, layer := range []string{"base", "overlays/dev", "overlays/prod", "cluster"} {
		out["deploy/k8s/"+layer] = filepath.Join("..", "k8s", filepath.FromSlash(layer))
	}
	for name, files := range scaffolds(t) {
		root := writeK8s(t, files)
		for _, layer := range []string{"base", "overlays/dev", "overlays/prod"} {
			out["troupe new "+name+": "+layer] = filepath.Join(root, filepath.FromSlash(layer))
		}
	}
	return out
}

// render builds dir with kustomize, in process and offline, and decodes
// every object strictly into its API type: a field the type does not
// have, misspelt or misplaced, fails.
func render(t *testing.T, name, dir string) *rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("%s: kustomize build: %v", name, err)
	}
	r := &rendered{name: name}
	for _, res := range resources.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		gvk := res.GetApiVersion() + "/" + res.GetKind()
		var obj any
		switch gvk {
		case "apps/v1/Deployment":
			r.deployment = &appsv1.Deployment{}
			obj = r.deployment
		case "apps/v1/StatefulSet":
			r.statefulSet = &appsv1.StatefulSet{}
			obj = r.statefulSet
		case "v1/Service":
			s := &corev1.Service{}
			r.services = append(r.services, s)
			obj = s
		case "v1/ConfigMap":
			r.configMap = &corev1.ConfigMap{}
			obj = r.configMap
		case "policy/v1/PodDisruptionBudget":
			r.pdb = &policyv1.PodDisruptionBudget{}
			obj = r.pdb
		case "autoscaling/v2/HorizontalPodAutoscaler":
			r.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			obj = r.hpa
		case "networking.k8s.io/v1/NetworkPolicy":
			n := &networkingv1.NetworkPolicy{}
			r.netpols = append(r.netpols, n)
			obj = n
		case "monitoring.coreos.com/v1/ServiceMonitor":
			r.monitor = &monitoringv1.ServiceMonitor{}
			obj = r.monitor
		default:
			t.Errorf("%s: unexpected object %s %s", name, gvk, res.GetName())
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Errorf("%s: %s %s does not match the API type: %v", name, gvk, res.GetName(), err)
		}
	}
	// A Deployment comes with its HPA and two Services; a StatefulSet with
	// no HPA and a third, headless Service.
	switch {
	case r.deployment != nil && r.statefulSet == nil && r.hpa != nil && len(r.services) == 2:
		r.serviceName = r.deployment.Name
	case r.statefulSet != nil && r.deployment == nil && r.hpa == nil && len(r.services) == 3:
		r.serviceName = r.statefulSet.Name
	default:
		t.Fatalf("%s: want a Deployment with an HPA and 2 Services, or a StatefulSet with 3 Services and no HPA: %+v", name, r)
	}
	for _, n := range r.netpols {
		if n.Name == r.serviceName {
			r.netpol = n
		}
	}
	if r.configMap == nil || r.pdb == nil || r.netpol == nil || r.monitor == nil {
		t.Fatalf("%s: missing objects: %+v", name, r)
	}
	return r
}

// TestManifests renders every kustomization and checks it object by object.
func TestManifests(t *testing.T) {
	for name, dir := range kustomizations(t) {
		t.Run(name, func(t *testing.T) {
			r := render(t, name, dir)
			cfg := effectiveConfig(t, r)
			for _, p := range checkDeployment(r, cfg) {
				t.Error(p)
			}
			for _, p := range checkWiring(r) {
				t.Error(p)
			}
			if r.statefulSet != nil {
				for _, p := range checkCluster(r, cfg) {
					t.Error(p)
				}
				// The showcase runs as one actor cluster (singletons and
				// pools), as cluster.sh runs it on one machine.
				if !cfg.cfg.Actors.Cluster.Enabled {
					t.Error("the cluster layer's pods do not join the actor cluster (actors.cluster.enabled)")
				}
			}
			if strings.HasSuffix(name, "overlays/prod") {
				for _, p := range checkProd(r) {
					t.Error(p)
				}
			}
		})
	}
}

// TestChecksCatchMistakes breaks a rendered Deployment in the ways the
// checks exist for, and expects each to be reported.
func TestChecksCatchMistakes(t *testing.T) {
	good := func() *rendered {
		return render(t, "deploy/k8s/overlays/prod", filepath.Join("..", "k8s", "overlays", "prod"))
	}
	r := good()
	cfg := effectiveConfig(t, r)
	for mistake, breakIt := range map[string]func(*rendered){
		"preStop sleep":                 func(r *rendered) { r.deployment.Spec.Template.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds = 1 },
		"terminationGracePeriodSeconds": func(r *rendered) { *r.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds = 40 },
		"readOnlyRootFilesystem": func(r *rendered) {
			*r.deployment.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = false
		},
		"allowPrivilegeEscalation": func(r *rendered) {
			r.deployment.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
		},
		"drop ALL": func(r *rendered) {
			r.deployment.Spec.Template.Spec.Containers[0].SecurityContext.Capabilities.Drop = nil
		},
		"readiness probe": func(r *rendered) {
			r.deployment.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/livez"
		},
		"not mounted from a Secret": func(r *rendered) {
			r.deployment.Spec.Template.Spec.Volumes = r.deployment.Spec.Template.Spec.Volumes[:1]
		},
		"memory limit":                   func(r *rendered) { delete(r.deployment.Spec.Template.Spec.Containers[0].Resources.Limits, "memory") },
		"maxUnavailable":                 func(r *rendered) { r.deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal = 1 },
		"admin port from the monitoring": func(r *rendered) { r.netpol.Spec.Ingress[1].From = nil },
	} {
		r := good()
		breakIt(r)
		problems := strings.Join(append(checkDeployment(r, cfg), checkWiring(r)...), "\n")
		if !strings.Contains(problems, mistake) {
			t.Errorf("breaking %s went unnoticed:\n%s", mistake, problems)
		}
	}
}

// checkProd checks what only production needs.
func checkProd(r *rendered) []string {
	var p []string
	if *r.deployment.Spec.Replicas < 3 || r.hpa.Spec.MinReplicas == nil || *r.hpa.Spec.MinReplicas < 3 {
		p = append(p, "prod: fewer than 3 replicas")
	}
	image := r.deployment.Spec.Template.Spec.Containers[0].Image
	if _, tag, ok := strings.Cut(image, ":"); !ok || tag == "" || tag == "latest" {
		p = append(p, "prod: image "+image+" is not pinned to a version")
	}
	if !strings.HasSuffix(r.deployment.Namespace, "-prod") {
		p = append(p, "prod: namespace "+r.deployment.Namespace)
	}
	return p
}

// describe formats a problem with the kustomization's name.
func describe(r *rendered, format string, args ...any) string {
	return r.name + ": " + fmt.Sprintf(format, args...)
}

// containerPort returns the number of the container's port called name.
func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}
