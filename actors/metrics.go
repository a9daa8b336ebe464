package actors

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// bg is the context metrics are recorded with: the hot path has no request
// context of its own and must not allocate one.
var bg = context.Background()

// actorMetrics is nil when the System has no meter provider; every use is
// guarded by a nil check so that is all the hot path pays.
type actorMetrics = *telemetry.ActorMetrics

func newActorMetrics(s *System, mp metric.MeterProvider) (actorMetrics, func()) {
	m := telemetry.NewActorMetrics(mp)
	return m, m.ObserveMailboxDepth(s.reportDepth)
}

// reportDepth yields the queued messages per actor kind, walking the
// supervision tree at collection time rather than tracking depth per message.
func (s *System) reportDepth(yield func(kind string, depth int64)) {
	depth := make(map[string]int64)
	var walk func(p *process)
	walk = func(p *process) {
		p.mu.Lock()
		kids := make([]*process, 0, len(p.children))
		for _, c := range p.children {
			kids = append(kids, c)
		}
		if p != s.root {
			depth[p.kind] += int64(p.q.n)
		}
		p.mu.Unlock()
		for _, c := range kids {
			walk(c)
		}
	}
	walk(s.root)
	for kind, d := range depth {
		yield(kind, d)
	}
}
