// Command troupe is Troupe's command line: it scaffolds services and
// components, checks and describes configuration exactly as a service loads
// it, builds and inspects WASM components, and reports its own version.
//
//	go install github.com/troupehq/troupe/cmd/troupe@latest
//	troupe new example.com/orders --with actors,components
//	troupe config check --service orders
//	troupe component inspect components/greeter
//
// Every command calls the packages a service uses (config, actors/wasm), so
// what it reports is what the service will do. Exit codes: 0 success, 1 the
// command ran and found problems or failed, 2 a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/troupehq/troupe/config"
)

// Exit codes, the same for every command.
const (
	exitOK      = 0 // done; for checks: no problem found
	exitFailed  = 1 // the command ran and found problems, or could not finish
	exitUsage   = 2 // bad flags or arguments
	exitHelpMsg = "Exit codes: 0 success, 1 problems found or the command failed, 2 usage error."
)

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(c.run(context.Background(), os.Args[1:]))
}

// cli is one invocation's environment. Its zero fields mean the real
// process's: tests set them to stay hermetic.
type cli struct {
	stdout, stderr io.Writer
	// loader is the base of every config load: its Environ, ConfigHome,
	// ConfigDirs and WorkDir (zero: the real environment and XDG dirs).
	loader config.Loader
	// dir is the directory relative paths start from ("" is the working
	// directory).
	dir string
	// cacheDir, when set, replaces the components' dev-mode cache.
	cacheDir string
}

// command is a subcommand: a leaf with run, or a group with subcommands.
type command struct {
	name    string
	summary string
	run     func(c *cli, ctx context.Context, args []string) int
	sub     []*command
}

// commands is the command tree.
func commands() []*command {
	return []*command{
		{name: "new", summary: "create a new service: main.go, config, tests, Dockerfile, Kubernetes manifests", run: (*cli).newProject},
		{name: "config", summary: "check, print or describe a service's configuration", sub: []*command{
			{name: "check", summary: "load the config as the service would and list every problem", run: (*cli).configCheck},
			{name: "print", summary: "print the effective config, secrets redacted, with each value's source", run: (*cli).configPrint},
			{name: "schema", summary: "print a JSON Schema of every key, for editors", run: (*cli).configSchema},
		}},
		{name: "component", summary: "create, build or inspect WASM components", sub: []*command{
			{name: "new", summary: "create a Go guest with its Component.toml", run: (*cli).componentNew},
			{name: "build", summary: "build a component's module from its Go source, as dev mode does, and check it loads", run: (*cli).componentBuild},
			{name: "inspect", summary: "show a module's exports, imports, memory, manifest and capabilities", run: (*cli).componentInspect},
		}},
		{name: "version", summary: "print troupe's version and build information", run: (*cli).version},
	}
}

// run dispatches args to a command and returns the exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	return c.dispatch(ctx, "troupe", commands(), args)
}

func (c *cli) dispatch(ctx context.Context, path string, cmds []*command, args []string) int {
	if len(args) == 0 {
		c.groupUsage(c.stderr, path, cmds)
		return exitUsage
	}
	name := args[0]
	if isHelp(name) || name == "help" {
		if name == "help" && len(args) > 1 {
			return c.dispatch(ctx, path, cmds, append(args[1:], "--help"))
		}
		c.groupUsage(c.stdout, path, cmds)
		return exitOK
	}
	for _, cmd := range cmds {
		if cmd.name != name {
			continue
		}
		if cmd.sub != nil {
			return c.dispatch(ctx, path+" "+name, cmd.sub, args[1:])
		}
		return cmd.run(c, ctx, args[1:])
	}
	fmt.Fprintf(c.stderr, "%s: unknown command %q\n\n", path, name)
	c.groupUsage(c.stderr, path, cmds)
	return exitUsage
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// groupUsage lists a group's commands.
func (c *cli) groupUsage(w io.Writer, path string, cmds []*command) {
	fmt.Fprintf(w, "Usage: %s <command> [flags] [arguments]\n\nCommands:\n", path)
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun \"%s <command> --help\" for a command's flags.\n%s\n", path, exitHelpMsg)
}

// newFlags makes a command's flag set, whose --help prints usage, the
// description and the flags to stdout.
func (c *cli) newFlags(path, usage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s %s\n\n%s\n", path, usage, strings.TrimSpace(description))
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
		fmt.Fprintf(w, "\n%s\n", exitHelpMsg)
	}
	return fs
}

// parse parses args, allowing flags after the positional arguments
// ("troupe new example.com/x --with actors"), and checks the number of
// positional arguments is between minArgs and maxArgs. It returns the
// exit code to stop with, or -1 to go on.
func (c *cli) parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, int) {
	var pos []string
	for {
		fs.SetOutput(c.stderr)
		if wantsHelp(args) {
			fs.SetOutput(c.stdout)
		}
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK
		}
		if err != nil {
			return nil, exitUsage
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) < minArgs || len(pos) > maxArgs {
		fmt.Fprintf(c.stderr, "%s: wrong number of arguments\n", fs.Name())
		fs.SetOutput(c.stderr)
		fs.Usage()
		return nil, exitUsage
	}
	return pos, -1
}

// wantsHelp reports whether a help flag comes before "--", so
// that help goes to stdout while errors go to stderr.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelp(a) {
			return true
		}
	}
	return false
}
