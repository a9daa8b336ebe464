package wasm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/troupehq/troupe/actors"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// Component is a loaded WASM component: a name and its current version. Hot
// reload swaps the version; actors move to it between messages.
type Component struct {
	rt   *Runtime
	name string
	cur  atomic.Pointer[version]

	reloadMu sync.Mutex // serialises Reload; guards stamp
	stamp    fileStamp

	calls callPool // the instances serving Call

	spawned   atomic.Bool  // Spawn started its actor
	reloadErr atomic.Value // string: why the last reload failed; "" after a success
}

// noActor is the self of an instance serving Call: there is none.
var noActor actors.Ref

// Name returns the component's name, which is also its actor's name.
func (c *Component) Name() string { return c.name }

// Manifest returns the current version's manifest. It changes on hot
// reload; treat it as read-only.
func (c *Component) Manifest() *Manifest { return c.cur.Load().m }

// take returns an instance of the current version for the actor self:
// a warm one when available, else a new one.
func (c *Component) take(ctx context.Context, self actors.Ref) (*instance, error) {
	for {
		v := c.cur.Load()
		in, err := v.take(ctx)
		if errors.Is(err, errRetired) && c.cur.Load() != v {
			continue // a reload swapped the version under us; take the new one
		}
		if errors.Is(err, errRetired) {
			return nil, fmt.Errorf("wasm: component %q: runtime closed", c.name)
		}
		if err != nil {
			return nil, err
		}
		in.env.self = self
		return in, nil
	}
}

// version is one compiled module of a component with the manifest it was
// loaded with, in its own wazero runtime (the memory limit is a runtime
// setting). It lives until it is retired by a reload (or Close) and its
// last instance is gone.
type version struct {
	rt       *Runtime
	name     string
	m        *Manifest
	digest   [sha256.Size]byte
	wrt      wazero.Runtime
	compiled wazero.CompiledModule
	// loop is the serve loop module (serve.go), compiled in wrt.
	loop wazero.CompiledModule
	// tramp is the trampoline of the direct exports the component has
	// (direct.go), compiled in wrt; nil when it has none. exports says
	// which it has.
	tramp   wazero.CompiledModule
	exports [directExports]bool
	modCfg  wazero.ModuleConfig
	env     *componentEnv
	timeout time.Duration
	// binaryHTTP is set when the guest exports troupe_http_binary: it
	// gets HTTP requests as kind 4 and answers them in the same layout.
	binaryHTTP bool

	mu        sync.Mutex
	warm      []*instance
	live      int // instances alive, warm ones included
	retired   bool
	closed    bool
	refilling bool
}

var errRetired = errors.New("wasm: version retired")

// Exports a module must have (ABI v1) and may have, with their signatures.
var (
	i32, i64        = api.ValueTypeI32, api.ValueTypeI64
	requiredExports = []exportSig{
		{"troupe_abi_v1", nil, nil},
		{"troupe_alloc", []api.ValueType{i32}, []api.ValueType{i32}},
		{"troupe_receive", []api.ValueType{i32, i32, i32}, []api.ValueType{i64}},
	}
	optionalExports = []exportSig{
		{"_initialize", nil, nil},
		{"troupe_init", nil, []api.ValueType{i32}},
		{"troupe_health", nil, []api.ValueType{i32}},
		{"troupe_stop", nil, nil},
		{abi.HTTPBinaryExport, nil, nil},
	}
)

type exportSig struct {
	name            string
	params, results []api.ValueType
}

// checkExports reports every missing or mistyped ABI export at once.
func checkExports(name string, cm wazero.CompiledModule) error {
	fns := cm.ExportedFunctions()
	var problems []string
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		problems = append(problems, `missing export "memory" (a memory)`)
	}
	check := func(s exportSig, required bool) {
		d, ok := fns[s.name]
		switch {
		case !ok && required:
			problems = append(problems, fmt.Sprintf("missing export %q %s", s.name, sigString(s.params, s.results)))
		case ok && (!slices.Equal(d.ParamTypes(), s.params) || !slices.Equal(d.ResultTypes(), s.results)):
			problems = append(problems, fmt.Sprintf("export %q is %s, want %s", s.name,
				sigString(d.ParamTypes(), d.ResultTypes()), sigString(s.params, s.results)))
		}
	}
	for _, s := range requiredExports {
		check(s, true)
	}
	for _, s := range optionalExports {
		check(s, false)
	}
	if len(problems) > 0 {
		return &ABIError{Component: name, Reason: strings.Join(problems, "; ")}
	}
	return nil
}

func sigString(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	return "(" + names(params) + ") -> (" + names(results) + ")"
}

// newVersion compiles wasm for m in a fresh wazero runtime with WASI and the
// troupe host module, checks the ABI exports, and instantiates one instance
// as a load check (running _initialize; troupe_init waits for an actor).
func (r *Runtime) newVersion(ctx context.Context, m *Manifest, wasm []byte) (v *version, err error) {
	if m.Runtime.MaxMemoryMB > r.opts.MaxMemoryMB {
		return nil, &KeyError{Key: "runtime.max_memory_mb",
			Err: fmt.Errorf("%w: %d MiB is over the runtime's cap of %d MiB", ErrMemoryCap, m.Runtime.MaxMemoryMB, r.opts.MaxMemoryMB)}
	}
	if err := m.VerifySHA256(wasm); err != nil {
		return nil, err
	}
	wrt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(r.cache).
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(uint32(m.Runtime.MaxMemoryMB)*16))
	defer func() {
		if err != nil {
			_ = wrt.Close(context.Background())
		}
	}()
	loop, cm, err := compile(ctx, wrt, m, wasm)
	if err != nil {
		return nil, err
	}
	tramp, exports, err := compileTrampoline(ctx, wrt, cm)
	if err != nil {
		return nil, err
	}
	modCfg, err := moduleConfig(m)
	if err != nil {
		return nil, err
	}
	v = &version{
		rt: r, name: m.Component.Name, m: m, digest: sha256.Sum256(wasm),
		wrt: wrt, compiled: cm, loop: loop, tramp: tramp, exports: exports, modCfg: modCfg,
		timeout:    time.Duration(m.Runtime.MessageTimeoutMS) * time.Millisecond,
		env:        r.componentEnv(m),
		binaryHTTP: cm.ExportedFunctions()[abi.HTTPBinaryExport] != nil,
	}
	in, err := v.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.warm) < r.opts.WarmInstances {
		v.warm = append(v.warm, in)
		in = nil
	}
	v.mu.Unlock()
	if in != nil {
		in.close()
	}
	return v, nil
}

// compile defines WASI, the troupe host module and the serve loop in wrt,
// then compiles the component's module, with entry checks added, and checks
// its ABI exports.
func compile(ctx context.Context, wrt wazero.Runtime, m *Manifest, wasm []byte) (loop, cm wazero.CompiledModule, err error) {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, wrt); err != nil {
		return nil, nil, fmt.Errorf("instantiating WASI: %w", err)
	}
	if err := defineHost(ctx, wrt); err != nil {
		return nil, nil, fmt.Errorf("defining the troupe host module: %w", err)
	}
	if loop, err = defineLoop(ctx, wrt); err != nil {
		return nil, nil, fmt.Errorf("defining the serve loop: %w", err)
	}
	checked, err := addEntryChecks(wasm)
	if err != nil {
		return nil, nil, fmt.Errorf("compiling %s: %w", m.WASMPath(), err)
	}
	if cm, err = wrt.CompileModule(ctx, checked); err != nil {
		return nil, nil, fmt.Errorf("compiling %s: %w", m.WASMPath(), err)
	}
	if err := checkExports(m.Component.Name, cm); err != nil {
		return nil, nil, err
	}
	return loop, cm, nil
}

// moduleConfig is the configuration every instance of cm starts from:
// real clocks and randomness, no start function (instantiate calls
// _initialize itself, through a trampoline: direct.go), and the file
// grants mounted.
func moduleConfig(m *Manifest) (wazero.ModuleConfig, error) {
	modCfg := wazero.NewModuleConfig().WithName("").
		WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader).
		WithStartFunctions()
	if mounts := m.Caps.FileMounts(); len(mounts) > 0 {
		fsCfg, err := mountConfig(mounts)
		if err != nil {
			return nil, fmt.Errorf("mounting file grants: %w", err)
		}
		modCfg = modCfg.WithFSConfig(fsCfg)
	}
	return modCfg, nil
}

// componentEnv is what m's host calls share: its grants, loggers, store,
// fetch client, instruments, limits and tracer.
func (r *Runtime) componentEnv(m *Manifest) *componentEnv {
	name := m.Component.Name
	env := &componentEnv{
		name: name, caps: m.Caps, sys: r.opts.System,
		log: slog.New(&levelHandler{min: parseLogLevel(m.Monitoring.LogLevel), h: r.log.Handler()}).
			With("component", name),
		audit:  r.log.With("component", name, "log", "audit"),
		store:  r.store,
		client: newFetchClient(r.opts.HTTPClient, m.Caps),
		stats:  r.stats,
		limits: r.limits,
	}
	if m.Monitoring.EnableTracing && r.opts.TracerProvider != nil {
		env.tracer = r.opts.TracerProvider.Tracer("github.com/troupehq/troupe/actors/wasm")
	}
	return env
}

// instantiate makes a new instance and runs its _initialize, if exported,
// under the component's deadline like any other call.
func (v *version) instantiate(ctx context.Context) (*instance, error) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return nil, errRetired
	}
	v.live++
	v.mu.Unlock()
	in := &instance{v: v, stack: make([]uint64, 3)}
	in.env.comp = v.env
	in.stdout = newLineWriter(v.env.log, slog.LevelInfo, "stdout")
	in.stderr = newLineWriter(v.env.log, slog.LevelWarn, "stderr")
	cfg := v.modCfg.WithStdout(in.stdout).WithStderr(in.stderr).WithNanosleep(in.sleep)
	ictx := experimental.WithMemoryAllocator(withInstance(ctx, &in.env), linearAllocator(&in.linear))
	mod, err := v.wrt.InstantiateModule(ictx, v.compiled, cfg)
	if err != nil {
		in.releaseMemory()
		v.release()
		return nil, fmt.Errorf("wasm: component %q: instantiating: %w", v.name, err)
	}
	in.mod, in.mem = mod, mod.ExportedMemory("memory")
	in.alloc = mod.ExportedFunction("troupe_alloc")
	in.receive = mod.ExportedFunction("troupe_receive")
	in.ctx = withInstance(context.Background(), &in.env)
	if err := in.startLoop(ctx); err != nil {
		_ = mod.Close(context.Background())
		in.releaseMemory()
		v.release()
		return nil, err
	}
	v.rt.watchdog.register(in)
	if err := in.initialize(); err != nil {
		in.close()
		return nil, fmt.Errorf("wasm: component %q: instantiating: %w", v.name, err)
	}
	return in, nil
}

// take hands out a warm instance, or makes one, and starts refilling the
// warm pool in the background.
func (v *version) take(ctx context.Context) (*instance, error) {
	v.mu.Lock()
	if v.retired {
		v.mu.Unlock()
		return nil, errRetired
	}
	var in *instance
	if n := len(v.warm); n > 0 {
		in = v.warm[n-1]
		v.warm[n-1] = nil
		v.warm = v.warm[:n-1]
	}
	v.mu.Unlock()
	v.refill()
	if in != nil {
		return in, nil
	}
	return v.instantiate(ctx)
}

// refill tops the warm pool up to Runtime.WarmInstances in one background
// goroutine per version at a time.
func (v *version) refill() {
	want := v.rt.opts.WarmInstances
	v.mu.Lock()
	if v.refilling || v.retired || len(v.warm) >= want {
		v.mu.Unlock()
		return
	}
	v.refilling = true
	v.mu.Unlock()
	started := v.rt.goBackground(func() {
		for {
			in, err := v.instantiate(context.Background())
			if err != nil {
				if !errors.Is(err, errRetired) {
					v.env.log.Warn("warming an instance failed", "err", err)
				}
				break
			}
			v.mu.Lock()
			keep := !v.retired && len(v.warm) < want
			if keep {
				v.warm = append(v.warm, in)
			}
			full := len(v.warm) >= want
			v.mu.Unlock()
			if !keep {
				in.close()
			}
			if !keep || full {
				break
			}
		}
		v.mu.Lock()
		v.refilling = false
		v.mu.Unlock()
	})
	if !started {
		v.mu.Lock()
		v.refilling = false
		v.mu.Unlock()
	}
}

// retire stops handing out instances of v and closes its warm ones; the
// runtime closes when the last instance in use is released.
func (v *version) retire() {
	v.mu.Lock()
	v.retired = true
	warm := v.warm
	v.warm = nil
	idle := v.live == 0 && !v.closed
	if idle {
		v.closed = true
	}
	v.mu.Unlock()
	for _, in := range warm {
		in.close()
	}
	if idle {
		_ = v.wrt.Close(context.Background())
	}
}

// release accounts for an instance gone, closing the runtime after the last
// instance of a retired version.
func (v *version) release() {
	v.mu.Lock()
	v.live--
	last := v.retired && v.live == 0 && !v.closed
	if last {
		v.closed = true
	}
	v.mu.Unlock()
	if last {
		_ = v.wrt.Close(context.Background())
	}
}

// shutdown retires v and closes its runtime at once, stopping any call in
// flight: Runtime.Close, after the actors are gone.
func (v *version) shutdown() {
	v.retire()
	v.mu.Lock()
	done := v.closed
	v.closed = true
	v.mu.Unlock()
	if !done {
		_ = v.wrt.Close(context.Background())
	}
}
