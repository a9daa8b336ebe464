package validate

import (
	"strings"
	"testing"

	"github.com/troupehq/troupe/internal/scaffold"
)

// scaffolds renders a project for every combination of troupe new's
// features, keyed by the combination ("base", "actors+auth", ...).
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
		files, err := scaffold.New(scaffold.Project{Module: "example.com/orders", Features: with, Require: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		out[strings.Join(names, "+")] = files
	}
	return out
}
