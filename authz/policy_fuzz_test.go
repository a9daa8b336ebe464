package authz

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadPolicies feeds arbitrary text to the policy compiler LoadPolicies
// uses: whatever an operator's file holds, loading must end in a policy set
// or a *PolicyError naming the file, never a panic or a hang.
func FuzzLoadPolicies(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/cedar/notes/*.cedar")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "permit", "permit (principal, action, resource);",
		`@id("a") @id("b") permit (principal, action, resource);`,
		`forbid (principal, action, resource) when { "unterminated };`,
		"permit (principal, action, resource) when { context.time > 1 } unless { principal has x };",
		`permit (principal == User::"\u{0}", action in [Action::"a"], resource is Note in Folder::"f");`,
		"@id permit (principal, action, resource);", // found by fuzzing: an empty ID
		"/* not a cedar comment */", "\xff\xfe", `permit (principal, action, resource) when { ip("::1").isLoopback() && decimal("1.1") > decimal("1.0") };`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := compilePolicies([]policySource{{name: "fuzz.cedar", data: data}})
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.File != "fuzz.cedar" {
				t.Fatalf("error %v is not a PolicyError naming the file", err)
			}
			return
		}
		n := 0
		for id, p := range snap.set.All() {
			if id == "" || p == nil {
				t.Fatalf("policy %q = %v", id, p)
			}
			n++
		}
		if n != snap.count {
			t.Fatalf("set holds %d policies, count says %d", n, snap.count)
		}
	})
}
