package scaffold

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/troupehq/troupe/internal/configdoc"
)

// sectionsOf are the tables of Troupe's config a project's config.toml
// lists, commented, for each feature; "" is every project's core.
var sectionsOf = map[Feature][]string{
	"":         {"http", "admin", "log", "health", "telemetry"},
	Actors:     {"actors"},
	Components: {"actors.components"},
	Auth:       {"auth"},
	Redis:      {"redis", "rate_limit"},
	Cluster:    {"actors.cluster", "actors.sharding", "nats"},
}

// configFile renders config.toml: every key of the project's features,
// commented out, with its meaning and its default, so the file documents
// what can be set and changes nothing until a line is uncommented. The keys
// come from config.Describe and the text from docs/config.md, so neither
// can drift from what the loader accepts.
func configFile(d *data) ([]byte, error) {
	keys, err := configdoc.Keys()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `# %s's configuration. Every line is commented out: the defaults apply until
# you uncomment one. The same keys can be set in $XDG_CONFIG_HOME/%s/config.toml,
# in /etc/xdg/%s/config.toml, or with %s* variables (%sHTTP__ADDRESS=:9000).
# "troupe config check" checks this file, "troupe config schema" describes every
# key, and docs/config.md in Troupe explains them.

# The service's own settings (settings in main.go).
# [app]
# greeting = "hello"
`, d.Service, d.Service, d.Service, d.Env, d.Env)
	features := append([]Feature{""}, d.Features...)
	for _, f := range features {
		if f == Cluster {
			b.WriteString(clusterIntro)
		}
		for _, section := range sectionsOf[f] {
			table := ""
			for _, k := range keys {
				parent, name := splitKey(k.Name)
				if !inSection(parent, section) || owner(parent) != f {
					continue
				}
				if on := clusterOn[k.Name]; on != "" && f == Cluster {
					fmt.Fprintf(&b, "\n[%s]\n# %s\n%s = %s\n", parent, wrapComment(k.Doc), name, on)
					table = parent
					continue
				}
				if parent != table {
					fmt.Fprintf(&b, "\n# [%s]\n", parent)
					table = parent
				}
				fmt.Fprintf(&b, "# %s\n# %s = %s\n", wrapComment(k.Doc), name, k.Default)
			}
		}
	}
	return b.Bytes(), nil
}

// clusterOn are the keys the cluster feature sets rather than comments out.
var clusterOn = map[string]string{"actors.cluster.enabled": "true"}

// clusterIntro explains the cluster keys before them: the file turns the
// cluster on, and one process alone is a cluster of one.
const clusterIntro = `
# Cluster: the actor system joins the cluster of this service's nodes over
# NATS. With nothing else set, one process runs an embedded NATS and is a
# cluster of one. To run several nodes, set nats.cluster.listen and
# nats.cluster.routes (every node's route URL) on each, a unique
# nats.server_name and a route user and password shared by all (README.md);
# or point nats.url at an external NATS.
`

// inSection reports whether a key's table is section or one of its
// subtables.
func inSection(table, section string) bool {
	return table == section || strings.HasPrefix(table, section+".")
}

// owner is the feature whose section holds table most closely: the
// actors.components tables belong to components and actors.cluster to
// cluster, not to actors.
func owner(table string) Feature {
	var best Feature
	longest := -1
	for f, sections := range sectionsOf {
		for _, s := range sections {
			if inSection(table, s) && len(s) > longest {
				best, longest = f, len(s)
			}
		}
	}
	return best
}

// splitKey splits "http.tls.min_version" into "http.tls" and "min_version".
func splitKey(key string) (table, name string) {
	i := strings.LastIndexByte(key, '.')
	return key[:i], key[i+1:]
}

// wrapComment folds a description into comment lines of about 90 columns.
func wrapComment(s string) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > 88 {
			lines = append(lines, line)
			line = w
			continue
		}
		line = strings.TrimSpace(line + " " + w)
	}
	return strings.Join(append(lines, line), "\n# ")
}
