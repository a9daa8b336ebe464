package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/cmd/troupe/internal/wasmfile"
)

// maxModuleSize bounds what inspect reads: far above any real component
// (a Go guest is 2–4 MiB), far below what would hurt to hold in memory.
const maxModuleSize = 256 << 20

// grantImports maps each capability kind:action to the imports through
// which a module exercises it (docs/wasm-abi.md). A grant none of whose
// imports the module has can never be used: it is over-granted.
var grantImports = map[string][]string{
	"actor:send":       {"troupe.send"},
	"actor:request":    {"troupe.request"},
	"topic:publish":    {"troupe.publish"},
	"topic:subscribe":  {"troupe.subscribe"},
	"kv:read":          {"troupe.kv_get"},
	"kv:write":         {"troupe.kv_put", "troupe.kv_delete"},
	"network:outbound": {"troupe.http_fetch"},
	// Files are reached through WASI: opening one is the only way in.
	"file:read":  {"wasi_snapshot_preview1.path_open"},
	"file:write": {"wasi_snapshot_preview1.path_open"},
}

// abiExports are the guest exports of ABI v1 and their signatures.
var abiExports = []struct {
	name, sig string
	required  bool
}{
	{"memory", "", true},
	{"troupe_abi_v1", "() -> ()", true},
	{"troupe_alloc", "(i32) -> i32", true},
	{"troupe_receive", "(i32 i32 i32) -> i64", true},
	{"_initialize", "() -> ()", false},
	{"troupe_init", "() -> i32", false},
	{"troupe_health", "() -> i32", false},
	{"troupe_stop", "() -> ()", false},
}

const inspectHelp = `Show what a component is made of: the module's exports (and whether they
form ABI v1), its imports with their signatures, its memory limits against
the manifest's runtime.max_memory_mb, the manifest itself and its
capabilities — and the grants the module can never use, because it does not
import the host function that needs them (over-granted), or the host
functions it imports that no grant covers (every call denied).

TARGET is a component directory (with Component.toml) or a .wasm file, with
or without a Component.toml beside it. The module is read, not run or
compiled. Exit 1 if it cannot be read or does not form ABI v1.`

func (c *cli) componentInspect(_ context.Context, args []string) int {
	fs := c.newFlags("troupe component inspect", "<dir | file.wasm>", inspectHelp)
	pos, code := c.parse(fs, args, 1, 1)
	if code >= 0 {
		return code
	}
	m, modulePath, err := findComponent(c.path(pos[0]))
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe component inspect: %v\n", err)
		return exitFailed
	}
	if m != nil {
		printManifest(c.stdout, m)
	}
	data, err := readModule(modulePath)
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe component inspect: %v\n", err)
		return exitFailed
	}
	mod, err := wasmfile.Parse(data)
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe component inspect: %s: %v\n", modulePath, err)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "module %s: %s, sha256 %x, %d functions\n", modulePath, sizeString(len(data)), sha256.Sum256(data), mod.Functions)
	if m != nil && m.Component.SHA256 != "" {
		if err := m.VerifySHA256(data); err != nil {
			fmt.Fprintf(c.stdout, "  sha256 pin: MISMATCH, the service will refuse this module\n")
		} else {
			fmt.Fprintf(c.stdout, "  sha256 pin: matches\n")
		}
	}
	abiOK := printExports(c.stdout, mod)
	printImports(c.stdout, mod)
	printMemory(c.stdout, mod, m)
	if m != nil {
		printGrants(c.stdout, mod, m)
	}
	if !abiOK {
		return exitFailed
	}
	return exitOK
}

// findComponent resolves target to a manifest (nil when a bare module has
// none beside it) and the module's path.
func findComponent(target string) (*wasm.Manifest, string, error) {
	fi, err := os.Stat(target)
	if err != nil {
		return nil, "", err
	}
	if fi.IsDir() {
		m, err := wasm.LoadManifest(filepath.Join(target, wasm.ManifestFile))
		if err != nil {
			return nil, "", err
		}
		return m, m.WASMPath(), nil
	}
	manifest := filepath.Join(filepath.Dir(target), wasm.ManifestFile)
	m, err := wasm.LoadManifest(manifest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, target, nil
	case err != nil:
		return nil, "", err
	}
	if abs1, _ := filepath.Abs(m.WASMPath()); abs1 != mustAbs(target) {
		return nil, target, nil // the manifest beside it describes another module
	}
	return m, target, nil
}

func mustAbs(p string) string {
	abs, _ := filepath.Abs(p)
	return abs
}

// readModule reads at most maxModuleSize bytes of the module.
func readModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist; build it with troupe component build", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxModuleSize+1))
	if err == nil && len(data) > maxModuleSize {
		err = fmt.Errorf("%s is larger than %s: not a component", path, sizeString(maxModuleSize))
	}
	return data, err
}

func printManifest(w io.Writer, m *wasm.Manifest) {
	cs, rs := m.Component, m.Runtime
	fmt.Fprintf(w, "component %s %s: %s\n", cs.Name, cs.Version, cs.Description)
	fmt.Fprintf(w, "  manifest %s\n", filepath.Join(m.Dir, wasm.ManifestFile))
	fmt.Fprintf(w, "  runtime: max_memory_mb=%d max_cpu_cores=%d message_queue_size=%d message_timeout_ms=%d health_check_interval_ms=%d\n",
		rs.MaxMemoryMB, rs.MaxCPUCores, rs.MessageQueueSize, rs.MessageTimeoutMS, rs.HealthCheckIntervalMS)
	fmt.Fprintf(w, "  monitoring: metrics=%t tracing=%t log_level=%s\n", m.Monitoring.EnableMetrics, m.Monitoring.EnableTracing, m.Monitoring.LogLevel)
}

// printExports lists the exports and reports whether they form ABI v1.
func printExports(w io.Writer, mod *wasmfile.Module) bool {
	fmt.Fprintln(w, "exports:")
	byName := map[string]wasmfile.Export{}
	for _, e := range mod.Exports {
		byName[e.Name] = e
		fmt.Fprintf(w, "  %-28s %s\n", e.Name, describeExtern(e.Kind, e.Type))
	}
	var problems []string
	for _, want := range abiExports {
		e, ok := byName[want.name]
		switch {
		case !ok && want.required:
			problems = append(problems, "missing "+want.name)
		case !ok:
		case want.sig == "" && e.Kind != wasmfile.Memory:
			problems = append(problems, want.name+" is not a memory")
		case want.sig != "" && (e.Kind != wasmfile.Func || (e.Type != nil && e.Type.String() != want.sig)):
			problems = append(problems, fmt.Sprintf("%s is %s, want func %s", want.name, describeExtern(e.Kind, e.Type), want.sig))
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "  ABI v1: NOT MET: %s (docs/wasm-abi.md)\n", strings.Join(problems, "; "))
		return false
	}
	fmt.Fprintln(w, "  ABI v1: ok")
	return true
}

func printImports(w io.Writer, mod *wasmfile.Module) {
	fmt.Fprintln(w, "imports:")
	if len(mod.Imports) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, imp := range mod.Imports {
		need := ""
		for grant, imports := range grantImports {
			if slices.Contains(imports, imp.Module+"."+imp.Name) {
				need += " " + grant
			}
		}
		if need != "" {
			need = "   needs a grant:" + need
		}
		fmt.Fprintf(w, "  %-40s %s%s\n", imp.Module+"."+imp.Name, describeExtern(imp.Kind, imp.Type), need)
	}
}

func describeExtern(k wasmfile.Kind, sig *wasmfile.Signature) string {
	if k == wasmfile.Func && sig != nil {
		return "func " + sig.String()
	}
	return k.String()
}

// printMemory shows the module's memory limits next to the manifest's cap.
func printMemory(w io.Writer, mod *wasmfile.Module, m *wasm.Manifest) {
	var l *wasmfile.Limits
	for i := range mod.Memories {
		l = &mod.Memories[i]
	}
	for _, imp := range mod.Imports {
		if imp.Kind == wasmfile.Memory {
			l = imp.Limits
		}
	}
	if l == nil {
		fmt.Fprintln(w, "memory: none")
		return
	}
	max := "no maximum"
	if l.HasMax {
		max = fmt.Sprintf("maximum %d pages (%s)", l.Max, pagesString(l.Max))
	}
	fmt.Fprintf(w, "memory: minimum %d pages (%s), %s\n", l.Min, pagesString(l.Min), max)
	if m == nil {
		return
	}
	capPages := uint64(m.Runtime.MaxMemoryMB) * (1 << 20) / wasmfile.PageSize
	fmt.Fprintf(w, "  capped at %d pages by runtime.max_memory_mb = %d", capPages, m.Runtime.MaxMemoryMB)
	if l.Min > capPages {
		fmt.Fprintf(w, ": the module starts larger than that, and will not load")
	}
	fmt.Fprintln(w)
}

func pagesString(pages uint64) string {
	if pages > 1<<20 {
		return "over 64 GiB"
	}
	return sizeString(int(pages * wasmfile.PageSize))
}

// printGrants lists the capabilities, marking those the module cannot use
// and the capability-checked imports no grant covers.
func printGrants(w io.Writer, mod *wasmfile.Module, m *wasm.Manifest) {
	imported := map[string]bool{}
	for _, imp := range mod.Imports {
		imported[imp.Module+"."+imp.Name] = true
	}
	granted := map[string]bool{}
	fmt.Fprintln(w, "capabilities:")
	caps := m.Caps.Capabilities()
	if len(caps) == 0 {
		fmt.Fprintln(w, "  (none: every capability-checked call is denied)")
	}
	var over []string
	for _, cp := range caps {
		kind := cp.Kind + ":" + cp.Action
		granted[kind] = true
		used := slices.ContainsFunc(grantImports[kind], func(i string) bool { return imported[i] })
		mark := "used"
		if !used {
			mark = "OVER-GRANTED: the module imports none of " + strings.Join(grantImports[kind], ", ")
			over = append(over, cp.String())
		}
		fmt.Fprintf(w, "  %-40s %s\n", cp.String(), mark)
	}
	for _, kind := range slices.Sorted(maps.Keys(grantImports)) {
		if granted[kind] {
			continue
		}
		for _, i := range grantImports[kind] {
			if imported[i] && !strings.HasPrefix(i, "wasi_") {
				fmt.Fprintf(w, "  %-40s not granted: calls through %s will be denied\n", kind+":*", i)
			}
		}
	}
	if len(over) > 0 {
		fmt.Fprintf(w, "over-granted: %s (remove from [security] capabilities: least privilege)\n", strings.Join(over, ", "))
	}
}
