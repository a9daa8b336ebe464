package resilience

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// fields returns the sorted field paths of the *fielderr.Errors in err, and
// "!" for a problem that names no field.
func fields(err error) []string {
	var out []string
	for _, e := range fielderr.All(err) {
		var fe *fielderr.Error
		if errors.As(e, &fe) {
			out = append(out, fe.Field)
		} else {
			out = append(out, "!")
		}
	}
	slices.Sort(out)
	return out
}

// TestValidate changes one field of a default config at a time and expects
// exactly that field reported, with the reason: these are the semantic
// checks of the rate_limit.* and resilience.* keys, owned here.
func TestValidate(t *testing.T) {
	store := NewMemoryStore(1)
	rateLimit := func(edit func(*RateLimitConfig)) error {
		cfg := DefaultRateLimitConfig
		cfg.Store = store
		edit(&cfg)
		return cfg.Validate()
	}
	client := func(edit func(*ClientConfig)) error {
		cfg := DefaultClientConfig
		edit(&cfg)
		return cfg.Validate()
	}
	admission := func(edit func(*SheddingConfig, *BulkheadConfig)) error {
		shedding, bulkhead := DefaultSheddingConfig, DefaultBulkheadConfig
		edit(&shedding, &bulkhead)
		return AdmissionConfig{Shedding: &shedding, Bulkhead: bulkhead}.Validate()
	}
	fallback := func(edit func(*FallbackConfig)) error {
		cfg := DefaultFallbackConfig
		edit(&cfg)
		return cfg.Validate()
	}
	breaker := func(edit func(*BreakerSettings)) error {
		cfg := DefaultBreakerConfig
		edit(&cfg.BreakerSettings)
		return cfg.Validate()
	}
	tests := []struct {
		name  string
		err   error
		field string
		want  string
	}{
		{"negative rpm", rateLimit(func(c *RateLimitConfig) { c.User = PerMinute(-1) }), "User.Rate", "must not be negative"},
		{"no period", rateLimit(func(c *RateLimitConfig) { c.Client.Period = 0 }), "Client.Period", "must be positive"},
		{"route key", rateLimit(func(c *RateLimitConfig) { c.Global = map[string]Limit{"/search": PerMinute(1)} }), "Global", "is not"},
		{"route limit", rateLimit(func(c *RateLimitConfig) { c.Routes = map[string]Limit{"POST /a": {Rate: 1}} }), "Routes", "Period"},
		{"failure ratio", breaker(func(s *BreakerSettings) { s.FailureRatio = 0 }), "FailureRatio", "greater than 0"},
		{"failure ratio over 1", breaker(func(s *BreakerSettings) { s.FailureRatio = 1.5 }), "FailureRatio", "at most 1"},
		{"failure ratio NaN", breaker(func(s *BreakerSettings) { s.FailureRatio = math.NaN() }), "FailureRatio", "greater than 0"},
		{"min requests", client(func(c *ClientConfig) { c.Breaker.MinRequests = 0 }), "Breaker.MinRequests", "at least 1"},
		{"breaker interval", breaker(func(s *BreakerSettings) { s.Interval = 0 }), "Interval", "must be greater than 0"},
		{"open timeout", breaker(func(s *BreakerSettings) { s.OpenTimeout = 0 }), "OpenTimeout", "must be greater than 0"},
		{"half open", breaker(func(s *BreakerSettings) { s.HalfOpenRequests = -1 }), "HalfOpenRequests", "at least 1"},
		{"bulkhead", admission(func(_ *SheddingConfig, b *BulkheadConfig) { b.MaxConcurrent = -1 }), "Bulkhead.MaxConcurrent", "must not be negative"},
		{"bulkhead wait", admission(func(_ *SheddingConfig, b *BulkheadConfig) { b.MaxWait = -1 }), "Bulkhead.MaxWait", "must not be negative"},
		{"bulkhead group", admission(func(_ *SheddingConfig, b *BulkheadConfig) { b.Groups = map[string]int{"payments": -1} }), "Bulkhead.Groups", "payments"},
		{"bulkhead group name", admission(func(_ *SheddingConfig, b *BulkheadConfig) { b.Groups = map[string]int{"": 1} }), "Bulkhead.Groups", "no name"},
		{"shedding limits", admission(func(s *SheddingConfig, _ *BulkheadConfig) { s.MinLimit = 200 }), "Shedding.InitialLimit", "minimum limit (200)"},
		{"shedding floor", admission(func(s *SheddingConfig, _ *BulkheadConfig) { s.MinLimit = 0 }), "Shedding.InitialLimit", "1 <="},
		{"shedding window", admission(func(s *SheddingConfig, _ *BulkheadConfig) { s.Window = 0 }), "Shedding.Window", "greater than 0"},
		{"client timeout", client(func(c *ClientConfig) { c.Timeout = 0 }), "Timeout", "must be greater than 0"},
		{"retries", client(func(c *ClientConfig) { c.MaxRetries = -1 }), "MaxRetries", "must not be negative"},
		{"backoff base", client(func(c *ClientConfig) { c.BackoffBase, c.BackoffMax = 0, 0 }), "BackoffBase", "must be greater than 0"},
		{"backoff max", client(func(c *ClientConfig) { c.BackoffMax = time.Millisecond }), "BackoffMax", "not be less than"},
		{"retry budget", client(func(c *ClientConfig) { c.RetryBudget = 2 }), "RetryBudget", "between 0 and 1"},
		{"retry budget NaN", client(func(c *ClientConfig) { c.RetryBudget = math.NaN() }), "RetryBudget", "between 0 and 1"},
		{"retry floor", client(func(c *ClientConfig) { c.MinRetriesPerSecond = -1 }), "MinRetriesPerSecond", "not below 0"},
		{"per host", client(func(c *ClientConfig) { c.MaxConcurrentPerHost = -1 }), "MaxConcurrentPerHost", "must not be negative"},
		{"redis failure", fallback(func(c *FallbackConfig) { c.Policy = "panic" }), "Policy", `got "panic"`},
		{"no policy", fallback(func(c *FallbackConfig) { c.Policy = "" }), "Policy", `got ""`},
		{"instances", fallback(func(c *FallbackConfig) { c.ExpectedInstances = 0 }), "ExpectedInstances", "at least 1"},
		{"probe interval", fallback(func(c *FallbackConfig) { c.ProbeInterval = 0 }), "ProbeInterval", "greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fields(tt.err); !slices.Equal(got, []string{tt.field}) {
				t.Fatalf("Validate() = %v, want exactly one problem with %s", tt.err, tt.field)
			}
			if !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("Validate() = %q, want it to say %q", tt.err, tt.want)
			}
		})
	}
}

// TestDefaultsValidate checks that every default config passes its own
// check, so that a service's defaults never fail at start-up.
func TestDefaultsValidate(t *testing.T) {
	rl := DefaultRateLimitConfig
	rl.Store = NewMemoryStore(1)
	for name, err := range map[string]error{
		"RateLimit": rl.Validate(),
		"Breaker":   DefaultBreakerConfig.Validate(),
		"Client":    DefaultClientConfig.Validate(),
		"Admission": AdmissionConfig{Shedding: &DefaultSheddingConfig, Bulkhead: DefaultBulkheadConfig}.Validate(),
		"Fallback":  DefaultFallbackConfig.Validate(),
	} {
		if err != nil {
			t.Errorf("Default%sConfig.Validate() = %v", name, err)
		}
	}
}

func TestParseFailurePolicy(t *testing.T) {
	for _, p := range FailurePolicies {
		var got FailurePolicy
		if err := got.UnmarshalText([]byte(p)); err != nil || got != p {
			t.Errorf("UnmarshalText(%q) = %q, %v", p, got, err)
		}
	}
	got := PolicyDeny
	if err := got.UnmarshalText([]byte("open")); err == nil || got != PolicyDeny {
		t.Errorf(`UnmarshalText("open") = %q, %v; want an error and no change`, got, err)
	}
	if _, err := ParseFailurePolicy(""); err == nil {
		t.Error(`ParseFailurePolicy("") accepted`)
	}
}

// TestConstructorsFillThenPanic checks the constructors' side of the
// convention: zero fields that cannot mean "off" take their defaults, and
// what Validate still rejects is a panic at start-up, not a stage that
// misbehaves later.
func TestConstructorsFillThenPanic(t *testing.T) {
	store := NewMemoryStore(1)
	for _, tt := range []struct {
		name   string
		build  func()
		panics bool
	}{
		{"breaker zero", func() { CircuitBreakerWithConfig(BreakerConfig{}) }, false},
		{"breaker ratio", func() { CircuitBreakerWithConfig(BreakerConfig{BreakerSettings: BreakerSettings{FailureRatio: 2}}) }, true},
		{"bulkhead zero", func() { BulkheadWithConfig(BulkheadConfig{}) }, false},
		{"bulkhead negative", func() { Bulkhead(-1) }, true},
		{"shedding zero", func() { LoadSheddingWithConfig(SheddingConfig{}) }, false},
		{"shedding order", func() { LoadSheddingWithConfig(SheddingConfig{MinLimit: 50, InitialLimit: 10}) }, true},
		{"admission zero shedding", func() { Admission(AdmissionConfig{Shedding: &SheddingConfig{}}) }, false},
		{"admission bad group", func() { Admission(AdmissionConfig{Bulkhead: BulkheadConfig{Groups: map[string]int{"a": -1}}}) }, true},
		{"client zero", func() { NewClient(nil, ClientConfig{}) }, false},
		{"client retries", func() { NewClient(nil, ClientConfig{MaxRetries: -1}) }, true},
		{"fallback zero", func() { NewFallbackStore(store, FallbackConfig{}) }, false},
		{"fallback policy", func() { NewFallbackStore(store, FallbackConfig{Policy: "open"}) }, true},
		{"rate limit store", func() { RateLimit(store) }, false},
		{"rate limit no store", func() { RateLimitWithConfig(RateLimitConfig{}) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); (r != nil) != tt.panics {
					t.Errorf("panic = %v, want a panic: %v", r, tt.panics)
				}
			}()
			tt.build()
		})
	}
}
