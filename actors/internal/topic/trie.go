package topic

import (
	"strings"
	"sync"
)

// Trie maps subscription patterns to values of type T and finds the values
// whose patterns match a subject. The zero value is not usable; create one
// with NewTrie. A Trie is safe for concurrent use: inserts and removals take
// a write lock, matches a read lock, so publishes proceed in parallel.
//
// A value may be inserted under several patterns; it is then reported once
// per matching pattern, because each (pattern, value) pair is a subscription
// of its own and the caller decides whether duplicates matter.
type Trie[T comparable] struct {
	mu   sync.RWMutex
	root node[T]
	n    int
}

// node is one token position. Literal tokens live in children; the "*" and
// ">" wildcards get their own fields so a match walk never hashes them.
type node[T comparable] struct {
	children map[string]*node[T]
	star     *node[T]
	full     *node[T] // pattern ended in ">"; only its subs are used
	subs     subs[T]  // patterns that end at this node
}

// subs is an insertion-ordered set: a slice for allocation-free iteration
// and an index for O(1) duplicate checks and removal, since thousands of
// actors may subscribe to one pattern.
type subs[T comparable] struct {
	vals  []T
	index map[T]int
}

// NewTrie returns an empty Trie.
func NewTrie[T comparable]() *Trie[T] {
	return &Trie[T]{}
}

// Insert subscribes v to pattern. It returns a *SyntaxError if pattern is
// invalid. Inserting a pair that is already present does nothing, so
// retried subscriptions are harmless.
func (t *Trie[T]) Insert(pattern string, v T) error {
	if err := ValidatePattern(pattern); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &t.root
	for rest, more := pattern, true; more; {
		var tok string
		tok, rest, more = strings.Cut(rest, ".")
		n = n.child(tok)
	}
	if n.subs.add(v) {
		t.n++
	}
	return nil
}

// Remove unsubscribes v from pattern and reports whether the pair was
// present. Nodes left without subscriptions or children are pruned, so a
// trie under subscribe/unsubscribe churn does not grow without bound.
func (t *Trie[T]) Remove(pattern string, v T) bool {
	if ValidatePattern(pattern) != nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	removed, _ := t.root.remove(pattern, v)
	if removed {
		t.n--
	}
	return removed
}

// Match calls yield with the value of every (pattern, value) pair whose
// pattern matches subject, in no particular order, and stops early when
// yield returns false. An invalid subject matches nothing. Match does not
// allocate.
//
// yield runs under the trie's read lock: it must not call Insert or Remove
// on the same Trie (that deadlocks) and should not block. Callers that need
// to do slow work per match should use AppendMatches instead.
func (t *Trie[T]) Match(subject string, yield func(T) bool) {
	if !validSubject(subject) {
		return
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	t.root.match(subject, yield)
}

// AppendMatches appends the values Match would yield for subject to dst and
// returns the extended slice. Unlike Match it calls no code under the lock,
// so the caller may block (for example on a full mailbox) while delivering;
// reusing dst keeps it allocation-free.
func (t *Trie[T]) AppendMatches(dst []T, subject string) []T {
	t.Match(subject, func(v T) bool {
		dst = append(dst, v)
		return true
	})
	return dst
}

// Len returns the number of (pattern, value) pairs in the trie.
func (t *Trie[T]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

// child returns the node for tok below n, creating it if needed.
func (n *node[T]) child(tok string) *node[T] {
	slot := n.slot(tok)
	if slot != nil {
		if *slot == nil {
			*slot = &node[T]{}
		}
		return *slot
	}
	c := n.children[tok]
	if c == nil {
		if n.children == nil {
			n.children = make(map[string]*node[T])
		}
		c = &node[T]{}
		n.children[tok] = c
	}
	return c
}

// slot returns the wildcard field for tok, or nil for a literal token.
func (n *node[T]) slot(tok string) **node[T] {
	switch tok {
	case "*":
		return &n.star
	case ">":
		return &n.full
	}
	return nil
}

// remove deletes v from the pattern rest below n. It reports whether v was
// removed and whether n is now empty, so that the caller can prune it.
func (n *node[T]) remove(rest string, v T) (removed, empty bool) {
	tok, tail, more := strings.Cut(rest, ".")
	var c *node[T]
	if slot := n.slot(tok); slot != nil {
		c = *slot
	} else {
		c = n.children[tok]
	}
	if c == nil {
		return false, false
	}
	var cEmpty bool
	if more {
		removed, cEmpty = c.remove(tail, v)
	} else {
		removed = c.subs.remove(v)
		cEmpty = c.empty()
	}
	if cEmpty {
		if slot := n.slot(tok); slot != nil {
			*slot = nil
		} else {
			delete(n.children, tok)
		}
	}
	return removed, n.empty()
}

func (n *node[T]) empty() bool {
	return len(n.subs.vals) == 0 && len(n.children) == 0 && n.star == nil && n.full == nil
}

// match walks the remaining subject rest below n. It returns false once
// yield has asked to stop.
func (n *node[T]) match(rest string, yield func(T) bool) bool {
	tok, tail, more := strings.Cut(rest, ".")
	// ">" matches the current token and everything after it.
	if n.full != nil && !n.full.subs.each(yield) {
		return false
	}
	for _, c := range [2]*node[T]{n.children[tok], n.star} {
		if c == nil {
			continue
		}
		if more {
			if !c.match(tail, yield) {
				return false
			}
		} else if !c.subs.each(yield) {
			return false
		}
	}
	return true
}

func (s *subs[T]) add(v T) bool {
	if _, ok := s.index[v]; ok {
		return false
	}
	if s.index == nil {
		s.index = make(map[T]int)
	}
	s.index[v] = len(s.vals)
	s.vals = append(s.vals, v)
	return true
}

// remove swaps the last value into v's place to keep removal O(1).
func (s *subs[T]) remove(v T) bool {
	i, ok := s.index[v]
	if !ok {
		return false
	}
	last := len(s.vals) - 1
	s.vals[i] = s.vals[last]
	s.index[s.vals[i]] = i
	var zero T
	s.vals[last] = zero // let a removed pointer value be collected
	s.vals = s.vals[:last]
	delete(s.index, v)
	if last == 0 {
		*s = subs[T]{}
	}
	return true
}

func (s *subs[T]) each(yield func(T) bool) bool {
	for _, v := range s.vals {
		if !yield(v) {
			return false
		}
	}
	return true
}
