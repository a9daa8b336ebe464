package telemetry

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// KeyOverflow marks the one series that counts every label tuple past a
// Counter's bound, as the OpenTelemetry SDK marks its own cardinality
// overflow.
const KeyOverflow = attribute.Key("otel.metric.overflow")

// Counter is a counter (or up-down counter) that the request path bumps
// with one atomic add, and that the SDK reads through an observable
// instrument when it collects. Under load, every synchronous Add cost the
// SDK a reflective walk of the attribute set (attrnorm.SetDedup), an
// attribute filter and a map lookup, ~0.3 µs a call and ~11 calls per request
// in a service with auth, rate limits and a bulkhead (issue 19, item 2):
// ~13% of the server's CPU. The exported data is the same: a cumulative sum
// per label set, monotonic or not, with the same name, unit and
// description; what a synchronous counter has and this one lacks are
// exemplars, which Troupe does not configure.
type Counter[K comparable] struct {
	build func(K) []attribute.KeyValue

	mu       sync.RWMutex
	cells    map[K]*CounterCell
	overflow *CounterCell
}

// CounterCell is the count of one label set. A caller that knows its labels
// ahead (a route's) keeps the cell and adds to it without a lookup.
type CounterCell struct {
	n    atomic.Int64
	opts []metric.ObserveOption
}

// Add adds n to the cell; a nil cell (metrics off) does nothing.
func (c *CounterCell) Add(n int64) {
	if c != nil {
		c.n.Add(n)
	}
}

// CounterSpec names and describes a Counter's instrument.
type CounterSpec struct {
	Name        string
	Description string
	Unit        string
	// UpDown makes an up-down counter (a level, such as requests in
	// flight) instead of a monotonic one.
	UpDown bool
}

// NewCounter registers spec's observable instrument on meter and returns
// the Counter it reads; build gives the attributes of a label tuple on its
// first use. Like the SDK's instrument constructors, it reports an error
// for an invalid name or unit and still returns a working Counter.
func NewCounter[K comparable](meter metric.Meter, spec CounterSpec, build func(K) []attribute.KeyValue) (*Counter[K], error) {
	c := &Counter[K]{
		build:    build,
		cells:    make(map[K]*CounterCell),
		overflow: newCounterCell(KeyOverflow.Bool(true)),
	}
	var inst metric.Int64Observable
	var err error
	if spec.UpDown {
		inst, err = meter.Int64ObservableUpDownCounter(spec.Name,
			metric.WithDescription(spec.Description), metric.WithUnit(spec.Unit))
	} else {
		inst, err = meter.Int64ObservableCounter(spec.Name,
			metric.WithDescription(spec.Description), metric.WithUnit(spec.Unit))
	}
	if inst == nil {
		return c, err
	}
	// RegisterCallback rather than a callback option: the SDK keeps only the
	// first instrument's callbacks for a repeated name, and several stages
	// (the verifier, the authentication stage, the authorizer) each make
	// their own Counter for the same instrument. Their sums add up.
	_, regErr := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		c.observe(o, inst)
		return nil
	}, inst)
	return c, errors.Join(err, regErr)
}

func newCounterCell(attrs ...attribute.KeyValue) *CounterCell {
	return &CounterCell{opts: []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}}
}

// Add adds n to the count of k; on a nil Counter it does nothing.
func (c *Counter[K]) Add(k K, n int64) { c.Cell(k).Add(n) }

// Cell returns k's cell, making it on first use: past maxCachedSets label
// tuples, the overflow cell, so a caller passing raw input by mistake grows
// neither memory nor series. A nil Counter returns a nil cell.
func (c *Counter[K]) Cell(k K) *CounterCell {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	cell, ok := c.cells[k]
	c.mu.RUnlock()
	if ok {
		return cell
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cell, ok := c.cells[k]; ok {
		return cell
	}
	if len(c.cells) >= maxCachedSets {
		return c.overflow
	}
	cell = newCounterCell(c.build(k)...)
	c.cells[k] = cell
	return cell
}

// observe reports every label set's count. A series appears once its cell
// exists, that is from its first Add, as with a synchronous counter.
func (c *Counter[K]) observe(o metric.Observer, inst metric.Int64Observable) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, cell := range c.cells {
		o.ObserveInt64(inst, cell.n.Load(), cell.opts...)
	}
	if len(c.cells) >= maxCachedSets {
		o.ObserveInt64(inst, c.overflow.n.Load(), c.overflow.opts...)
	}
}
