package inspect

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources are the parts of a service the console shows besides the
// actors. Every field may be nil: its view then says it has nothing.
type Sources struct {
	// Service, Version and Instance identify the process.
	Service, Version, Instance string
	// Started is when the service started.
	Started time.Time
	// Health runs the readiness checks.
	Health func(ctx context.Context) Health
	// Versions lists the API's versions.
	Versions func() []APIVersion
	// Metrics is the service's metrics registry, from which the console
	// reads request counts and the resilience figures.
	Metrics prometheus.Gatherer
	// Components describes the WASM components.
	Components func() []Component
	// Config lists the effective config, secrets redacted.
	Config func() []ConfigValue
	// Cluster describes the cluster the service runs in, nil while this
	// node has not joined it yet. Leave the field nil for a service that
	// runs on one node.
	Cluster func() *ClusterView
}

// Health is the readiness of the service and of each check.
type Health struct {
	Status string        `json:"status"`
	Output string        `json:"output,omitempty"`
	Checks []HealthCheck `json:"checks"`
}

// HealthCheck is one readiness check.
type HealthCheck struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Output   string `json:"output,omitempty"`
	Optional bool   `json:"optional"`
}

// APIVersion is one version of the API.
type APIVersion struct {
	Label     string    `json:"label"`
	Status    string    `json:"status"`
	Sunset    time.Time `json:"sunset,omitzero"`
	Successor string    `json:"successor,omitempty"`
}

// Component is one WASM component.
type Component struct {
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Description  string   `json:"description,omitempty"`
	Module       string   `json:"module"`
	Capabilities []string `json:"capabilities"`
	// MaxMemoryMB, MaxInstances, TimeoutMS and QueueSize are its limits.
	MaxMemoryMB  int `json:"max_memory_mb"`
	MaxInstances int `json:"max_instances"`
	TimeoutMS    int `json:"message_timeout_ms"`
	QueueSize    int `json:"message_queue_size"`
	// Instances are alive now (warm ones included); MemoryBytes is their
	// linear memory.
	Instances   int   `json:"instances"`
	MemoryBytes int64 `json:"memory_bytes"`
	// LastReloadError is why the last hot reload failed, "" after a
	// success or none.
	LastReloadError string `json:"last_reload_error,omitempty"`
}

// ConfigValue is one key of the effective config.
type ConfigValue struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}
