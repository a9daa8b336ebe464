package authz

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (name → content) in a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func policyIDs(s *PolicyStore) []string {
	var ids []string
	for id := range s.snapshot().set.All() {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	return ids
}

func TestLoadPolicies(t *testing.T) {
	const permitAll = "permit (principal, action, resource);\n"
	tests := []struct {
		name    string
		files   map[string]string
		path    string // relative to the directory; "" = the directory
		wantIDs []string
	}{
		{
			name:    "directory: .cedar files only, non-recursive, hidden files skipped",
			files:   map[string]string{"a.cedar": permitAll, "b.cedar": "\n" + permitAll, "notes.txt": "junk", ".#a.cedar": "junk", "sub/c.cedar": permitAll},
			wantIDs: []string{"a.cedar:1:1", "b.cedar:2:1"},
		},
		{
			name:    "single file, any extension",
			files:   map[string]string{"policies.txt": permitAll + "forbid (principal, action, resource) when { false };"},
			path:    "policies.txt",
			wantIDs: []string{"policies.txt:1:1", "policies.txt:2:1"},
		},
		{
			name:    "@id annotations name policies",
			files:   map[string]string{"a.cedar": `@id("everyone") ` + permitAll},
			wantIDs: []string{"everyone"},
		},
		{
			name:    "a file of comments loads as an empty set",
			files:   map[string]string{"a.cedar": "// nothing yet\n"},
			wantIDs: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			s, err := LoadPolicies(filepath.Join(dir, tt.path))
			if err != nil {
				t.Fatalf("LoadPolicies: %v", err)
			}
			if got := policyIDs(s); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("policy IDs = %q, want %q", got, tt.wantIDs)
			}
			if s.Generation() != 1 || s.LastError() != nil || s.Len() != len(tt.wantIDs) {
				t.Errorf("Generation = %d, LastError = %v, Len = %d", s.Generation(), s.LastError(), s.Len())
			}
		})
	}
}

func TestLoadPoliciesErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		path  string
		want  string // substring of the error
		pos   [2]int // line, column of a *PolicyError; zero = not a PolicyError
	}{
		{name: "missing path", path: "nope", want: "no such file"},
		{name: "no .cedar files", files: map[string]string{"x.txt": ""}, want: "no .cedar files"},
		{
			name:  "parse error names file, line and column",
			files: map[string]string{"a.cedar": "permit (principal, action, resource);\npermit (principal, action, resource)\nwhen { 1 + };\n"},
			want:  `a.cedar:3:13: syntax error: ";": invalid primary`, pos: [2]int{3, 13},
		},
		{
			name:  "scanner error",
			files: map[string]string{"a.cedar": `permit (principal, action, resource) when { "open };`},
			want:  "a.cedar:1:", pos: [2]int{1, 45},
		},
		{
			name:  "empty id",
			files: map[string]string{"a.cedar": "@id\npermit (principal, action, resource);"},
			want:  "a.cedar:1:1: empty @id annotation", pos: [2]int{1, 1},
		},
		{
			name: "duplicate id across files",
			files: map[string]string{
				"a.cedar": `@id("p") permit (principal, action, resource);`,
				"b.cedar": "\n\n" + `@id("p") forbid (principal, action, resource);`,
			},
			want: `duplicate policy id "p"`, pos: [2]int{3, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			s, err := LoadPolicies(filepath.Join(dir, tt.path))
			if err == nil {
				t.Fatalf("LoadPolicies = %v, want an error", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var pe *PolicyError
			if tt.pos == [2]int{} {
				if errors.As(err, &pe) {
					t.Errorf("unexpected PolicyError %v", pe)
				}
				return
			}
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PolicyError", err)
			}
			if [2]int{pe.Line, pe.Column} != tt.pos || !strings.HasPrefix(pe.File, dir) {
				t.Errorf("PolicyError at %s:%d:%d, want %d:%d in %s", pe.File, pe.Line, pe.Column, tt.pos[0], tt.pos[1], dir)
			}
		})
	}
}

func TestReload(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.cedar": `@id("old") permit (principal, action, resource);`})
	s, err := LoadPolicies(dir)
	if err != nil {
		t.Fatal(err)
	}
	var reloaded []uint64
	s.OnReload(func(gen uint64) { reloaded = append(reloaded, gen) })
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "a.cedar"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Unchanged sources: nothing happens.
	if err := s.Reload(); err != nil || s.Generation() != 1 || len(reloaded) != 0 {
		t.Fatalf("unchanged: err %v, generation %d, callbacks %v", err, s.Generation(), reloaded)
	}

	write(`@id("new") permit (principal, action, resource);`)
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := policyIDs(s); s.Generation() != 2 || !slices.Equal(got, []string{"new"}) || !slices.Equal(reloaded, []uint64{2}) {
		t.Fatalf("after a good edit: generation %d, ids %q, callbacks %v", s.Generation(), got, reloaded)
	}

	write("@id(\"new\") permit (principal, action, resource);\nforbid (principal, action resource);")
	err = s.Reload()
	var pe *PolicyError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.HasSuffix(pe.File, "a.cedar") {
		t.Fatalf("bad edit: Reload error %v, want a PolicyError at a.cedar:2", err)
	}
	if s.LastError() != err || s.Generation() != 2 || !slices.Equal(policyIDs(s), []string{"new"}) || len(reloaded) != 1 {
		t.Fatalf("bad edit must keep the old set: LastError %v, generation %d, ids %q", s.LastError(), s.Generation(), policyIDs(s))
	}
	// Asking again without a change reports the same failure.
	if again := s.Reload(); again != err {
		t.Errorf("Reload again = %v, want the kept error", again)
	}

	if err := os.Remove(filepath.Join(dir, "a.cedar")); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || s.LastError() == nil || s.Generation() != 2 {
		t.Fatalf("emptied directory: err %v, generation %d", err, s.Generation())
	}

	write(`@id("fixed") permit (principal, action, resource);`)
	if err := s.Reload(); err != nil || s.LastError() != nil {
		t.Fatalf("fixed: err %v, LastError %v", err, s.LastError())
	}
	if s.Generation() != 3 || !slices.Equal(policyIDs(s), []string{"fixed"}) || !slices.Equal(reloaded, []uint64{2, 3}) {
		t.Errorf("fixed: generation %d, ids %q, callbacks %v", s.Generation(), policyIDs(s), reloaded)
	}
}

func TestContextUsage(t *testing.T) {
	tests := []struct {
		cond string
		want contextUsage
	}{
		{"true", 0},
		{"context.ip.isInRange(ip(\"10.0.0.0/8\"))", usesIP},
		{`context["api_version"] == "v2" && context has method`, usesAPIVersion | usesMethod},
		{`context has "path"`, usesPath},
		{"(context).time > 0", usesTime},
		{`context["\u{74}ime"] > 0`, usesTime}, // escapes are decoded before the scan
		{"context.tenant == \"a\"", 0},         // not an attribute Troupe supplies
		{"context == {}", usesAll},
		{`principal.note == "context"`, usesAll}, // over-reports, never under
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"a.cedar": "permit (principal, action, resource) when { " + tt.cond + " };"})
			s, err := LoadPolicies(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.snapshot().context; got != tt.want {
				t.Errorf("context usage = %05b, want %05b", got, tt.want)
			}
		})
	}
}
