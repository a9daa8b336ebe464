// Package scaffold renders the files of a new Troupe service — its main
// package, config, test, optional actor and WASM component, Dockerfile and
// Kubernetes manifests — from templates embedded in the binary. `troupe
// new` and `troupe component new` write what it renders; the deploy
// validation module renders every feature combination to check the
// manifests; and the repository's own deploy/k8s is its rendering for the
// showcase, so the manifests users get are the ones CI validates.
package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"

	"golang.org/x/mod/module"

	"github.com/troupehq/troupe/config"
)

// GoVersion is the go directive of a generated go.mod: Troupe's own, the
// oldest Go that builds it.
const GoVersion = "1.26.0"

// TroupeModule is the module path a generated go.mod requires.
const TroupeModule = "github.com/troupehq/troupe"

//go:embed all:templates
var templates embed.FS

// Feature is one optional part of a generated service (--with).
type Feature string

// The features `troupe new --with` accepts.
const (
	Actors     Feature = "actors"     // a native actor serving a route
	Components Feature = "components" // a WASM component written in Go
	Auth       Feature = "auth"       // JWT authentication and Cedar policies
	Redis      Feature = "redis"      // shared rate limits and state in Redis
	Cluster    Feature = "cluster"    // the actor system joined to a NATS cluster; implies Actors
)

// Features lists every feature in the order --with documents them.
var Features = []Feature{Actors, Components, Auth, Redis, Cluster}

// ParseFeatures parses a comma-separated --with list. Order and repeats do
// not matter; cluster brings actors with it, since the cluster is the actor
// system's. An unknown feature is an error naming it.
func ParseFeatures(list string) ([]Feature, error) {
	var out []Feature
	for item := range strings.SplitSeq(list, ",") {
		f := Feature(strings.TrimSpace(strings.ToLower(item)))
		switch {
		case f == "":
			continue
		case slices.Contains(Features, f):
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		default:
			return nil, fmt.Errorf("--with %s: unknown feature (want a comma-separated list of %s)", f, featureList())
		}
	}
	if slices.Contains(out, Cluster) && !slices.Contains(out, Actors) {
		out = append(out, Actors)
	}
	slices.SortFunc(out, func(a, b Feature) int { return slices.Index(Features, a) - slices.Index(Features, b) })
	return out, nil
}

func featureList() string {
	names := make([]string, len(Features))
	for i, f := range Features {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Project is what a new service is generated from.
type Project struct {
	// Module is the Go module path, e.g. "example.com/orders".
	Module string
	// Features are the optional parts to include.
	Features []Feature
	// Require is the version of Troupe the go.mod requires; with Replace
	// set it is the placeholder v0.0.0-00010101000000-000000000000, and ""
	// leaves the requirement to go get.
	Require string
	// Replace, when set, is a local Troupe checkout the go.mod points the
	// Troupe module at (developing Troupe itself, or its scaffold test).
	Replace string
}

// CheckModulePath reports whether path can name a new module: a valid Go
// import path (golang.org/x/mod's rules; like go mod init, a first element
// without a dot is allowed for a module never fetched) whose last
// element, or the one before a /vN suffix, makes a service name.
func CheckModulePath(p string) error {
	if err := module.CheckImportPath(p); err != nil {
		return fmt.Errorf("invalid module path: %w", err)
	}
	_, err := ServiceName(p)
	return err
}

// ServiceName derives the service's name — its config directory and
// environment prefix — from a module path: the last element (skipping a
// major-version suffix such as /v2), lower-cased, with dots turned into
// dashes. It must then be a valid service name: a lower-case letter
// followed by [a-z0-9_-].
func ServiceName(modulePath string) (string, error) {
	prefix, _, ok := module.SplitPathVersion(modulePath)
	if !ok {
		prefix = modulePath
	}
	name := strings.ReplaceAll(strings.ToLower(path.Base(prefix)), ".", "-")
	valid := name != "" && name[0] >= 'a' && name[0] <= 'z'
	for _, c := range []byte(name) {
		valid = valid && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-')
	}
	if !valid {
		return "", fmt.Errorf("module path %q: its last element %q does not make a service name (a letter followed by letters, digits, _ or -)", modulePath, path.Base(prefix))
	}
	return name, nil
}

// data is what the templates see.
type data struct {
	Project
	TroupeModule string
	Service      string // the service name
	Env          string // its environment prefix, "ORDERS_"
	Image        string // the image name in Dockerfile and manifests
	GoVersion    string
	GoMinor      string // "1.26", for the builder image tag
	Component    string // the component's name (greeter in a project)
	Actors       bool
	Components   bool
	Auth         bool
	Redis        bool
	Cluster      bool
	Secrets      bool // a feature of the base reads a secret from a mounted file
	Drain        int  // config.Default's http.drain_delay, in seconds
	Grace        int  // terminationGracePeriodSeconds, see graceSeconds
}

func newData(p Project) (*data, error) {
	if err := CheckModulePath(p.Module); err != nil {
		return nil, err
	}
	name, _ := ServiceName(p.Module)
	d := &data{Project: p, TroupeModule: TroupeModule, Service: name, Env: config.EnvPrefix(name), Image: name, GoVersion: GoVersion, Component: "greeter"}
	d.GoMinor = strings.Join(strings.SplitN(GoVersion, ".", 3)[:2], ".")
	d.Actors = slices.Contains(p.Features, Actors) || slices.Contains(p.Features, Cluster)
	d.Components = slices.Contains(p.Features, Components)
	d.Auth = slices.Contains(p.Features, Auth)
	d.Redis = slices.Contains(p.Features, Redis)
	d.Cluster = slices.Contains(p.Features, Cluster)
	d.Secrets = d.Auth || d.Redis
	def := config.Default()
	d.Drain = int(def.HTTP.DrainDelay.Seconds())
	d.Grace = GraceSeconds(def)
	return d, nil
}

// GraceSeconds is the terminationGracePeriodSeconds a pod needs with cfg:
// the preStop sleep (http.drain_delay) and then the worst case of Troupe's
// own shutdown sequence (docs/service.md): the drain delay again, in-flight
// requests (http.shutdown_timeout), subsystems with the actors under their
// own deadline (the shorter of actors.shutdown_timeout and
// http.shutdown_timeout), the telemetry flush (telemetry.shutdown_timeout)
// and the admin listener (1s) — plus 5s for the process to exit and its
// logs to be read before the kubelet's SIGKILL.
func GraceSeconds(cfg config.Config) int {
	worst := 2*cfg.HTTP.DrainDelay + cfg.HTTP.ShutdownTimeout +
		min(cfg.Actors.ShutdownTimeout, cfg.HTTP.ShutdownTimeout) + cfg.Telemetry.ShutdownTimeout
	return int(worst.Seconds()) + 1 + 5
}

// Files are rendered files: slash-separated paths relative to the
// project's root, and their contents.
type Files map[string][]byte

// Paths returns the file paths, sorted.
func (f Files) Paths() []string {
	paths := make([]string, 0, len(f))
	for p := range f {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// New renders every file of a new project.
func New(p Project) (Files, error) {
	d, err := newData(p)
	if err != nil {
		return nil, err
	}
	out := Files{}
	if err := render(out, "templates/project", "", d); err != nil {
		return nil, err
	}
	if err := render(out, "templates/k8s", "deploy/k8s", d); err != nil {
		return nil, err
	}
	cfg, err := configFile(d)
	if err != nil {
		return nil, err
	}
	out["config.toml"] = cfg
	if d.Components {
		if err := render(out, "templates/component", "components/"+d.Component, d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// K8s renders only the deploy/k8s tree of a project, paths relative to it.
func K8s(p Project) (Files, error) {
	d, err := newData(p)
	if err != nil {
		return nil, err
	}
	out := Files{}
	return out, render(out, "templates/k8s", "", d)
}

// Component renders a Go guest named name: its main.go and Component.toml,
// paths relative to the component's directory.
func Component(name string) (Files, error) {
	if !validComponentName(name) {
		return nil, fmt.Errorf("invalid component name %q: want a lower-case letter followed by up to 63 of [a-z0-9_-]", name)
	}
	out := Files{}
	return out, render(out, "templates/component", "", &data{Component: name})
}

// validComponentName is the manifest's rule for component.name, which
// becomes an actor name.
func validComponentName(name string) bool {
	if name == "" || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// render executes every template under root into out, at the same path
// below prefix with ".tmpl" dropped. A template that renders to nothing but
// white space is a file the project's features leave out.
func render(out Files, root, prefix string, d *data) error {
	return fs.WalkDir(templates, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		src, err := templates.ReadFile(p)
		if err != nil {
			return err
		}
		t, err := template.New(p).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return err
		}
		if len(bytes.TrimSpace(buf.Bytes())) == 0 {
			return nil
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")
		b := buf.Bytes()
		if strings.HasSuffix(rel, ".go") {
			// Templates cannot keep gofmt's alignment for every feature
			// set; a generated file is formatted like hand-written code.
			if b, err = format.Source(b); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		out[path.Join(prefix, rel)] = b
		return nil
	})
}
