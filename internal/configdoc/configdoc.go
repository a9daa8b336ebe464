// Package configdoc joins the keys config.Describe reports with their
// documentation — the meaning column of the key table in docs/config.md —
// for the tools that show keys to people: `troupe config schema` (editor
// hover text) and the commented config.toml of `troupe new`.
//
// The binary cannot read docs/ at run time, so descriptions.go holds the
// table's text, generated from the docs by this package's test:
//
//	go test ./internal/configdoc -run TestDescriptions -update
//
// and the test fails when the two differ, so an edit to the docs alone, or
// a key without a row, is caught.
package configdoc

import "github.com/troupehq/troupe/config"

// Key is a config key with its documentation.
type Key struct {
	config.Key
	// Doc is the key's meaning from docs/config.md, in Markdown; for a
	// "<key>_file" sibling it says which secret the file holds.
	Doc string
}

// Keys describes Troupe's own keys with config.Default's values.
func Keys() ([]Key, error) {
	cfg := config.Default()
	keys, err := config.Describe(&cfg)
	if err != nil {
		return nil, err
	}
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key{Key: k, Doc: descriptions[k.Name]}
		if k.FileOf != "" {
			out[i].Doc = "A file holding `" + k.FileOf + "` (a mounted secret); it replaces the key's value and is read at start-up."
		}
	}
	return out, nil
}
