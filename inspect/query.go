package inspect

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/troupehq/troupe/actors"
)

// EventFilter selects events.
type EventFilter struct {
	// Actor keeps the events of the actor with this name, kind or id
	// (sent or received); "" keeps all.
	Actor string
	// Kind keeps the events of one kind; "" keeps all.
	Kind string
	// Limit keeps the newest Limit events; 0 keeps all.
	Limit int
}

func (f EventFilter) match(e *Event) bool {
	if f.Kind != "" && e.Kind != f.Kind {
		return false
	}
	if f.Actor == "" {
		return true
	}
	id, _ := strconv.ParseUint(f.Actor, 10, 64)
	return e.Actor == f.Actor || e.From == f.Actor || (id != 0 && (e.ActorID == id || e.FromID == id))
}

// Events returns the events f selects, oldest first.
func (i *Inspector) Events(f EventFilter) []Event {
	i.flush()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.events.expire(time.Now().Add(-i.cfg.Retention))
	out := []Event{}
	i.events.each(func(e *Event) bool {
		if f.match(e) {
			out = append(out, *e)
		}
		return true
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	for k := range out {
		out[k].times()
	}
	return out
}

// ActorRow is one actor of the Actors view: its place in the tree and its
// mailbox, live, and its figures, measured.
type ActorRow struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Parent   uint64 `json:"parent,omitzero"`
	Depth    int    `json:"depth"`
	Mailbox  int    `json:"mailbox"`
	Capacity int    `json:"capacity"`
	Overflow string `json:"overflow"`
	State    string `json:"state"`
	// WaitingOn names the actor it waits on, when State is waiting.
	WaitingOn string `json:"waiting_on,omitempty"`
	Children  int    `json:"children"`
	// Figures are nil for an actor the inspector has not seen work.
	Figures *ActorFigures `json:"figures,omitempty"`
}

// Label is the actor's name#id, or kind#id when anonymous.
func (r ActorRow) Label() string {
	n := r.Name
	if n == "" {
		n = r.Kind
	}
	return n + "#" + strconv.FormatUint(r.ID, 10)
}

// Actor sort orders: the supervision tree, or the top actors by a figure.
const (
	SortTree        = "tree"
	SortMailbox     = "mailbox"
	SortP99         = "p99"
	SortRate        = "rate"
	SortRestarts    = "restarts"
	SortDeadLetters = "dead_letters"
)

// ActorQuery selects a page of the live actors.
type ActorQuery struct {
	// Sort is one of the Sort* orders; "" is SortTree.
	Sort string
	// Filter keeps actors whose name or kind contains it.
	Filter         string
	Offset, Limit  int
	MaxSnapshotAge time.Duration
}

// ActorsPage is a page of actors.
type ActorsPage struct {
	// Total is the number of actors the query matched.
	Total    int        `json:"total"`
	Offset   int        `json:"offset"`
	Limit    int        `json:"limit"`
	Sort     string     `json:"sort"`
	Actors   []ActorRow `json:"actors"`
	Snapshot time.Time  `json:"snapshot"`
}

// snapshot is the live actor tree, read at most once a second: walking
// 100,000 actors takes tens of milliseconds, too much for every refresh of
// every console.
type snapshot struct {
	mu   sync.Mutex
	at   time.Time
	rows []ActorRow
}

// snapshotAge is how long a snapshot serves.
const snapshotAge = time.Second

// ActorsPage returns the page of live actors q selects.
func (i *Inspector) ActorsPage(q ActorQuery) ActorsPage {
	rows, at := i.liveActors()
	if q.Filter != "" {
		kept := make([]ActorRow, 0, len(rows))
		for _, r := range rows {
			if strings.Contains(r.Name, q.Filter) || strings.Contains(r.Kind, q.Filter) {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	if q.Sort == "" {
		q.Sort = SortTree
	}
	if by := sortKey(q.Sort); by != nil {
		rows = slices.Clone(rows)
		slices.SortStableFunc(rows, func(a, b ActorRow) int { return cmp.Compare(by(b), by(a)) })
	}
	page := ActorsPage{Total: len(rows), Offset: q.Offset, Limit: q.Limit, Sort: q.Sort, Snapshot: at}
	lo := min(max(q.Offset, 0), len(rows))
	hi := min(lo+max(q.Limit, 0), len(rows))
	page.Actors = rows[lo:hi]
	return page
}

// sortKey returns the figure an order ranks by, biggest first; nil for
// the tree.
func sortKey(order string) func(ActorRow) float64 {
	fig := func(f func(*ActorFigures) float64) func(ActorRow) float64 {
		return func(r ActorRow) float64 {
			if r.Figures == nil {
				return -1
			}
			return f(r.Figures)
		}
	}
	switch order {
	case SortMailbox:
		return func(r ActorRow) float64 { return float64(r.Mailbox) }
	case SortP99:
		return fig(func(f *ActorFigures) float64 { return float64(f.P99) })
	case SortRate:
		return fig(func(f *ActorFigures) float64 { return f.Rate })
	case SortRestarts:
		return fig(func(f *ActorFigures) float64 { return float64(f.Restarts) })
	case SortDeadLetters:
		return fig(func(f *ActorFigures) float64 { return float64(f.DeadLetters) })
	}
	return nil
}

// liveActors returns the snapshot of the live actors, with figures.
func (i *Inspector) liveActors() ([]ActorRow, time.Time) {
	i.snap.mu.Lock()
	defer i.snap.mu.Unlock()
	now := time.Now()
	if i.snap.rows != nil && now.Sub(i.snap.at) < snapshotAge {
		return i.snap.rows, i.snap.at
	}
	sys := i.system()
	i.flush()
	rows := []ActorRow{}
	if sys != nil {
		for a := range sys.Actors() {
			rows = append(rows, ActorRow{
				ID: a.Ref.ID(), Name: a.Ref.Name(), Kind: a.Ref.Kind(), Parent: a.Parent.ID(), Depth: a.Depth,
				Mailbox: a.Mailbox, Capacity: a.Capacity, Overflow: a.Overflow.String(), State: a.State,
				WaitingOn: refString(a.WaitingOn), Children: a.Children,
			})
		}
	}
	i.mu.Lock()
	for k := range rows {
		if st := i.actors.byID[rows[k].ID]; st != nil {
			f := st.figures(now)
			rows[k].Figures = &f
		}
	}
	i.mu.Unlock()
	i.snap.rows, i.snap.at = rows, now
	return rows, now
}

func refString(r actors.Ref) string {
	if r.IsZero() {
		return ""
	}
	return r.String()
}

// Actor returns the figures of one actor, live or not, if the inspector
// has seen it work.
func (i *Inspector) Actor(id uint64) (ActorFigures, bool) {
	i.flush()
	i.mu.Lock()
	defer i.mu.Unlock()
	st := i.actors.byID[id]
	if st == nil {
		return ActorFigures{}, false
	}
	return st.figures(time.Now()), true
}
