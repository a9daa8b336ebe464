package actors

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/fielderr"
)

func TestOverflowPolicyText(t *testing.T) {
	for _, p := range []OverflowPolicy{Block, DropNewest, DropOldest, Reject} {
		text, err := p.MarshalText()
		if err != nil || string(text) != p.String() {
			t.Errorf("%d.MarshalText() = %q, %v; want %q", p, text, err, p.String())
		}
		var got OverflowPolicy
		if err := got.UnmarshalText(text); err != nil || got != p {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, got, err, p)
		}
	}
	for _, bad := range []string{"", "Block", "drop-newest", "unknown"} {
		got := Reject
		err := got.UnmarshalText([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), `"block", "drop_newest", "drop_oldest", "reject"`) || got != Reject {
			t.Errorf("UnmarshalText(%q) = %v, %v; want an error listing the policies and no change", bad, got, err)
		}
	}
	if _, err := OverflowPolicy(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown policy succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	bad := Config{
		MailboxSize: 0, Overflow: OverflowPolicy(7), BlockTimeout: -time.Second,
		MaxRestarts: 0, BackoffMin: 2 * time.Second, BackoffMax: time.Second,
	}
	want := map[string]string{
		"MailboxSize":     "must be at least 1, got 0",
		"Overflow":        "unknown overflow policy 7",
		"BlockTimeout":    "must be greater than 0, got -1s",
		"ShutdownTimeout": "must be greater than 0, got 0s",
		"MaxRestarts":     "must be at least 1, got 0",
		"RestartWindow":   "must be greater than 0, got 0s",
		"BackoffMax":      "must not be less than the minimum backoff (2s), got 1s",

		"EntityIdleTimeout": "must be greater than 0, got 0s",
	}
	errs := fielderr.All(bad.Validate())
	got := map[string]string{}
	for _, err := range errs {
		var fe *fielderr.Error
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a *fielderr.Error", err)
		}
		got[fe.Field] = fe.Err.Error()
	}
	if len(got) != len(want) {
		t.Errorf("Validate reported %d problems, want %d: %v", len(got), len(want), errs)
	}
	for field, msg := range want {
		if got[field] != msg {
			t.Errorf("%s: %q, want %q", field, got[field], msg)
		}
	}
}

// TestDefaultConfigMatchesServiceDefaults keeps the Go defaults and a
// service's [actors] defaults one table: a System built in Go behaves as
// one configured by file.
func TestDefaultConfigMatchesServiceDefaults(t *testing.T) {
	a := config.Default().Actors
	policy, err := ParseOverflowPolicy(a.OverflowPolicy)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := Config{
		MailboxSize: a.MessageQueueSize, Overflow: policy,
		BlockTimeout: a.BlockTimeout, ShutdownTimeout: a.ShutdownTimeout,
		MaxRestarts: a.MaxRestarts, RestartWindow: a.RestartWindow,
		BackoffMin: a.BackoffMin, BackoffMax: a.BackoffMax,
		EntityIdleTimeout: a.Sharding.IdleTimeout,
	}
	if d := DefaultConfig(); d != fromFile {
		t.Errorf("DefaultConfig() = %+v\nconfig.Default().Actors gives %+v", d, fromFile)
	}
}
