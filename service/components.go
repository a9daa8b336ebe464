package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/adrg/xdg"

	"github.com/troupehq/troupe/actors/state"
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

// buildComponents creates the component runtime and loads every component
// of actors.components.dir; it does nothing when the key is empty.
func (s *Service) buildComponents() error {
	c := s.cfg.Actors.Components
	if c.Dir == "" {
		return nil
	}
	keyErr := func(key string, err error) error {
		return &config.Error{Key: key, Source: s.effective.Source(key), Err: err}
	}
	store, err := s.componentStore()
	if err != nil {
		return err
	}
	cacheDir := c.CacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(xdg.CacheHome, s.name, "components")
	}
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeOptions{
		System:         s.actorSystem,
		CacheDir:       cacheDir,
		Logger:         s.logger,
		MeterProvider:  s.tel.MeterProvider(),
		TracerProvider: s.tel.TracerProvider(),
		Store:          store,
		Limits:         wasm.Limits{MaxMessageBytes: c.MaxMessageBytes, MaxReplyBytes: c.MaxReplyBytes},
		MaxMemoryMB:    c.MaxMemoryMB,
		WarmInstances:  c.WarmInstances,
		BuildMissing:   c.BuildMissing,
		ReloadInterval: c.ReloadInterval,
	})
	if err != nil {
		return keyErr("actors.components.cache_dir", err)
	}
	s.componentRuntime = rt
	comps, err := rt.LoadDir(ctx, c.Dir)
	switch {
	case errors.Is(err, wasm.ErrMemoryCap):
		return keyErr("actors.components.max_memory_mb", err)
	case err != nil:
		return keyErr("actors.components.dir", err)
	}
	if len(comps) > c.MaxComponents {
		return keyErr("actors.components.max_components",
			fmt.Errorf("%s holds %d components, more than the limit of %d", c.Dir, len(comps), c.MaxComponents))
	}
	s.components = comps
	// A dead component or a failed reload degrades the service, whose other
	// routes still serve: a warning, not unready.
	s.opts.readiness = append(s.opts.readiness, &check{name: "actors:components", fn: rt.HealthCheck, optional: true})
	return nil
}

// componentStore picks the KV backend of actors.components.kv_store.
func (s *Service) componentStore() (state.Store, error) {
	c := s.cfg.Actors.Components
	if c.KVStore == "memory" || c.KVStore == "auto" && s.cfg.Redis.URL == "" {
		return state.NewMemory(c.KVMaxKeys), nil
	}
	client, err := s.redisClient()
	if err != nil {
		return nil, &config.Error{Key: "redis.url", Source: s.effective.Source("redis.url"), Err: err}
	}
	return state.NewRedis(client, "troupe:"+s.name+":kv:"), nil
}

// spawnComponents spawns one actor per loaded component.
func (s *Service) spawnComponents(ctx context.Context) error {
	for _, c := range s.components {
		if _, err := s.componentRuntime.Spawn(ctx, c); err != nil {
			return fmt.Errorf("spawning component %q: %w", c.Name(), err)
		}
	}
	return nil
}

// closeComponents releases the compiled modules once the actors are gone.
func (s *Service) closeComponents(ctx context.Context) {
	if s.componentRuntime != nil {
		_ = s.componentRuntime.Close(ctx)
	}
}
