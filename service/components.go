package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/adrg/xdg"

	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/config"
)

// WithComponents loads every WASM component in dir (one subdirectory per
// component, each with a Component.toml) and spawns each as an actor named
// after it, after the WithActor actors. It sets the default of
// actors.components.dir, so deployments can move the directory by config.
// Manifests and modules are loaded, verified and compiled by New: a bad
// component fails start-up with its path and the key at fault.
func WithComponents(dir string) Option {
	return WithConfigDefaults(func(c *config.Config) { c.Actors.Components.Dir = dir })
}

// componentsPart loads every WASM component of actors.components.dir into a
// runtime of its own — verified and compiled in New, so a bad component
// fails start-up naming the key — and spawns each as an actor at start,
// after the WithActor actors. The actor system's stop stops them with every
// other actor; the runtime and its compiled modules are released after.
type componentsPart struct{}

// componentKeys maps the RuntimeOptions fields whose names are not their
// keys, and skips those the service fills itself ("-").
var componentKeys = map[string]string{
	"Limits.MaxMessageBytes": "actors.components.max_message_bytes",
	"Limits.MaxReplyBytes":   "actors.components.max_reply_bytes",
	"System":                 "-",
}

func (componentsPart) check(c *checker) {
	c.fields("actors.components", componentOptions(c.cfg.Actors.Components).Validate(), componentKeys)
}

func (componentsPart) build(b *builder) {
	c := b.cfg.Actors.Components
	if c.Dir == "" || b.actors == nil {
		return
	}
	opts := componentOptions(c)
	opts.System, opts.Logger, opts.Store = b.actors, b.logger, componentStore(b)
	opts.MeterProvider, opts.TracerProvider = b.tel.MeterProvider(), b.tel.TracerProvider()
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(xdg.CacheHome, b.s.name, "components")
	}
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, opts)
	if err != nil {
		b.fail("actors.components.cache_dir", err)
		return
	}
	b.release("components", func() { _ = rt.Close(context.Background()) })
	comps, err := rt.LoadDir(ctx, c.Dir)
	switch {
	case errors.Is(err, wasm.ErrMemoryCap):
		b.fail("actors.components.max_memory_mb", err)
		return
	case err != nil:
		b.fail("actors.components.dir", err)
		return
	case len(comps) > c.MaxComponents:
		b.fail("actors.components.max_components",
			fmt.Errorf("%s holds %d components, more than the limit of %d", c.Dir, len(comps), c.MaxComponents))
		return
	}
	// A dead component or a failed reload degrades the service, whose other
	// routes still serve: a warning, not unready.
	b.ready("actors:components", rt.HealthCheck, true)
	b.components = rt
	b.run(&componentsRun{rt: rt, comps: comps})
}

// componentOptions is [actors.components] as the runtime takes it; the
// service adds the system, the store and the providers.
func componentOptions(c config.Components) wasm.RuntimeOptions {
	o := wasm.DefaultRuntimeOptions()
	o.CacheDir, o.Limits = c.CacheDir, wasm.Limits{MaxMessageBytes: c.MaxMessageBytes, MaxReplyBytes: c.MaxReplyBytes}
	o.MaxMemoryMB, o.WarmInstances, o.BuildMissing, o.ReloadInterval = c.MaxMemoryMB, c.WarmInstances, c.BuildMissing, c.ReloadInterval
	return o
}

// componentsRun spawns one actor per loaded component.
type componentsRun struct {
	rt    *wasm.Runtime
	comps []*wasm.Component
}

func (r *componentsRun) Name() string { return "components" }

func (r *componentsRun) Start(ctx context.Context) error {
	for _, c := range r.comps {
		if _, err := r.rt.Spawn(ctx, c); err != nil {
			return fmt.Errorf("spawning component %q: %w", c.Name(), err)
		}
	}
	return nil
}

// Stop does nothing: the actors run, stopped next, stops the components
// with every other actor, in reverse spawn order.
func (r *componentsRun) Stop(context.Context) error { return nil }
