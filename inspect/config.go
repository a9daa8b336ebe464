package inspect

import (
	"errors"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Mode is how much the inspector records: a mode is a sampling rate with a
// name an operator can say out loud.
type Mode string

// The modes and the share of messages each traces.
const (
	// Off records nothing and detects no cycles: the actor system has no
	// observer, so it pays nothing.
	Off Mode = "off"
	// Production traces 1% of messages: cheap enough to leave on.
	Production Mode = "production"
	// Analysis traces 10%, for a performance investigation.
	Analysis Mode = "analysis"
	// Development traces every message.
	Development Mode = "development"
)

// Rate returns the share of messages the mode traces.
func (m Mode) Rate() float64 {
	switch m {
	case Production:
		return 0.01
	case Analysis:
		return 0.1
	case Development:
		return 1
	}
	return 0
}

func (m Mode) valid() bool {
	switch m {
	case Off, Production, Analysis, Development:
		return true
	}
	return false
}

// Bounds on the buffers. Past them memory use stops being a detail: a
// million events is about 320 MB.
const (
	MaxEventsLimit = 1_000_000
	MaxActorsLimit = 1_000_000
	maxRetention   = 7 * 24 * time.Hour
)

// Config configures an Inspector.
type Config struct {
	// Mode sets what is recorded and the default sampling rate.
	Mode Mode
	// SamplingRate, between 0 and 1, overrides the mode's rate; 0 keeps
	// the mode's.
	SamplingRate float64
	// Adaptive lowers the rate when recording costs more than its target.
	Adaptive AdaptiveConfig
	// MaxEvents bounds the events kept (a ring: the oldest go first).
	MaxEvents int
	// MaxActors bounds the actors whose figures are kept; the least
	// recently active go first.
	MaxActors int
	// Retention is how long events and idle actors' figures are kept.
	Retention time.Duration
	// DetectCycles watches actors' requests for request cycles.
	DetectCycles bool
	// FailCycles fails the request that closes a cycle with
	// actors.ErrCycle instead of letting it wait for its deadline.
	FailCycles bool
}

// AdaptiveConfig configures the adaptive sampler.
type AdaptiveConfig struct {
	// Enabled turns adaptive sampling on.
	Enabled bool
	// MinRate and MaxRate bound the rate it chooses.
	MinRate, MaxRate float64
	// OverheadTarget is the share of the actors' processing time that
	// recording may cost, such as 0.02 for 2%.
	OverheadTarget float64
	// Interval is how often it measures and adjusts.
	Interval time.Duration
}

// DefaultConfig is the production mode with its bounds.
func DefaultConfig() Config {
	return Config{
		Mode:         Production,
		MaxEvents:    10_000,
		MaxActors:    10_000,
		Retention:    15 * time.Minute,
		DetectCycles: true,
		Adaptive: AdaptiveConfig{
			MinRate: 0.001, MaxRate: 0.1, OverheadTarget: 0.02, Interval: time.Second,
		},
	}
}

// Rate returns the sampling rate the config starts with.
func (c Config) Rate() float64 {
	if c.Mode == Off {
		return 0
	}
	r := c.Mode.Rate()
	if c.SamplingRate > 0 {
		r = c.SamplingRate
	}
	if a := c.Adaptive; a.Enabled {
		r = min(max(r, a.MinRate), a.MaxRate)
	}
	return r
}

// Validate reports every problem with c, each naming its field.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, fielderr.New(field, format, args...)) }
	if !c.Mode.valid() {
		add("Mode", "unknown mode %q: use off, production, analysis or development", c.Mode)
	}
	if !unit(c.SamplingRate) {
		add("SamplingRate", "must be between 0 and 1 (0: the mode's rate), got %v", c.SamplingRate)
	}
	if c.MaxEvents < 1 || c.MaxEvents > MaxEventsLimit {
		add("MaxEvents", "must be between 1 and %d, got %d", MaxEventsLimit, c.MaxEvents)
	}
	if c.MaxActors < 1 || c.MaxActors > MaxActorsLimit {
		add("MaxActors", "must be between 1 and %d, got %d", MaxActorsLimit, c.MaxActors)
	}
	if c.Retention <= 0 || c.Retention > maxRetention {
		add("Retention", "must be more than 0 and at most %s, got %s", maxRetention, c.Retention)
	}
	if c.FailCycles && (!c.DetectCycles || c.Mode == Off) {
		add("FailCycles", "needs cycle detection: the mode is %q and DetectCycles is %v", c.Mode, c.DetectCycles)
	}
	errs = append(errs, c.Adaptive.validate()...)
	return errors.Join(errs...)
}

func (a AdaptiveConfig) validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fielderr.New("Adaptive."+field, format, args...))
	}
	if !unit(a.MinRate) || a.MinRate == 0 {
		add("MinRate", "must be more than 0 and at most 1, got %v", a.MinRate)
	}
	if !unit(a.MaxRate) || a.MaxRate < a.MinRate {
		add("MaxRate", "must be between the minimum rate (%v) and 1, got %v", a.MinRate, a.MaxRate)
	}
	if a.OverheadTarget <= 0 || a.OverheadTarget >= 1 {
		add("OverheadTarget", "must be a share between 0 and 1 (0.02 is 2%%), got %v", a.OverheadTarget)
	}
	if a.Interval < 10*time.Millisecond || a.Interval > time.Hour {
		add("Interval", "must be between 10ms and 1h, got %s", a.Interval)
	}
	return errs
}

// unit reports whether r is a share: 0 to 1, NaN excluded.
func unit(r float64) bool { return r >= 0 && r <= 1 }
