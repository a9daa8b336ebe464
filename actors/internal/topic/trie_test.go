package topic

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// matches collects Match's results, sorted for comparison.
func matches(tr *Trie[string], subject string) []string {
	got := tr.AppendMatches(nil, subject)
	slices.Sort(got)
	return got
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string // each is inserted with itself as the value
		subject  string
		want     []string
	}{
		{"exact", []string{"a.b", "a.c", "a"}, "a.b", []string{"a.b"}},
		{"exact needs all tokens", []string{"a.b"}, "a", nil},
		{"exact rejects extra tokens", []string{"a.b"}, "a.b.c", nil},
		{"star one token", []string{"a.*"}, "a.b", []string{"a.*"}},
		{"star not two tokens", []string{"a.*"}, "a.b.c", nil},
		{"star not zero tokens", []string{"a.*"}, "a", nil},
		{"star in the middle", []string{"a.*.c"}, "a.x.c", []string{"a.*.c"}},
		{"star first", []string{"*.b"}, "z.b", []string{"*.b"}},
		{"full one token", []string{"a.>"}, "a.b", []string{"a.>"}},
		{"full many tokens", []string{"a.>"}, "a.b.c.d", []string{"a.>"}},
		{"full not zero tokens", []string{"a.>"}, "a", nil},
		{"bare full", []string{">"}, "x.y", []string{">"}},
		{"mixed", []string{"*.b.>", "a.*.c", "a.b.c", "a.>", "*.*.*", "b.>", "a.b"}, "a.b.c",
			[]string{"*.*.*", "*.b.>", "a.*.c", "a.>", "a.b.c"}},
		{"literal star not wildcard", []string{"a.b"}, "a.*", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTrie[string]()
			for _, p := range tt.patterns {
				if err := tr.Insert(p, p); err != nil {
					t.Fatal(err)
				}
			}
			if got := matches(tr, tt.subject); !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.subject, got, tt.want)
			}
		})
	}
}

func TestMatchOncePerPatternValuePair(t *testing.T) {
	tr := NewTrie[string]()
	for _, p := range []string{"a.*", "a.>", "a.b", "a.b"} { // last one is a duplicate
		if err := tr.Insert(p, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Insert("a.b", "w"); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.Len(), 4; got != want {
		t.Errorf("Len = %d, want %d (duplicate insert must be idempotent)", got, want)
	}
	if got, want := matches(tr, "a.b"), []string{"v", "v", "v", "w"}; !slices.Equal(got, want) {
		t.Errorf("Match = %q, want %q", got, want)
	}
}

func TestMatchStopsWhenYieldReturnsFalse(t *testing.T) {
	tr := NewTrie[int]()
	for i, p := range []string{">", "a.>", "*.b", "a.b", "a.*"} {
		if err := tr.Insert(p, i); err != nil {
			t.Fatal(err)
		}
		if err := tr.Insert(p, i+100); err != nil {
			t.Fatal(err)
		}
	}
	for limit := 1; limit <= 10; limit++ {
		calls := 0
		tr.Match("a.b", func(int) bool { calls++; return calls < limit })
		if calls != limit {
			t.Errorf("with stop after %d: yield called %d times", limit, calls)
		}
	}
}

func TestInsertRejectsInvalidPattern(t *testing.T) {
	tr := NewTrie[int]()
	for _, p := range []string{"", "a..b", "a.>.b", "a b", "a*"} {
		if err := tr.Insert(p, 1); err == nil {
			t.Errorf("Insert(%q) = nil, want an error", p)
		}
	}
	if tr.Len() != 0 || !tr.root.empty() {
		t.Errorf("rejected inserts changed the trie: Len = %d", tr.Len())
	}
}

func TestRemove(t *testing.T) {
	tr := NewTrie[int]()
	mustInsert(t, tr, "a.b", 1)
	mustInsert(t, tr, "a.b", 2)
	mustInsert(t, tr, "a.*", 1)

	tests := []struct {
		pattern string
		v       int
		want    bool
	}{
		{"a.b", 3, false},   // value not subscribed
		{"a.c", 1, false},   // pattern absent
		{"a.b.c", 1, false}, // deeper than any pattern
		{"a..b", 1, false},  // invalid
		{"a.b", 1, true},
		{"a.b", 1, false}, // already removed
	}
	for _, tt := range tests {
		if got := tr.Remove(tt.pattern, tt.v); got != tt.want {
			t.Errorf("Remove(%q, %d) = %v, want %v", tt.pattern, tt.v, got, tt.want)
		}
	}
	if tr.Len() != 2 {
		t.Errorf("Len = %d, want 2", tr.Len())
	}
	var got []int
	tr.Match("a.b", func(v int) bool { got = append(got, v); return true })
	slices.Sort(got)
	if want := []int{1, 2}; !slices.Equal(got, want) {
		t.Errorf("after Remove, Match(a.b) = %v, want %v (2 via a.b, 1 via a.*)", got, want)
	}
}

func TestRemovePrunesEmptyNodes(t *testing.T) {
	tr := NewTrie[int]()
	mustInsert(t, tr, "keep.me", 0)
	baseline := countNodes(&tr.root)
	for round := range 50 {
		var patterns []string
		for i := range 20 {
			patterns = append(patterns,
				fmt.Sprintf("r%d.s%d.t", round, i), fmt.Sprintf("keep.*.%d.>", i), fmt.Sprintf("keep.me.%d", i), "keep.me")
		}
		for i, p := range patterns {
			mustInsert(t, tr, p, i+1)
		}
		if countNodes(&tr.root) <= baseline {
			t.Fatal("inserts created no nodes; the pruning check below would be vacuous")
		}
		for i, p := range patterns {
			if !tr.Remove(p, i+1) {
				t.Fatalf("Remove(%q, %d) = false", p, i+1)
			}
		}
	}
	if got := countNodes(&tr.root); got != baseline {
		t.Errorf("after churn the trie has %d nodes, want %d", got, baseline)
	}
	if tr.Len() != 1 {
		t.Errorf("Len = %d, want 1", tr.Len())
	}
	if !tr.Remove("keep.me", 0) || !tr.root.empty() {
		t.Error("removing the last pattern left the root non-empty")
	}
}

func TestConcurrentUse(t *testing.T) {
	tr := NewTrie[int]()
	mustInsert(t, tr, "orders.>", -1) // present throughout, so every Match sees it
	const workers, ops = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				p := fmt.Sprintf("orders.%d.*", i%7)
				if err := tr.Insert(p, w); err != nil {
					t.Error(err)
					return
				}
				if !tr.Remove(p, w) {
					t.Errorf("Remove(%q, %d) = false", p, w)
					return
				}
			}
		})
		wg.Go(func() {
			for i := range ops {
				seen := false
				tr.Match(fmt.Sprintf("orders.%d.x", i%7), func(v int) bool {
					seen = seen || v == -1
					return true
				})
				if !seen {
					t.Error("a concurrent Match missed the permanent subscription")
					return
				}
			}
		})
	}
	wg.Wait()
	if tr.Len() != 1 {
		t.Errorf("Len = %d after balanced churn, want 1", tr.Len())
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	tr := benchTrie(benchPatterns)
	sink := 0
	yield := func(v int) bool { sink += v; return true }
	if n := testing.AllocsPerRun(100, func() { tr.Match("orders.eu.created.fast", yield) }); n != 0 {
		t.Errorf("Match allocates %v times per call, want 0", n)
	}
	buf := make([]int, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = tr.AppendMatches(buf[:0], "orders.eu.created.fast") }); n != 0 {
		t.Errorf("AppendMatches with capacity allocates %v times per call, want 0", n)
	}
	if sink == 0 || len(buf) == 0 {
		t.Error("nothing matched; the allocation check is vacuous")
	}
}

var benchPatterns = []string{"orders.>", "orders.*.created.*", "orders.eu.created.fast", "*.eu.>", "billing.>", "orders.us.*.*"}

// benchTrie builds a trie with many unrelated literal patterns beside the
// given ones, so matching pays for realistic map lookups.
func benchTrie(patterns []string) *Trie[int] {
	tr := NewTrie[int]()
	for i := range 1000 {
		_ = tr.Insert(fmt.Sprintf("svc%d.%s.created", i%50, strings.Repeat("x", i%7+1)), i)
	}
	for i, p := range patterns {
		_ = tr.Insert(p, i+1)
	}
	return tr
}

func BenchmarkMatch(b *testing.B) {
	tr := benchTrie(benchPatterns)
	n := 0
	yield := func(int) bool { n++; return true }
	b.ReportAllocs()
	for b.Loop() {
		tr.Match("orders.eu.created.fast", yield)
	}
	if n == 0 {
		b.Fatal("no matches")
	}
}

func BenchmarkMatchParallel(b *testing.B) {
	tr := benchTrie(benchPatterns)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		yield := func(int) bool { return true }
		for pb.Next() {
			tr.Match("orders.eu.created.fast", yield)
		}
	})
}

func mustInsert[T comparable](t *testing.T, tr *Trie[T], p string, v T) {
	t.Helper()
	if err := tr.Insert(p, v); err != nil {
		t.Fatal(err)
	}
}

func countNodes[T comparable](n *node[T]) int {
	if n == nil {
		return 0
	}
	c := 1 + countNodes(n.star) + countNodes(n.full)
	for _, ch := range n.children {
		c += countNodes(ch)
	}
	return c
}
