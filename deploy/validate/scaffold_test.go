package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/troupehq/troupe/internal/scaffold"
)

// scaffolds renders a project for every combination of troupe new's
// features, keyed by the combination ("base", "actors+auth", ...). cluster
// brings actors, so a combination with cluster and without actors would
// repeat the one with both and is left out.
func scaffolds(t *testing.T) map[string]scaffold.Files {
	t.Helper()
	out := map[string]scaffold.Files{}
	for mask := range 1 << len(scaffold.Features) {
		var with []scaffold.Feature
		names := []string{"base"}
		for i, f := range scaffold.Features {
			if mask&(1<<i) != 0 {
				with = append(with, f)
				names = append(names, string(f))
			}
		}
		if slices.Contains(with, scaffold.Cluster) && !slices.Contains(with, scaffold.Actors) {
			continue
		}
		files, err := scaffold.New(scaffold.Project{Module: "example.com/orders", Features: with, Require: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		out[strings.Join(names, "+")] = files
	}
	return out
}

// writeK8s writes a generated project's deploy/k8s tree into a temporary
// directory, which it returns, for kustomize to render.
func writeK8s(t *testing.T, files scaffold.Files) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range files.Paths() {
		rel, ok := strings.CutPrefix(p, "deploy/k8s/")
		if !ok {
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, files[p], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestScaffoldClusterLayers renders the deploy/k8s/cluster layer of every
// generated project with cluster and runs every check of the showcase's
// cluster layer on it: the StatefulSet, routes, headless Service, route
// credentials, state volume and quorum, with the project's own names.
func TestScaffoldClusterLayers(t *testing.T) {
	n := 0
	for name, files := range scaffolds(t) {
		if files["deploy/k8s/cluster/kustomization.yaml"] == nil {
			if strings.Contains(name, "cluster") {
				t.Errorf("troupe new %s has no deploy/k8s/cluster", name)
			}
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			root := writeK8s(t, files)
			r := render(t, "troupe new "+name+": cluster", filepath.Join(root, "cluster"))
			if r.statefulSet == nil || r.hpa != nil {
				t.Fatalf("the cluster layer must run a StatefulSet without an HPA: %+v", r)
			}
			if problems := clusterProblems(t, r); problems != "" {
				t.Error(problems)
			}
			if cfg := effectiveConfig(t, r).cfg; !cfg.Actors.Cluster.Enabled {
				t.Error("the cluster layer's pods do not join the actor cluster (actors.cluster.enabled)")
			}
		})
	}
	if n != 8 {
		t.Errorf("%d projects have a cluster layer, want the 8 with cluster", n)
	}
}
