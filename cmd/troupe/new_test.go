package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors/wasm/wasmtest"
	"github.com/troupehq/troupe/internal/scaffold"
)

func TestNewRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "orders/notes.txt", "mine")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"new", "example.com/orders"}, exitFailed, "orders is not empty (1 entries); choose another --dir, or pass --force"},
		{[]string{"new", "example.com/My Shop"}, exitUsage, "invalid module path"},
		{[]string{"new", "example.com/9lives"}, exitUsage, "does not make a service name"},
		{[]string{"new", "example.com/x", "--with", "nats"}, exitUsage, "--with nats: unknown feature"},
	} {
		code, stdout, stderr := runCLI(t, dir, nil, tc.args...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("troupe %s = %d\nstdout %q\nstderr %q; want %d and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.want)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "orders"))
	if len(entries) != 1 {
		t.Errorf("a refused new wrote into the directory: %d entries", len(entries))
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("a refused new created its directory: %v", err)
	}
}

// TestScaffoldEveryFeatureCombination generates a service for each of
// the 16 combinations of actors, components, auth and redis, each requiring
// this checkout through a replace directive, and vets and tests them all
// (go test builds each). cluster rides in the combination of all four
// rather than doubling the eight with actors: it changes how the actors and
// components run, so that is where it meets the most, and every feature
// still runs without it in the other fifteen. One go.work spans the
// projects so that a single go command checks them and Troupe's packages
// are loaded once; the build cache is the machine's, so they compile once
// too. Its cost is in docs/cli.md.
func TestScaffoldEveryFeatureCombination(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests 16 generated projects")
	}
	features := slices.DeleteFunc(slices.Clone(scaffold.Features), func(f scaffold.Feature) bool { return f == scaffold.Cluster })
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var dirs []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // go mod tidy is mostly waiting on the disk
	start := time.Now()
	for mask := range 1 << len(features) {
		var with []string
		for i, f := range features {
			if mask&(1<<i) != 0 {
				with = append(with, string(f))
			}
		}
		if len(with) == len(features) {
			with = append(with, string(scaffold.Cluster))
		}
		name := "svc-" + strings.Join(append([]string{"base"}, with...), "-")
		dirs = append(dirs, name)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			code, stdout, stderr := runCLI(t, root, nil, "new", "example.com/"+name, "--with", strings.Join(with, ","), "--replace", repo)
			if code != 0 {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("troupe new %s: exit %d\n%s%s", name, code, stdout, stderr)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("generated 16 projects in %s", time.Since(start).Round(time.Millisecond))

	// The eight projects with a component hold the same greeter. Build it
	// once, as dev mode does, and ship it in each, as an image does: the
	// dev-mode build itself is tested by Troupe's own tests, and eight
	// builds of one module would only cost CI time.
	start = time.Now()
	cache := filepath.Join(root, "cache")
	first := filepath.Join(root, "svc-base-components", "components", "greeter")
	if err := wasmtest.Warm(cache, first); err != nil {
		t.Fatal(err)
	}
	builds, _ := buildsOf(filepath.Join(cache, "build"), "greeter")
	module, err := os.ReadFile(builds[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if strings.Contains(d, "components") {
			writeFile(t, filepath.Join(root, d, "components", "greeter"), "greeter.wasm", string(module))
		}
	}
	t.Logf("built the greeter component in %s", time.Since(start).Round(time.Millisecond))

	work := "go " + scaffold.GoVersion + "\n\nuse (\n\t./" + strings.Join(dirs, "\n\t./") + "\n)\n"
	writeFile(t, root, "go.work", work)
	// XDG_CACHE_HOME keeps the services' component caches in the test's
	// directory; GOCACHE, which defaults to a directory under it, must stay
	// the machine's, or every package of Troupe and its dependencies would
	// be compiled and vetted again (measured: 4 minutes of CPU more).
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "XDG_CACHE_HOME="+cache, "GOCACHE="+strings.TrimSpace(string(gocache)), "GOFLAGS=-buildvcs=false")
	// "./..." does not reach into a workspace's modules from its root:
	// name each one.
	var patterns []string
	for _, d := range dirs {
		patterns = append(patterns, "./"+d+"/...")
	}
	// go vet type-checks every package and go test compiles and links
	// each project with its test; a separate go build would only link 24
	// binaries more (measured: 47s of CPU).
	// Stop the go commands before the test binary's own deadline, so a
	// slow machine gets a failure that says what was running, not a panic.
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	for _, args := range [][]string{{"vet"}, {"test", "-count=1"}} {
		args = append(args, patterns...)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", args[0], err, out)
		}
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		t.Logf("go %s: %s, %s of CPU", args[0], time.Since(start).Round(time.Millisecond), cpu.Round(time.Millisecond))
		if args[0] == "test" {
			if n := strings.Count(string(out), "ok  \texample.com/"); n != len(dirs) {
				t.Errorf("%d of %d projects' tests passed:\n%s", n, len(dirs), out)
			}
		}
	}
}
