package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"

	"github.com/troupehq/troupe/internal/scaffold"
)

// placeholderVersion is the version a go.mod requires of a module it
// replaces with a directory: any version works, this one says so.
const placeholderVersion = "v0.0.0-00010101000000-000000000000"

const newHelp = `Create a new service in DIR (default: the module path's last element): a
main.go with a versioned API and the service's own [app] settings, a test
that starts it on 127.0.0.1:0 and calls it, config.toml with every key of
the chosen features commented out, a Dockerfile and deploy/k8s. Then run
go mod tidy there, so that "go run ." and "go test ./..." work at once.

Features (--with, comma-separated):
  actors      a native actor serving GET/POST /api/v1/counter
  components  a WASM component in Go (components/greeter) serving GET /api/v1/greet/:name
  auth        JWT authentication (on once a key is set), Cedar policies and GET /api/v1/me
  redis       rate limits, shared through Redis once redis.url is set
  cluster     the actor system joined to a cluster over NATS (a cluster of one
              alone), the counter a cluster singleton, and deploy/k8s/cluster,
              a StatefulSet of three; implies actors

The go.mod requires this troupe's own version; a troupe built from a
checkout has none, so pass --replace with the checkout's path, or the latest
release is required.`

func (c *cli) newProject(ctx context.Context, args []string) int {
	fs := c.newFlags("troupe new", "<module-path> [--dir DIR] [--with FEATURES] [--force] [--replace TROUPE_DIR]", newHelp)
	dir := fs.String("dir", "", "directory to create the service in (default: the module path's last element)")
	with := fs.String("with", "", "comma-separated features: actors, components, auth, redis, cluster")
	force := fs.Bool("force", false, "write into DIR even if it is not empty, overwriting files of the same names")
	replace := fs.String("replace", "", "require Troupe from this local checkout (a replace directive), for developing Troupe itself")
	pos, code := c.parse(fs, args, 1, 1)
	if code >= 0 {
		return code
	}
	p := scaffold.Project{Module: pos[0]}
	var err error
	if p.Features, err = scaffold.ParseFeatures(*with); err != nil {
		fmt.Fprintf(c.stderr, "troupe new: %v\n", err)
		return exitUsage
	}
	if err := scaffold.CheckModulePath(p.Module); err != nil {
		fmt.Fprintf(c.stderr, "troupe new: %v\n", err)
		return exitUsage
	}
	if *dir == "" {
		prefix, _, _ := module.SplitPathVersion(p.Module)
		*dir = filepath.Base(prefix)
	}
	*dir = c.path(*dir)
	latest := false
	switch v := buildVersion().version; {
	case *replace != "":
		abs, err := filepath.Abs(c.path(*replace))
		if err != nil {
			fmt.Fprintf(c.stderr, "troupe new: --replace: %v\n", err)
			return exitUsage
		}
		p.Require, p.Replace = placeholderVersion, abs
	case strings.HasPrefix(v, "v"):
		p.Require = v
	default:
		latest = true // go get adds the requirement
	}
	files, err := scaffold.New(p)
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe new: %v\n", err)
		return exitFailed
	}
	if err := writeFiles(*dir, files, *force); err != nil {
		fmt.Fprintf(c.stderr, "troupe new: %v\n", err)
		return exitFailed
	}
	if err := tidy(ctx, *dir, latest); err != nil {
		fmt.Fprintf(c.stderr, "troupe new: the files are written, but %v\nFix it and run go mod tidy in %s.\n", err, *dir)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "created %s in %s (%d files)\n\n  cd %s\n  go run .      # then: curl -i localhost:8080/api/v1/hello\n  go test ./...\n",
		p.Module, *dir, len(files), *dir)
	return exitOK
}

// path resolves a relative path against c.dir.
func (c *cli) path(p string) string {
	if c.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// writeFiles writes files under dir, which must be missing or empty unless
// force is set: a scaffold never silently mixes with existing work.
func writeFiles(dir string, files scaffold.Files, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0 && !force:
		return fmt.Errorf("%s is not empty (%d entries); choose another --dir, or pass --force to write into it", dir, len(entries))
	}
	for _, p := range files.Paths() {
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tidy completes go.mod and go.sum with the go command: the latest Troupe
// release first when this troupe has no version of its own.
func tidy(ctx context.Context, dir string, latest bool) error {
	steps := [][]string{{"mod", "tidy"}}
	if latest {
		steps = append([][]string{{"get", "github.com/troupehq/troupe@latest"}}, steps...)
	}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s failed: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
