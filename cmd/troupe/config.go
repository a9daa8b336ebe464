package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/scaffold"
)

// configLoadHelp is the part of every config command's help that says
// what is loaded.
const configLoadHelp = `The config is loaded exactly as service NAME loads it, with the same
package: config.Default, then NAME/config.toml in each $XDG_CONFIG_DIRS
directory and in $XDG_CONFIG_HOME, then ./config.toml (or the file named by
--config or by NAME_CONFIG), then the OTEL_* variables some keys answer to,
then the NAME_* environment variables. Without --service, NAME is derived
from the module path in ./go.mod as troupe new does.

The [app] section and defaults changed in code (service.WithConfigDefaults)
belong to the service's own code, which troupe cannot see: run the service
with -print-config to check those too.`

// configFlags declares the flags every config command shares.
func (c *cli) configFlags(fs *flag.FlagSet) (service, file *string) {
	service = fs.String("service", "", "the service's name, as passed to service.New (default: from ./go.mod)")
	file = fs.String("config", "", "load this file instead of ./config.toml, as the service's -config flag does")
	return service, file
}

// serviceName returns name, or derives it from the go.mod in c.dir.
func (c *cli) serviceName(name string) (string, error) {
	if name != "" {
		return name, nil
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "go.mod"))
	if err != nil {
		return "", errors.New("no --service given and no ./go.mod to derive it from")
	}
	module := modfile.ModulePath(data)
	if module == "" {
		return "", errors.New("no --service given and ./go.mod names no module")
	}
	return scaffold.ServiceName(module)
}

// loadResult is one load's outcome, with the problems split into those in
// Troupe's keys and the unknown keys of the service's own [app] section.
type loadResult struct {
	service  string
	eff      *config.Effective
	problems config.Errors
	app      config.Errors // unknown app.* keys: the service's to judge
}

// load loads service's config as the service would.
func (c *cli) load(service, file string) (*loadResult, error) {
	l := c.loader
	l.Service = service
	l.File = file
	cfg := config.Default()
	eff, err := l.Load(&cfg)
	r := &loadResult{service: service, eff: eff}
	if err == nil {
		return r, nil
	}
	var errs config.Errors
	if !errors.As(err, &errs) {
		return nil, err
	}
	for _, e := range errs {
		if errors.Is(e, config.ErrUnknownKey) && (e.Key == "app" || strings.HasPrefix(e.Key, "app.")) {
			r.app = append(r.app, e)
		} else {
			r.problems = append(r.problems, e)
		}
	}
	return r, nil
}

// appNote explains the [app] keys troupe could not check.
func (c *cli) appNote(r *loadResult) {
	if len(r.app) == 0 {
		return
	}
	fmt.Fprintf(c.stderr, "note: %d key(s) of the [app] section, which the service declares in code, were not checked:\n", len(r.app))
	for _, e := range r.app {
		fmt.Fprintf(c.stderr, "  - %s (from %s)\n", e.Key, e.Source)
	}
	fmt.Fprintln(c.stderr, "  run the service with -print-config to check them")
}

func (c *cli) configCheck(_ context.Context, args []string) int {
	fs := c.newFlags("troupe config check", "[--service NAME] [--config FILE]",
		"Check a service's configuration: every file and variable, every key and value,\nevery rule. Each problem is printed with its key and source.\n\n"+configLoadHelp)
	service, file := c.configFlags(fs)
	if _, code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	r, code := c.loadFor(*service, *file)
	if r == nil {
		return code
	}
	c.appNote(r)
	if len(r.problems) > 0 {
		c.printProblems(r)
		return exitFailed
	}
	files := "no config file"
	if r.eff != nil && len(r.eff.Files()) > 0 {
		files = "files " + strings.Join(r.eff.Files(), ", ")
	}
	if len(r.app) > 0 {
		files = "see the note about [app]"
	}
	fmt.Fprintf(c.stdout, "config of %s: ok (%s)\n", r.service, files)
	return exitOK
}

func (c *cli) configPrint(_ context.Context, args []string) int {
	fs := c.newFlags("troupe config print", "[--service NAME] [--config FILE]",
		"Print the effective configuration as TOML, one key per line with the source\nof its value; secrets print as \"[redacted]\". The same dump as the service's\n-print-config and its admin /configz.\n\n"+configLoadHelp)
	service, file := c.configFlags(fs)
	if _, code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	r, code := c.loadFor(*service, *file)
	if r == nil {
		return code
	}
	if len(r.problems) > 0 || len(r.app) > 0 {
		c.appNote(r)
		c.printProblems(r)
		return exitFailed
	}
	if _, err := r.eff.WriteTo(c.stdout); err != nil {
		fmt.Fprintln(c.stderr, err)
		return exitFailed
	}
	return exitOK
}

// loadFor resolves the service name and loads; a nil result comes with the
// exit code to stop with.
func (c *cli) loadFor(service, file string) (*loadResult, int) {
	name, err := c.serviceName(service)
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe config: %v\n", err)
		return nil, exitUsage
	}
	if file != "" && c.dir != "" && !filepath.IsAbs(file) {
		file = filepath.Join(c.dir, file)
	}
	r, err := c.load(name, file)
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe config: %v\n", err)
		return nil, exitFailed
	}
	return r, exitOK
}

// printProblems lists the problems, one per line, as service.New would.
func (c *cli) printProblems(r *loadResult) {
	if len(r.problems) == 0 {
		return
	}
	fmt.Fprintf(c.stderr, "config of %s: %d problem(s):\n", r.service, len(r.problems))
	for _, e := range r.problems {
		fmt.Fprintf(c.stderr, "  - %s\n", e)
	}
}
