package service

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/inspect"
)

// inspectPart makes the inspector from [inspect]: the actor system reports
// to it (actorsPart, built next, takes its options), it runs its
// housekeeping with the service, and its console and JSON API are mounted
// on the admin listener (adminHandler).
type inspectPart struct{}

func (inspectPart) check(c *checker) {
	c.fields("inspect", inspectConfig(c.cfg.Inspect).Validate(), nil)
	c.fields("inspect.console", consoleConfig(c.cfg.Inspect.Console).Validate(), nil)
}

func (inspectPart) build(b *builder) {
	i := inspect.New(inspectConfig(b.cfg.Inspect), inspect.Options{
		Logger:        b.logger,
		MeterProvider: b.tel.MeterProvider(),
		FollowTraces:  b.tel.TracingEnabled(),
	})
	b.inspector = i
	b.run(i)
	if c := b.cfg.Inspect.Console; c.Enabled && c.Auth == inspect.AuthNone && !loopback(b.cfg.Admin.Address) {
		b.logger.Warn("the ops console is served without authentication on a non-loopback admin listener; set inspect.console.auth",
			"admin.address", b.cfg.Admin.Address)
	}
}

// inspectConfig is [inspect] as the inspector takes it.
func inspectConfig(c config.Inspect) inspect.Config {
	ic := inspect.DefaultConfig()
	ic.Mode, ic.SamplingRate, ic.MaxEvents, ic.MaxActors = inspect.Mode(c.Mode), c.SamplingRate, c.MaxEvents, c.MaxActors
	ic.Retention, ic.DetectCycles, ic.FailCycles = c.Retention, c.DetectCycles, c.FailCycles
	a := c.Adaptive
	ic.Adaptive = inspect.AdaptiveConfig{Enabled: a.Enabled, MinRate: a.MinRate, MaxRate: a.MaxRate, OverheadTarget: a.OverheadTarget, Interval: a.Interval}
	return ic
}

// consoleConfig is [inspect.console] as the console takes it.
func consoleConfig(c config.InspectConsole) inspect.ConsoleConfig {
	return inspect.ConsoleConfig{
		Enabled: c.Enabled, Auth: c.Auth, Token: c.Token, Username: c.Username, Password: c.Password, MaxClients: c.MaxClients,
	}
}

// loopback reports whether addr listens on a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// mountInspector serves the console and the JSON API on the admin mux.
func (s *Service) mountInspector(mux *http.ServeMux) {
	c := s.cfg.Inspect.Console
	if s.inspector == nil || !c.Enabled {
		return
	}
	h := s.inspector.Handler(consoleConfig(c), s.inspectSources())
	mux.Handle("/inspect/", h)
	mux.Handle("/console", h)
	mux.Handle("/console/", h)
}

// inspectSources are the parts of the service the console shows.
func (s *Service) inspectSources() *inspect.Sources {
	src := &inspect.Sources{
		Service: s.name, Version: s.opts.version, Instance: inspect.Instance(), Started: s.created,
		Metrics: s.tel.Gatherer(),
		Health:  s.inspectHealth,
		Config:  s.inspectConfigValues,
	}
	if api := s.opts.api; api != nil {
		src.Versions = func() []inspect.APIVersion {
			var out []inspect.APIVersion
			for _, v := range api.Versions() {
				av := inspect.APIVersion{Label: v.Label, Status: v.Status, Successor: v.Successor}
				if v.Sunset != nil {
					av.Sunset = *v.Sunset
				}
				out = append(out, av)
			}
			return out
		}
	}
	if s.components != nil {
		src.Components = s.inspectComponents
	}
	if s.cfg.Actors.Cluster.Enabled {
		src.Cluster = s.inspectCluster
	}
	return src
}

// inspectHealth runs the readiness checks for the console.
func (s *Service) inspectHealth(ctx context.Context) inspect.Health {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Health.Timeout+time.Second)
	defer cancel()
	rep := s.health.ready(ctx)
	h := inspect.Health{Status: rep.Status, Output: rep.Output}
	optional := map[string]bool{}
	for _, c := range s.health.readiness.checks {
		optional[c.name] = c.optional
	}
	for name, results := range rep.Checks {
		for _, r := range results {
			h.Checks = append(h.Checks, inspect.HealthCheck{Name: name, Status: r.Status, Output: r.Output, Optional: optional[name]})
		}
	}
	sortChecks(h.Checks)
	return h
}

func sortChecks(cs []inspect.HealthCheck) {
	for a := 1; a < len(cs); a++ {
		for b := a; b > 0 && cs[b].Name < cs[b-1].Name; b-- {
			cs[b], cs[b-1] = cs[b-1], cs[b]
		}
	}
}

// inspectConfigValues lists the effective config, redacted.
func (s *Service) inspectConfigValues() []inspect.ConfigValue {
	keys := s.effective.Keys()
	out := make([]inspect.ConfigValue, 0, len(keys))
	for _, k := range keys {
		out = append(out, inspect.ConfigValue{Key: k, Value: s.effective.Value(k), Source: s.effective.Source(k)})
	}
	return out
}

// inspectComponents describes the WASM components.
func (s *Service) inspectComponents() []inspect.Component {
	var out []inspect.Component
	for _, c := range s.components.Components() {
		m, st := c.Manifest(), c.Status()
		out = append(out, inspect.Component{
			Name: c.Name(), Version: m.Component.Version, Description: m.Component.Description, Module: m.Component.WASM,
			Capabilities: m.Security.Capabilities, MaxMemoryMB: m.Runtime.MaxMemoryMB, MaxInstances: max(1, m.Runtime.MaxCPUCores),
			TimeoutMS: m.Runtime.MessageTimeoutMS, QueueSize: m.Runtime.MessageQueueSize,
			Instances: st.Instances, MemoryBytes: st.MemoryBytes, LastReloadError: st.LastReloadError,
		})
	}
	return out
}

// inspectCluster describes the actor cluster as this node sees it; nil
// until Run joined it.
func (s *Service) inspectCluster() *inspect.ClusterView {
	c, ok := s.actorSystem.Cluster()
	if !ok {
		return nil
	}
	v := &inspect.ClusterView{
		Node: c.Node, Service: c.Service, LeaseTTL: c.LeaseTTL, Replicas: c.Replicas,
		Connected: c.Connected, Server: c.Server, Names: c.Names,
	}
	for _, m := range c.Members {
		v.Members = append(v.Members, inspect.ClusterMember{Node: m.Node, Self: m.Self, Renewed: m.Renewed})
	}
	for _, d := range c.Departed {
		v.Departed = append(v.Departed, inspect.ClusterDeparture{Node: d.Node, Left: d.Left})
	}
	for kind, n := range c.Entities {
		v.Entities = append(v.Entities, inspect.Count{Name: kind, Count: uint64(n)})
	}
	slices.SortFunc(v.Entities, func(a, b inspect.Count) int { return strings.Compare(a.Name, b.Name) })
	return v
}
