package wasm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/fielderr"
)

func TestRuntimeOptionsValidate(t *testing.T) {
	sys := actors.NewSystem()
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	good := DefaultRuntimeOptions()
	good.System = sys
	if err := good.Validate(); err != nil {
		t.Fatalf("DefaultRuntimeOptions with a System: %v", err)
	}
	bad := RuntimeOptions{
		MaxMemoryMB: MaxMemoryMB + 1, Limits: Limits{MaxMessageBytes: -1},
		WarmInstances: -1, ReloadInterval: -time.Second,
	}
	want := map[string]string{
		"System":                 "is required",
		"MaxMemoryMB":            "must be at most 4096 (the wasm32 address space), got 4097",
		"Limits.MaxMessageBytes": "must be at least 1, got -1",
		"Limits.MaxReplyBytes":   "must be at least 1, got 0",
		"WarmInstances":          "must be at least 0, got -1",
		"ReloadInterval":         "must not be negative, got -1s",
	}
	got := map[string]string{}
	for _, err := range fielderr.All(bad.Validate()) {
		var fe *fielderr.Error
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a *fielderr.Error", err)
		}
		got[fe.Field] = fe.Err.Error()
	}
	if len(got) != len(want) {
		t.Errorf("Validate reported %v, want %d problems", got, len(want))
	}
	for field, msg := range want {
		if got[field] != msg {
			t.Errorf("%s: %q, want %q", field, got[field], msg)
		}
	}
	bad.MaxMemoryMB = 0
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "MaxMemoryMB: must be at least 1, got 0") {
		t.Errorf("Validate with no memory cap = %v", err)
	}
}

// TestNewRuntimeValidates checks that NewRuntime refuses what Validate
// reports after filling the zero fields it may fill.
func TestNewRuntimeValidates(t *testing.T) {
	sys := actors.NewSystem()
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	_, err := NewRuntime(context.Background(), RuntimeOptions{System: sys, MaxMemoryMB: 5000, ReloadInterval: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "MaxMemoryMB: must be at most 4096") || !strings.Contains(err.Error(), "ReloadInterval") {
		t.Fatalf("NewRuntime = %v, want the memory cap and the reload interval refused", err)
	}
	rt, err := NewRuntime(context.Background(), RuntimeOptions{System: sys})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	if rt.opts.MaxMemoryMB != 512 || rt.limits != DefaultRuntimeOptions().Limits {
		t.Errorf("zero fields filled as cap %d MiB, limits %+v; want the defaults", rt.opts.MaxMemoryMB, rt.limits)
	}
}

// TestDefaultRuntimeOptionsMatchServiceDefaults keeps the Go defaults and a
// service's [actors.components] defaults one table.
func TestDefaultRuntimeOptionsMatchServiceDefaults(t *testing.T) {
	c := config.Default().Actors.Components
	d := DefaultRuntimeOptions()
	fromFile := RuntimeOptions{
		Limits:      Limits{MaxMessageBytes: c.MaxMessageBytes, MaxReplyBytes: c.MaxReplyBytes},
		MaxMemoryMB: c.MaxMemoryMB, WarmInstances: c.WarmInstances,
		BuildMissing: c.BuildMissing, ReloadInterval: c.ReloadInterval,
	}
	if d.Limits != fromFile.Limits || d.MaxMemoryMB != fromFile.MaxMemoryMB || d.WarmInstances != fromFile.WarmInstances ||
		d.BuildMissing != fromFile.BuildMissing || d.ReloadInterval != fromFile.ReloadInterval {
		t.Errorf("DefaultRuntimeOptions() = %+v\nconfig.Default().Actors.Components gives %+v", d, fromFile)
	}
}
