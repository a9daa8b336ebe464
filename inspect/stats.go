package inspect

import (
	"context"
	"time"
)

// Stats are the inspector's memory and sampling figures.
type Stats struct {
	Mode         Mode    `json:"mode"`
	SamplingRate float64 `json:"sampling_rate"`
	Adaptive     bool    `json:"adaptive"`
	// Overhead is the recording cost the adaptive sampler last measured,
	// as a share of the actors' processing time.
	Overhead float64 `json:"overhead"`
	// Events and Actors are held now, within MaxEvents and MaxActors.
	Events    int `json:"events"`
	MaxEvents int `json:"max_events"`
	Actors    int `json:"actors"`
	MaxActors int `json:"max_actors"`
	// Bytes is the memory the buffers hold.
	Bytes int `json:"bytes"`
	// Recorded counts the events recorded; Dropped those a full buffer
	// replaced before their retention ended, and those lost because the
	// recorder was behind (its staging buffer full); Expired those
	// retention removed; ActorsEvicted the actors dropped to make room.
	Recorded      uint64        `json:"recorded"`
	Dropped       uint64        `json:"dropped"`
	Expired       uint64        `json:"expired"`
	ActorsEvicted uint64        `json:"actors_evicted"`
	Retention     time.Duration `json:"retention_ns"`
	DetectCycles  bool          `json:"detect_cycles"`
	FailCycles    bool          `json:"fail_cycles"`
	Cycles        int           `json:"cycles_waiting"`
	CyclesTotal   uint64        `json:"cycles_detected"`
}

// Stats returns the current figures.
func (i *Inspector) Stats() Stats {
	i.flush()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.staging.mu.Lock()
	lost, staged := i.staging.dropped, i.staging.bytes()
	i.staging.mu.Unlock()
	return Stats{
		Mode: i.cfg.Mode, SamplingRate: i.sampler.rate(), Adaptive: i.adaptive != nil, Overhead: i.overhead,
		Events: i.events.n, MaxEvents: i.cfg.MaxEvents, Actors: len(i.actors.byID), MaxActors: i.cfg.MaxActors,
		Bytes:    i.events.bytes() + len(i.actors.byID)*actorStatsSize + staged,
		Recorded: i.seq, Dropped: i.events.dropped + lost, Expired: i.events.expired, ActorsEvicted: i.actors.evicted,
		Retention: i.cfg.Retention, DetectCycles: i.cfg.DetectCycles && i.cfg.Mode != Off, FailCycles: i.cfg.FailCycles,
		Cycles: len(i.cycles.current), CyclesTotal: i.cycles.detected,
	}
}

// Name implements the service's Subsystem.
func (i *Inspector) Name() string { return "inspector" }

// Start runs the housekeeping: retention, and the adaptive sampler.
func (i *Inspector) Start(context.Context) error {
	i.stop, i.done = make(chan struct{}), make(chan struct{})
	go i.housekeep()
	return nil
}

// Stop ends the housekeeping and the live consoles' streams.
func (i *Inspector) Stop(context.Context) error {
	i.once.Do(func() { close(i.closing) })
	if i.stop != nil {
		close(i.stop)
		<-i.done
		i.stop = nil
	}
	return nil
}

// housekeeping period: retention is enforced to within a tenth of itself
// (at most 10 s late), and the adaptive sampler adjusts at its interval.
func (i *Inspector) period() time.Duration {
	p := min(i.cfg.Retention/10, 10*time.Second)
	if i.adaptive != nil {
		p = min(p, i.cfg.Adaptive.Interval)
	}
	return max(p, 10*time.Millisecond)
}

func (i *Inspector) housekeep() {
	defer close(i.done)
	t := time.NewTicker(i.period())
	defer t.Stop()
	f := time.NewTicker(flushInterval)
	defer f.Stop()
	lastAdjust := time.Now()
	for {
		select {
		case <-i.stop:
			return
		case <-f.C:
			i.flush()
		case <-i.staging.wake:
			i.flush()
		case now := <-t.C:
			i.expire(now)
			if i.adaptive != nil && now.Sub(lastAdjust) >= i.cfg.Adaptive.Interval {
				lastAdjust = now
				i.adjust()
			}
		}
	}
}

// expire applies the retention.
func (i *Inspector) expire(now time.Time) {
	cutoff := now.Add(-i.cfg.Retention)
	i.mu.Lock()
	i.events.expire(cutoff)
	i.actors.expire(cutoff)
	i.mu.Unlock()
}

// adjust lets the adaptive sampler choose the next rate.
func (i *Inspector) adjust() {
	rate, overhead := i.adaptive.next(i.sampler.rate())
	i.sampler.set(rate)
	i.mu.Lock()
	i.overhead = overhead
	i.mu.Unlock()
}
