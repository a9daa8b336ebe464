package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
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

// overflowNames are the policies' names, indexed by policy: the metrics
// labels and the values of a service's actors.overflow_policy.
var overflowNames = [...]string{Block: "block", DropNewest: "drop_newest", DropOldest: "drop_oldest", Reject: "reject"}

// String returns the policy's lower-case name, used as a metrics label and
// in configuration.
func (p OverflowPolicy) String() string {
	if int(p) < len(overflowNames) {
		return overflowNames[p]
	}
	return "unknown"
}

// ParseOverflowPolicy returns the policy String names s: "block",
// "drop_newest", "drop_oldest" or "reject".
func ParseOverflowPolicy(s string) (OverflowPolicy, error) {
	for p, name := range overflowNames {
		if s == name {
			return OverflowPolicy(p), nil
		}
	}
	return 0, fmt.Errorf(`must be one of "block", "drop_newest", "drop_oldest", "reject", got %q`, s)
}

// UnmarshalText decodes a policy's name, so a config field of this type
// is checked once, when it is decoded.
func (p *OverflowPolicy) UnmarshalText(text []byte) error {
	v, err := ParseOverflowPolicy(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalText encodes the policy's name; an unknown policy is an error.
func (p OverflowPolicy) MarshalText() ([]byte, error) {
	if int(p) >= len(overflowNames) {
		return nil, fmt.Errorf("actors: unknown overflow policy %d", p)
	}
	return []byte(overflowNames[p]), nil
}

// Config holds the System-wide defaults. Start from DefaultConfig and change
// what differs; WithDefaults also fills a zero field from DefaultConfig,
// since no field can be zero, and Validate reports a config as written.
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
	// EntityIdleTimeout is how long a sharded entity (WithSharding) stays
	// active without a message before it is passivated: stopped, its stop
	// hook run, its lease released.
	EntityIdleTimeout time.Duration
}

// DefaultConfig returns the defaults: 1024-message mailboxes that block for
// up to a second, 10 restarts per 10 s with 1 ms–1 s backoff, 10 s shutdown,
// entities passivated after 2 minutes idle.
// They are the defaults of a service's [actors] section too.
func DefaultConfig() Config {
	return Config{
		MailboxSize:     1024,
		Overflow:        Block,
		BlockTimeout:    time.Second,
		ShutdownTimeout: 10 * time.Second,
		MaxRestarts:     10,
		RestartWindow:   10 * time.Second,
		BackoffMin:      time.Millisecond,
		BackoffMax:      time.Second,

		EntityIdleTimeout: 2 * time.Minute,
	}
}

// Validate reports every problem of c as written, each a *fielderr.Error
// naming the field: a mailbox under one message, an unknown overflow
// policy, a duration that is not positive, fewer than one restart, or a
// backoff maximum below its minimum. A zero field is a problem here even
// though WithDefaults would fill it.
func (c Config) Validate() error {
	var errs []error
	atLeastOne := func(field string, n int) {
		if n < 1 {
			errs = append(errs, fielderr.New(field, "must be at least 1, got %d", n))
		}
	}
	positive := func(field string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fielderr.New(field, "must be greater than 0, got %s", d))
		}
	}
	atLeastOne("MailboxSize", c.MailboxSize)
	if int(c.Overflow) >= len(overflowNames) {
		errs = append(errs, fielderr.New("Overflow", "unknown overflow policy %d", c.Overflow))
	}
	positive("BlockTimeout", c.BlockTimeout)
	positive("ShutdownTimeout", c.ShutdownTimeout)
	atLeastOne("MaxRestarts", c.MaxRestarts)
	positive("RestartWindow", c.RestartWindow)
	positive("BackoffMin", c.BackoffMin)
	positive("EntityIdleTimeout", c.EntityIdleTimeout)
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fielderr.New("BackoffMax", "must not be less than the minimum backoff (%s), got %s", c.BackoffMin, c.BackoffMax))
	}
	return errors.Join(errs...)
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
	if c.EntityIdleTimeout <= 0 {
		c.EntityIdleTimeout = d.EntityIdleTimeout
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
	pool        bool
	singleton   bool
	standby     bool // a singleton's standby claiming its name (keepSingleton)
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

// WithPool makes a named actor a member of the pool of that name: in a
// cluster, the same name spawned WithPool on several nodes (one member
// per node) is one pool, and a message to the pool's Ref — what Lookup
// returns for the name — goes to one member, chosen by a NATS queue
// group, on whichever node. The Ref Spawn returns is the local member's
// own. Outside a cluster it changes nothing.
func WithPool() SpawnOption { return func(c *spawnConfig) { c.pool = true } }

// WithSingleton makes a top-level named actor a cluster singleton: the
// same name spawned WithSingleton on several nodes runs on exactly one of
// them (the one holding the name's lease), and the others stand by,
// trying to take it over every lease TTL/3. When its node stops, the
// name is released and another node starts it within TTL/3; when its node
// dies, within the TTL and TTL/3. Spawn returns the Ref of the instance
// running then, here or on another node (the zero Ref when none is found
// at that moment); it moves, so reach it by Lookup. An instance that
// stops is started again by one of the nodes, its own included, until
// the Systems shut down. Outside a cluster it changes nothing.
func WithSingleton() SpawnOption { return func(c *spawnConfig) { c.singleton = true } }

// WithoutProcessingMetrics leaves this actor out of the per-message
// processing-time histogram (troupe.actor.processing.duration), which costs
// two clock reads and a histogram update per message. Its restarts, drops
// and dead letters are still counted: they are rare and worth an alert.
func WithoutProcessingMetrics() SpawnOption { return func(c *spawnConfig) { c.noTiming = true } }
