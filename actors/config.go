package actors

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// OverflowPolicy says what a full mailbox does with one more message. Every
// policy is observable: Stats counts each drop or refusal and a DeadLetter is
// published for every message that does not reach Receive.
type OverflowPolicy uint8

const (
	// Block makes the sender wait for space until its deadline: the context
	// of SendContext or Request, else Config.BlockTimeout. A sender that runs
	// out of time gets ErrMailboxFull. It is the zero value and the default,
	// because back-pressure loses nothing.
	Block OverflowPolicy = iota
	// DropNewest discards the incoming message; Send still returns nil (the
	// drop is the policy working), Request returns ErrMailboxFull.
	DropNewest
	// DropOldest discards the oldest queued message to make room; a Request
	// that was queued there fails with ErrMailboxFull.
	DropOldest
	// Reject refuses the incoming message: Send returns ErrMailboxFull.
	Reject
)

// String returns the policy's lower-case name, used as a metrics label.
func (p OverflowPolicy) String() string {
	switch p {
	case Block:
		return "block"
	case DropNewest:
		return "drop_newest"
	case DropOldest:
		return "drop_oldest"
	case Reject:
		return "reject"
	}
	return "unknown"
}

// Config holds the System-wide defaults. A zero field means "use the value
// from DefaultConfig", so callers set only what they change.
type Config struct {
	// MailboxSize bounds the messages queued for one actor and not yet
	// picked up by its drain goroutine.
	MailboxSize int
	// Overflow is the policy of a full mailbox.
	Overflow OverflowPolicy
	// BlockTimeout bounds how long a Block-policy Send (which has no context)
	// waits for space.
	BlockTimeout time.Duration
	// ShutdownTimeout bounds Shutdown when its context has no deadline, and
	// is the grace given to actors still in Receive after a hard stop.
	ShutdownTimeout time.Duration
	// MaxRestarts and RestartWindow are the restart intensity of the root
	// supervisor (top-level actors) and of strategies built without
	// MaxRestarts: more than MaxRestarts failures within RestartWindow and
	// the actor gives up (escalates).
	MaxRestarts   int
	RestartWindow time.Duration
	// BackoffMin and BackoffMax bound the delay before a restart: it doubles
	// with each failure inside the window, with jitter.
	BackoffMin, BackoffMax time.Duration
}

// DefaultConfig returns the defaults: 1024-message mailboxes that block for
// up to a second, 10 restarts per 10 s with 1 ms–1 s backoff, 30 s shutdown.
func DefaultConfig() Config {
	return Config{
		MailboxSize:     1024,
		Overflow:        Block,
		BlockTimeout:    time.Second,
		ShutdownTimeout: 30 * time.Second,
		MaxRestarts:     10,
		RestartWindow:   10 * time.Second,
		BackoffMin:      time.Millisecond,
		BackoffMax:      time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MailboxSize <= 0 {
		c.MailboxSize = d.MailboxSize
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = d.BlockTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.MaxRestarts <= 0 {
		c.MaxRestarts = d.MaxRestarts
	}
	if c.RestartWindow <= 0 {
		c.RestartWindow = d.RestartWindow
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = d.BackoffMin
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(d.BackoffMax, c.BackoffMin)
	}
	return c
}

// Option configures a System at NewSystem.
type Option func(*System)

// WithDefaults sets the System-wide defaults; zero fields keep DefaultConfig's.
func WithDefaults(c Config) Option { return func(s *System) { s.cfg = c.withDefaults() } }

// WithLogger sets the logger for failures and lifecycle problems
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *System) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithMeterProvider records actor metrics (processing time, restarts, dead
// letters, drops, mailbox depth) through mp. Without it the hot path pays
// one nil check.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(s *System) { s.meterProvider = mp }
}

// spawnConfig is what SpawnOptions set.
type spawnConfig struct {
	mailboxSize int
	overflow    OverflowPolicy
	hasOverflow bool
	strategy    *Strategy
	kind        string
	dedicated   bool
	noTiming    bool
}

// SpawnOption configures one actor at Spawn.
type SpawnOption func(*spawnConfig)

// WithMailboxSize bounds this actor's mailbox (n <= 0 keeps the default).
func WithMailboxSize(n int) SpawnOption { return func(c *spawnConfig) { c.mailboxSize = n } }

// WithOverflow sets this actor's overflow policy.
func WithOverflow(p OverflowPolicy) SpawnOption {
	return func(c *spawnConfig) { c.overflow, c.hasOverflow = p, true }
}

// WithSupervisor sets the strategy this actor applies to ITS children when
// they fail. Top-level actors are supervised by the System's root with
// OneForOne and the Config's intensity and backoff.
func WithSupervisor(s Strategy) SpawnOption { return func(c *spawnConfig) { c.strategy = &s } }

// WithKind sets the actor's kind, the low-cardinality metrics label (default:
// the Go type name of the actor, such as "*orders.Worker").
func WithKind(kind string) SpawnOption { return func(c *spawnConfig) { c.kind = kind } }

// WithDedicatedGoroutine gives the actor one drain goroutine for its whole
// life, parked while the mailbox is empty. By default a drain goroutine
// exists only while there is work, which is cheapest for most actors; an
// actor whose Receive needs a deep stack, such as a WASM component calling
// into wazero, would otherwise grow a fresh stack on every burst of
// messages. The cost is one parked goroutine per actor.
func WithDedicatedGoroutine() SpawnOption { return func(c *spawnConfig) { c.dedicated = true } }

// WithoutProcessingMetrics leaves this actor out of the per-message
// processing-time histogram (troupe.actor.processing.duration), which costs
// two clock reads and a histogram update per message. Its restarts, drops
// and dead letters are still counted: they are rare and worth an alert.
func WithoutProcessingMetrics() SpawnOption { return func(c *spawnConfig) { c.noTiming = true } }
