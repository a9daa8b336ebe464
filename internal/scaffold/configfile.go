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
		for _, section := range sectionsOf[f] {
			table := ""
			for _, k := range keys {
				parent, name := splitKey(k.Name)
				if !inSection(parent, section, f) {
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

// inSection reports whether a key's table belongs to section for feature
// f: a table and its subtables, except that actors.components belongs to
// the components feature alone.
func inSection(table, section string, f Feature) bool {
	if table != section && !strings.HasPrefix(table, section+".") {
		return false
	}
	components := table == "actors.components" || strings.HasPrefix(table, "actors.components.")
	return components == (f == Components)
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
