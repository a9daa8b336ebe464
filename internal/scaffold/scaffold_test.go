package scaffold

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/troupehq/troupe/config"
)

var update = flag.Bool("update", false, "rewrite the repository's deploy/k8s from the templates")

func TestParseFeatures(t *testing.T) {
	got, err := ParseFeatures(" redis,Actors,,redis, components ")
	if err != nil || !slices.Equal(got, []Feature{Actors, Components, Redis}) {
		t.Errorf("ParseFeatures = %v, %v", got, err)
	}
	// The cluster is the actor system's: it brings actors.
	if got, err := ParseFeatures("cluster,auth"); err != nil || !slices.Equal(got, []Feature{Actors, Auth, Cluster}) {
		t.Errorf("ParseFeatures(cluster,auth) = %v, %v", got, err)
	}
	for list, want := range map[string]string{
		"actors,nats": "--with nats: unknown feature (want a comma-separated list of actors, components, auth, redis, cluster)",
	} {
		if _, err := ParseFeatures(list); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFeatures(%q) = %v; want %q", list, err, want)
		}
	}
}

func TestModulePathAndServiceName(t *testing.T) {
	for path, want := range map[string]string{
		"example.com/orders":        "orders",
		"example.com/orders/v2":     "orders",
		"github.com/acme/Order.API": "order-api",
		"orders":                    "orders",
	} {
		if err := CheckModulePath(path); err != nil {
			t.Errorf("CheckModulePath(%q) = %v", path, err)
		}
		if got, err := ServiceName(path); got != want || err != nil {
			t.Errorf("ServiceName(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	for path, want := range map[string]string{
		"":                     "invalid module path",
		"example.com/My Shop":  "invalid module path",
		"example.com/../x":     "invalid module path",
		"-flag":                "invalid module path",
		"example.com/9lives":   "does not make a service name",
		"example.com/_private": "does not make a service name",
	} {
		if err := CheckModulePath(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckModulePath(%q) = %v; want %q", path, err, want)
		}
	}
}

func TestNewRendersTheChosenFeatures(t *testing.T) {
	bare, err := New(Project{Module: "example.com/orders", Require: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(Project{Module: "example.com/orders", Features: Features, Require: "v0.0.0-00010101000000-000000000000", Replace: "/src/troupe"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"go.mod", "main.go", "main_test.go", "config.toml", "README.md", "Dockerfile", ".dockerignore", ".gitignore",
		"deploy/k8s/base/kustomization.yaml", "deploy/k8s/base/deployment.yaml", "deploy/k8s/overlays/prod/kustomization.yaml"} {
		if bare[p] == nil || full[p] == nil {
			t.Errorf("%s missing", p)
		}
	}
	for _, p := range []string{"counter.go", "components/greeter/main.go", "components/greeter/Component.toml", "policies/policy.cedar",
		"deploy/k8s/cluster/kustomization.yaml", "deploy/k8s/cluster/statefulset.yaml", "deploy/k8s/cluster/service-cluster.yaml", "deploy/k8s/cluster/networkpolicy-cluster.yaml"} {
		if bare[p] != nil || full[p] == nil {
			t.Errorf("%s: in the bare project %t, in the full one %t", p, bare[p] != nil, full[p] != nil)
		}
	}
	if !bytes.Contains(bare["go.mod"], []byte("require github.com/troupehq/troupe v1.2.3")) || bytes.Contains(bare["go.mod"], []byte("replace")) {
		t.Errorf("bare go.mod:\n%s", bare["go.mod"])
	}
	if !bytes.Contains(full["go.mod"], []byte("replace github.com/troupehq/troupe => /src/troupe")) {
		t.Errorf("full go.mod:\n%s", full["go.mod"])
	}
	for _, want := range []string{`actors.Route("counter")`, `service.WithComponents("components")`, `c.Auth.Cedar.Policies = "policies"`, "c.RateLimit.Enabled = true", "actors.WithSingleton()"} {
		if bytes.Contains(bare["main.go"], []byte(want)) || !bytes.Contains(full["main.go"], []byte(want)) {
			t.Errorf("main.go: %s should be in the full project only", want)
		}
	}
	if !bytes.Contains(full["counter.go"], []byte(`actors.RegisterMessage[count]("orders.count")`)) {
		t.Error("in a cluster, the counter's reply type is not registered for the wire")
	}
	if !bytes.Contains(full["config.toml"], []byte("\n[actors.cluster]\n")) || !bytes.Contains(full["config.toml"], []byte("\nenabled = true\n")) ||
		!bytes.Contains(full["config.toml"], []byte("# [nats.cluster]\n")) || bytes.Contains(bare["config.toml"], []byte("[actors.cluster]")) {
		t.Error("config.toml: only a cluster project turns on actors.cluster and lists the nats keys")
	}
	if bytes.Contains(bare["deploy/k8s/base/deployment.yaml"], []byte("secretName")) || !bytes.Contains(full["deploy/k8s/base/deployment.yaml"], []byte("secretName: orders-secrets")) {
		t.Error("only a project with secrets mounts the secret")
	}
}

// TestConfigFileIsCommentedAndLoads: config.toml lists the features' keys
// and, everything commented out, loads to the defaults.
func TestConfigFileIsCommentedAndLoads(t *testing.T) {
	files, err := New(Project{Module: "example.com/orders", Features: []Feature{Redis}, Require: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := string(files["config.toml"])
	for _, want := range []string{"# [http]\n", `# address = ":8080"`, "# [rate_limit]\n", "# [redis]\n", `# timeout = "50ms"`, "# [app]\n# greeting"} {
		if !strings.Contains(cfgFile, want) {
			t.Errorf("config.toml lacks %q", want)
		}
	}
	for _, absent := range []string{"[auth", "[actors"} {
		if strings.Contains(cfgFile, absent) {
			t.Errorf("config.toml of a redis-only project has %s", absent)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, files["config.toml"], 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if _, err := (config.Loader{Service: "orders", File: path, Environ: []string{}, ConfigHome: dir, ConfigDirs: []string{}}).Load(&cfg); err != nil {
		t.Fatal(err)
	}
	// Uncommenting a line is all it takes to set a key.
	edited := strings.Replace(cfgFile, "# [redis]\n", "[redis]\n", 1)
	edited = strings.Replace(edited, `# timeout = "50ms"`, `timeout = "80ms"`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = config.Default()
	if _, err := (config.Loader{Service: "orders", File: path, Environ: []string{}, ConfigHome: dir, ConfigDirs: []string{}}).Load(&cfg); err != nil || cfg.Redis.Timeout.String() != "80ms" {
		t.Fatalf("uncommented redis.timeout: %v, %v", cfg.Redis.Timeout, err)
	}
}

func TestComponent(t *testing.T) {
	files, err := Component("billing")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(files["Component.toml"], []byte(`name = "billing"`)) || !bytes.Contains(files["Component.toml"], []byte(`wasm = "billing.wasm"`)) || files["main.go"] == nil {
		t.Errorf("component files: %v", files.Paths())
	}
	for _, bad := range []string{"", "Billing", "1x", "a/b", strings.Repeat("x", 65)} {
		if _, err := Component(bad); err == nil {
			t.Errorf("Component(%q) succeeded", bad)
		}
	}
}

// showcase is the project the repository's deploy/k8s is rendered for:
// every feature but the cluster's. deploy/k8s/cluster is the showcase's
// own layer, which the templates' cluster layer mirrors: the showcase's
// named actors are one per cluster, so it keeps actors.cluster.enabled off
// where a generated service, whose counter is a singleton, turns it on.
// deploy/validate checks both layers.
var showcase = Project{Module: "github.com/troupehq/troupe/examples/showcase", Features: []Feature{Actors, Components, Auth, Redis}}

// TestRepositoryManifestsAreTheTemplates keeps deploy/k8s, the showcase's
// manifests, equal to what troupe new generates with its features, so the
// manifests CI validates are the ones users get.
func TestRepositoryManifestsAreTheTemplates(t *testing.T) {
	files, err := K8s(showcase)
	if err != nil {
		t.Fatal(err)
	}
	root := "../../deploy/k8s"
	for _, p := range files.Paths() {
		path := filepath.Join(root, filepath.FromSlash(p))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, files[p], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, files[p]) {
			t.Errorf("%s differs from the templates (%v): go test ./internal/scaffold -update", path, err)
		}
	}
	var onDisk []string
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && !strings.HasPrefix(filepath.ToSlash(p), root+"/cluster/") {
			rel, _ := filepath.Rel(root, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return nil
	})
	if !slices.Equal(onDisk, files.Paths()) && !*update {
		t.Errorf("deploy/k8s holds %v; the templates make %v", onDisk, files.Paths())
	}
}

func TestGraceCoversTheShutdownSequence(t *testing.T) {
	cfg := config.Default()
	// 5 preStop + 5 drain + 30 requests + 10 actors + 5 telemetry + 1 admin + 5 margin.
	if got := GraceSeconds(cfg); got != 61 {
		t.Errorf("GraceSeconds(defaults) = %d, want 61", got)
	}
	cfg.Actors.ShutdownTimeout = cfg.HTTP.ShutdownTimeout * 2 // bounded by the subsystems' deadline
	if got := GraceSeconds(cfg); got != 81 {
		t.Errorf("GraceSeconds with long actor shutdown = %d, want 81", got)
	}
}
