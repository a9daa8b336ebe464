package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gotoml "github.com/pelletier/go-toml/v2"

	"github.com/troupehq/troupe/config"
)

// loaded is the config a pod would run with, and the secret files it
// names.
type loaded struct {
	cfg         config.Config
	secretFiles []string // paths of the *_file keys, as the manifests give them
}

// effectiveConfig loads the rendered ConfigMap's config.toml and the
// container's variables with the config package, as the service does in
// the pod. Secret files do not exist here: their paths are recorded and
// the loader given stand-ins, and the issuer and audience that the
// services set in code (service.WithConfigDefaults) are supplied as
// variables. A variable from the pod's name gets the first pod's
// (<name>-0); other fields and resources are left out.
func effectiveConfig(t *testing.T, r *rendered) loaded {
	t.Helper()
	text := r.configMap.Data["config.toml"]
	if text == "" {
		t.Fatalf("%s: the ConfigMap has no config.toml", r.name)
	}
	var l loaded
	var raw map[string]any
	if err := gotoml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatalf("%s: config.toml: %v", r.name, err)
	}
	collectFiles(raw, &l.secretFiles)
	prefix := config.EnvPrefix(r.serviceName)
	c := r.pod().Spec.Containers[0]
	var environ []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			environ = append(environ, e.Name+"="+e.Value)
			if strings.HasSuffix(e.Name, "_FILE") {
				l.secretFiles = append(l.secretFiles, e.Value)
			}
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			environ = append(environ, e.Name+"="+r.serviceName+"-0")
		}
	}
	slices.Sort(l.secretFiles)
	stand := t.TempDir()
	for _, f := range l.secretFiles {
		stub := filepath.Join(stand, filepath.Base(f))
		value := strings.Repeat("s", 48)
		if strings.Contains(f, "redis") {
			value = "redis://127.0.0.1:6379/0"
		}
		if err := os.WriteFile(stub, []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, f, stub)
		for i, v := range environ {
			if name, value, _ := strings.Cut(v, "="); value == f && strings.HasSuffix(name, "_FILE") {
				environ[i] = name + "=" + stub
			}
		}
	}
	if len(l.secretFiles) > 0 && strings.Contains(text, "hmac_secret_file") {
		environ = append(environ, prefix+"AUTH__JWT__ISSUER="+r.serviceName, prefix+"AUTH__JWT__AUDIENCE="+r.serviceName+"-api")
	}
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	l.cfg = config.Default()
	loader := config.Loader{Service: r.serviceName, File: file, Environ: environ, ConfigHome: t.TempDir(), ConfigDirs: []string{}, WorkDir: t.TempDir()}
	if _, err := loader.Load(&l.cfg); err != nil {
		t.Fatalf("%s: the pod's config does not load: %v", r.name, err)
	}
	return l
}

// collectFiles appends the values of every *_file key in a TOML tree.
func collectFiles(tree map[string]any, out *[]string) {
	for k, v := range tree {
		switch v := v.(type) {
		case map[string]any:
			collectFiles(v, out)
		case string:
			if strings.HasSuffix(k, "_file") && v != "" {
				*out = append(*out, v)
			}
		}
	}
}
