package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestMain makes the test binary double as troupe when TROUPE_TEST_MAIN
// is set, so tests can run it as a real process — with a real environment
// and real XDG directories — without building it first.
func TestMain(m *testing.M) {
	if os.Getenv("TROUPE_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// runCLI runs troupe in-process with a hermetic config environment (env
// holds the only variables) and returns the exit code and output.
func runCLI(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	home := t.TempDir()
	c := &cli{stdout: &stdout, stderr: &stderr, dir: dir,
		loader: config.Loader{Environ: env, ConfigHome: home, ConfigDirs: []string{}, WorkDir: dir}}
	code := c.run(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

// runProcess runs troupe as a child process in dir with exactly env.
func runProcess(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(env, "TROUPE_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (go test ./cmd/troupe -update to accept):\n%s", path, diffLines(string(want), got))
	}
}

// diffLines shows the first lines that differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			out = append(out, "- "+wl, "+ "+gl)
		}
	}
	return strings.Join(out, "\n")
}

// TestHelpEverywhere: every command and group answers --help on stdout
// with its usage and the exit codes, and exits 0.
func TestHelpEverywhere(t *testing.T) {
	paths := [][]string{{}}
	for _, cmd := range commands() {
		paths = append(paths, []string{cmd.name})
		for _, sub := range cmd.sub {
			paths = append(paths, []string{cmd.name, sub.name})
		}
	}
	for _, p := range paths {
		for _, h := range []string{"--help", "-h"} {
			code, stdout, stderr := runCLI(t, t.TempDir(), nil, append(p, h)...)
			if code != 0 || !strings.Contains(stdout, "Usage: troupe") || !strings.Contains(stdout, "Exit codes:") || stderr != "" {
				t.Errorf("troupe %s %s = %d\nstdout %q\nstderr %q", strings.Join(p, " "), h, code, stdout, stderr)
			}
		}
	}
	if code, stdout, _ := runCLI(t, t.TempDir(), nil, "help", "config", "check"); code != 0 || !strings.Contains(stdout, "Usage: troupe config check") {
		t.Errorf("troupe help config check = %d %q", code, stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"config"},
		{"config", "nope"},
		{"config", "check", "--bogus"},
		{"config", "check", "extra"},
		{"new"},
		{"new", "a.example/x", "b.example/y"},
		{"component", "inspect"},
		{"version", "extra"},
	} {
		code, stdout, stderr := runCLI(t, t.TempDir(), nil, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "Usage: troupe") {
			t.Errorf("troupe %s = %d\nstdout %q\nstderr %q; want 2 and usage on stderr", strings.Join(args, " "), code, stdout, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, t.TempDir(), nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "troupe ") || !strings.Contains(stdout, "\ngo go1.") {
		t.Errorf("troupe version = %d %q", code, stdout)
	}
}
