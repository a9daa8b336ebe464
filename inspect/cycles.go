package inspect

import (
	"time"

	"github.com/troupehq/troupe/actors"
)

// recentCycles bounds the resolved cycles kept for /inspect/cycles.
const recentCycles = 100

// CycleReport is a request cycle as the API shows it.
type CycleReport struct {
	ID uint64 `json:"id"`
	// Actors lists the cycle: "a#1 → b#2 → a#1".
	Actors string `json:"actors"`
	// Hops are the waits in request order, the innermost request last.
	Hops     []HopReport `json:"hops"`
	Detected time.Time   `json:"detected"`
	// Resolved and Resolution are set once a wait of the cycle ended.
	Resolved   time.Time `json:"resolved,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
}

// HopReport is one wait of a cycle.
type HopReport struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Message string `json:"message"`
	// Waited is how long From had waited when the cycle was detected, or,
	// while the cycle lasts, until now.
	Waited time.Duration `json:"waited_ns"`
}

// cycleLog keeps the cycles waiting now and the latest resolved ones.
type cycleLog struct {
	current  map[uint64]actors.Cycle
	recent   []actors.Cycle // oldest first, at most recentCycles
	detected uint64
}

func newCycleLog() cycleLog { return cycleLog{current: map[uint64]actors.Cycle{}} }

func (l *cycleLog) record(c actors.Cycle) {
	if c.Resolved.IsZero() {
		l.current[c.ID] = c
		l.detected++
		return
	}
	delete(l.current, c.ID)
	if len(l.recent) == recentCycles {
		l.recent = append(l.recent[:0], l.recent[1:]...)
	}
	l.recent = append(l.recent, c)
}

// report describes c as of now.
func report(c actors.Cycle, now time.Time) CycleReport {
	r := CycleReport{ID: c.ID, Actors: c.String(), Detected: c.Detected, Resolved: c.Resolved, Resolution: c.Resolution}
	until := now
	if !c.Resolved.IsZero() {
		until = c.Resolved
	}
	for _, h := range c.Hops {
		r.Hops = append(r.Hops, HopReport{From: h.From.String(), To: h.To.String(), Message: h.Message, Waited: until.Sub(h.Since)})
	}
	return r
}

// Cycles are the request cycles waiting now and the latest resolved.
type Cycles struct {
	Current  []CycleReport `json:"current"`
	Recent   []CycleReport `json:"recent"`
	Detected uint64        `json:"detected"`
}

// Cycles returns the cycles waiting now, oldest first, and the latest
// resolved ones, newest first.
func (i *Inspector) Cycles() Cycles {
	i.flush()
	now := time.Now()
	i.mu.Lock()
	defer i.mu.Unlock()
	out := Cycles{Current: []CycleReport{}, Recent: []CycleReport{}, Detected: i.cycles.detected}
	for _, c := range i.cycles.current {
		out.Current = append(out.Current, report(c, now))
	}
	sortByID(out.Current)
	for k := len(i.cycles.recent) - 1; k >= 0; k-- {
		out.Recent = append(out.Recent, report(i.cycles.recent[k], now))
	}
	return out
}

func sortByID(rs []CycleReport) {
	for a := 1; a < len(rs); a++ {
		for b := a; b > 0 && rs[b].ID < rs[b-1].ID; b-- {
			rs[b], rs[b-1] = rs[b-1], rs[b]
		}
	}
}
