package wasm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"

	"github.com/troupehq/troupe/actors/state"
)

// Runtime loads WASM components and runs them as actors of a System. Each
// component version gets its own wazero runtime, because the memory limit
// is a runtime setting; all share one compilation cache. A Runtime is safe
// for concurrent use.
type Runtime struct {
	opts     RuntimeOptions
	log      *slog.Logger
	cache    wazero.CompilationCache
	stats    *instruments
	store    state.Store
	limits   Limits
	watchdog *watchdog

	mu     sync.Mutex
	comps  []*Component
	closed bool
	bg     sync.WaitGroup // refills and the reload poller
	stop   chan struct{}  // closed by Close: background work ends
}

// NewRuntime returns a Runtime for o.System, after filling o's zero fields
// that cannot mean "none" (see RuntimeOptions) and validating it. With
// o.CacheDir set, the compilation cache lives there (created if needed).
func NewRuntime(ctx context.Context, o RuntimeOptions) (*Runtime, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("wasm: RuntimeOptions: %w", err)
	}
	r := &Runtime{opts: o, log: o.Logger, store: o.Store, limits: o.Limits, stop: make(chan struct{})}
	if o.MeterProvider != nil {
		r.stats = newInstruments(o.MeterProvider)
	}
	if o.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm: compilation cache in %s: %w", o.CacheDir, err)
		}
		r.cache = c
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	r.watchdog = newWatchdog()
	if o.ReloadInterval > 0 {
		r.goBackground(r.pollReloads)
	}
	return r, nil
}

// Load reads (or, with BuildMissing, builds) m's module, verifies its
// pinned digest, compiles it, checks the ABI exports and instantiates one
// instance as a load check, kept warm when WarmInstances > 0. A second
// component of the same name is an error.
func (r *Runtime) Load(ctx context.Context, m *Manifest) (*Component, error) {
	if m == nil {
		return nil, errors.New("wasm: Load: nil manifest")
	}
	name := m.Component.Name
	r.mu.Lock()
	closed := r.closed
	taken := slices.ContainsFunc(r.comps, func(c *Component) bool { return c.name == name })
	r.mu.Unlock()
	if closed {
		return nil, errors.New("wasm: runtime closed")
	}
	if taken {
		return nil, fmt.Errorf("wasm: component %q already loaded", name)
	}
	wasm, err := r.readModule(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("wasm: component %q: %w", name, err)
	}
	v, err := r.newVersion(ctx, m, wasm)
	if err != nil {
		return nil, fmt.Errorf("wasm: component %q (%s): %w", name, m.WASMPath(), err)
	}
	c := &Component{rt: r, name: name, stamp: statFiles(m)}
	c.cur.Store(v)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || slices.ContainsFunc(r.comps, func(c *Component) bool { return c.name == name }) {
		v.shutdown()
		return nil, fmt.Errorf("wasm: component %q already loaded (or runtime closed)", name)
	}
	r.comps = append(r.comps, c)
	r.log.Info("component loaded", "component", name, "version", m.Component.Version,
		"description", m.Component.Description, "sha256", fmt.Sprintf("%x", v.digest),
		"capabilities", len(m.Caps.Capabilities()))
	return c, nil
}

// readModule returns the module's bytes, building it in dev mode.
func (r *Runtime) readModule(ctx context.Context, m *Manifest) ([]byte, error) {
	wasm, err := os.ReadFile(m.WASMPath())
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !r.opts.BuildMissing {
		return wasm, err
	}
	dir := filepath.Join(os.TempDir(), "troupe-build")
	if r.opts.CacheDir != "" {
		dir = filepath.Join(r.opts.CacheDir, "build")
	}
	return buildFromSource(ctx, m, dir, r.log)
}

// ManifestFile is the name of a component's manifest in its directory.
const ManifestFile = "Component.toml"

// LoadDir loads dir/Component.toml and every */Component.toml one level
// below dir, in name order. It reports every problem at once, duplicate
// names included; the components that did load are returned with the error.
func (r *Runtime) LoadDir(ctx context.Context, dir string) ([]*Component, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", ManifestFile))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		paths = append(paths, filepath.Join(dir, ManifestFile))
	} else if len(paths) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("wasm: components dir: %w", err)
		}
	}
	var errs []error
	var ms []*Manifest
	seen := make(map[string]string)
	for _, p := range paths {
		m, err := LoadManifest(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if first, dup := seen[m.Component.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: component.name %q is also the name in %s", p, m.Component.Name, first))
			continue
		}
		seen[m.Component.Name] = p
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *Manifest) int { return strings.Compare(a.Component.Name, b.Component.Name) })
	var comps []*Component
	for _, m := range ms {
		c, err := r.Load(ctx, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		comps = append(comps, c)
	}
	return comps, errors.Join(errs...)
}

// goBackground runs f in a goroutine Close waits for, unless the runtime
// is closed.
func (r *Runtime) goBackground(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		f()
	}()
	return true
}

// Close stops the reload poller, stops every call still in flight (which
// fails with ErrClosed) and refuses new ones, waits for those calls to
// return, then closes every component's wazero runtime and the watchdog.
// Shut the System down first: its actors' calls are the ones stopped. A
// stopped guest returns at its next termination check, or when its host
// call does, which is bounded by the message deadline. If ctx ends first,
// Close closes the runtimes under the guests still running (their memory
// stays mapped, so that is safe) and reports how many there were. It is
// idempotent.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	comps := r.comps
	close(r.stop)
	r.mu.Unlock()
	r.bg.Wait()
	for _, c := range comps {
		c.closeCalls()
	}
	r.watchdog.halt()
	running := r.watchdog.drained(ctx)
	for _, c := range comps {
		c.reloadMu.Lock()
		c.cur.Load().shutdown()
		c.reloadMu.Unlock()
	}
	r.watchdog.stop()
	return errors.Join(running, r.cache.Close(ctx))
}

// HealthCheck reports the components that are not serving as loaded: one
// whose actor has stopped for good (its supervisor gave up on it) and one
// whose last hot reload failed (the previous version still serves). It
// returns nil when every component is well; the service reports it as a
// readiness warning, since the rest of the service still serves.
func (r *Runtime) HealthCheck(context.Context) error {
	r.mu.Lock()
	comps := slices.Clone(r.comps)
	r.mu.Unlock()
	var errs []error
	for _, c := range comps {
		if c.spawned.Load() {
			if _, err := r.opts.System.Lookup(c.name); err != nil {
				errs = append(errs, fmt.Errorf("component %q: its actor is not running", c.name))
			}
		}
		if msg, _ := c.reloadErr.Load().(string); msg != "" {
			errs = append(errs, fmt.Errorf("component %q: the last reload failed, the previous version serves: %s", c.name, msg))
		}
	}
	return errors.Join(errs...)
}
