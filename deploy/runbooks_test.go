package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// symptoms are the runbook pages operators were promised, one per
// symptom; a rename must be deliberate.
var symptoms = []string{
	"actor-crashing.md", "mailbox-dead-letters.md", "breaker-open.md", "rate-limit-rejections.md",
	"redis-down.md", "nats-cluster.md", "component-denied-or-reload-failed.md", "latency-p99.md",
	"memory-growing.md", "pods-not-ready.md", "slow-shutdown.md", "high-error-rate.md", "request-cycles.md",
	"realtime.md",
}

// TestRunbooks checks the runbook pages: each promised page exists and is
// in the index, the index lists only pages that exist, and every relative
// link from a page reaches an existing file and heading — the runbook
// entries that live beside their features are linked, not copied, so the
// links must hold.
func TestRunbooks(t *testing.T) {
	dir := "../docs/runbooks"
	index := readFile(t, filepath.Join(dir, "README.md"))
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pages {
		names = append(names, filepath.Base(p))
	}
	for _, s := range symptoms {
		if !slices.Contains(names, s) {
			t.Errorf("no runbook %s", s)
		}
	}
	for _, n := range names {
		if n != "README.md" && !strings.Contains(index, "("+n+")") {
			t.Errorf("docs/runbooks/README.md does not list %s", n)
		}
		text := readFile(t, filepath.Join(dir, n))
		for _, sec := range []string{"## Look at", "## Do"} {
			if n != "README.md" && n != "nats-cluster.md" && !strings.Contains(text, sec) {
				t.Errorf("%s has no %q section", n, sec)
			}
		}
		checkLinks(t, filepath.Join(dir, n), text)
	}
}

// checkLinks checks the relative Markdown links of the file at path.
func checkLinks(t *testing.T, path, text string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(text, -1) {
		target, anchor, _ := strings.Cut(m[1], "#")
		if strings.Contains(target, "://") {
			continue
		}
		file := path
		if target != "" {
			file = filepath.Join(filepath.Dir(path), target)
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s links to %s: %v", path, m[1], err)
			continue
		}
		if anchor != "" && !docAnchors(t, file)[anchor] {
			t.Errorf("%s links to %s: no such heading", path, m[1])
		}
	}
}
