package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	gotoml "github.com/pelletier/go-toml/v2"

	"github.com/troupehq/troupe/config"
)

func schemaOutput(t *testing.T) (string, map[string]any) {
	t.Helper()
	code, stdout, stderr := runCLI(t, t.TempDir(), nil, "config", "schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	return stdout, s
}

func TestSchemaGolden(t *testing.T) {
	out, _ := schemaOutput(t)
	golden(t, "config-schema.golden.json", out)
}

// leaves maps each leaf key of a schema to its node.
func leaves(node map[string]any, prefix string, out map[string]map[string]any) {
	props, _ := node["properties"].(map[string]any)
	for name, child := range props {
		c := child.(map[string]any)
		if _, nested := c["properties"]; nested {
			leaves(c, prefix+name+".", out)
		} else if prefix+name != "app" {
			out[prefix+name] = c
		}
	}
}

// TestSchemaHasEveryKey checks the schema against the loader's keys and
// the type column of docs/config.md's key table.
func TestSchemaHasEveryKey(t *testing.T) {
	_, s := schemaOutput(t)
	got := map[string]map[string]any{}
	leaves(s, "", got)
	cfg := config.Default()
	keys, err := config.Describe(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range keys {
		want = append(want, k.Name)
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if !slices.Equal(names, want) {
		t.Fatalf("schema keys differ from config.Describe:\n%v\n%v", names, want)
	}
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	rowType := regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\| ([^|]+?) \\|")
	docTypes := map[string]string{}
	for _, m := range rowType.FindAllStringSubmatch(string(doc), -1) {
		docTypes[m[1]] = m[2]
	}
	expect := map[string]string{ // docs type → schema shape
		"string": "string", "secret string": "string", "bool": "boolean", "integer": "integer", "int": "integer",
		"number": "number", "duration": "duration", "size": "size", "list of strings": "array",
	}
	for name, node := range got {
		if strings.HasSuffix(name, "_file") && docTypes[name] == "" {
			continue // a secret's file sibling: a string, no row of its own
		}
		if node["description"] == "" || node["description"] == nil {
			t.Errorf("%s has no description", name)
		}
		if shape, want := shapeOf(node), expect[docTypes[name]]; shape != want {
			t.Errorf("%s: schema says %s, docs/config.md says %q", name, shape, docTypes[name])
		}
	}
}

func shapeOf(node map[string]any) string {
	if _, ok := node["anyOf"]; ok {
		return "size"
	}
	if node["pattern"] == durationPattern {
		return "duration"
	}
	return fmt.Sprint(node["type"])
}

// validate checks v against the subset of JSON Schema the generator uses,
// returning the problems with their paths.
func validate(node map[string]any, v any, path string) []string {
	if alts, ok := node["anyOf"].([]any); ok {
		for _, alt := range alts {
			if len(validate(alt.(map[string]any), v, path)) == 0 {
				return nil
			}
		}
		return []string{path + ": matches no alternative"}
	}
	switch node["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{path + ": not a table"}
		}
		props, _ := node["properties"].(map[string]any)
		var errs []string
		for k, child := range m {
			p, ok := props[k]
			if !ok {
				if node["additionalProperties"] == false {
					errs = append(errs, path+"."+k+": unknown key")
				}
				continue
			}
			errs = append(errs, validate(p.(map[string]any), child, strings.TrimPrefix(path+"."+k, "."))...)
		}
		return errs
	case "array":
		l, ok := v.([]any)
		if !ok {
			return []string{path + ": not a list"}
		}
		var errs []string
		for i, item := range l {
			errs = append(errs, validate(node["items"].(map[string]any), item, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case "string":
		s, ok := v.(string)
		if !ok {
			return []string{path + ": not a string"}
		}
		if p, ok := node["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			return []string{path + ": does not match " + p}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{path + ": not a boolean"}
		}
	case "integer":
		n, ok := v.(int64)
		if !ok {
			return []string{path + ": not an integer"}
		}
		if lo, ok := node["minimum"].(float64); ok && float64(n) < lo {
			return []string{path + ": below the minimum"}
		}
	case "number":
		switch v.(type) {
		case int64, float64:
		default:
			return []string{path + ": not a number"}
		}
	}
	return nil
}

// TestSchemaAcceptsTheExampleAndRejectsMistakes validates config.example.toml
// (every key, with its default) and files the loader refuses.
func TestSchemaAcceptsTheExampleAndRejectsMistakes(t *testing.T) {
	_, s := schemaOutput(t)
	parse := func(doc string) map[string]any {
		var v map[string]any
		if err := gotoml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if errs := validate(s, parse(string(example)), ""); len(errs) > 0 {
		t.Errorf("config.example.toml fails the schema: %v", errs)
	}
	if errs := validate(s, parse("[app]\nanything = [1, 2]\n[http]\nbody_limit = 1024\n"), ""); len(errs) > 0 {
		t.Errorf("valid file fails the schema: %v", errs)
	}
	for doc, want := range map[string]string{
		"[http]\nadress = \":80\"\n":        "http.adress: unknown key",
		"[http]\nread_timeout = 30\n":       "http.read_timeout: not a string",
		"[http]\nread_timeout = \"30\"\n":   "http.read_timeout: does not match",
		"[http]\nbody_limit = \"1.5MiB\"\n": "http.body_limit: matches no alternative",
		"[log]\naccess = \"yes\"\n":         "log.access: not a boolean",
		"[cors]\nallow_origins = \"x\"\n":   "cors.allow_origins: not a list",
		"[nope]\n":                          ".nope: unknown key",
	} {
		if errs := validate(s, parse(doc), ""); len(errs) != 1 || !strings.Contains(errs[0], want) {
			t.Errorf("%q: schema problems %v; want %q", doc, errs, want)
		}
	}
}
