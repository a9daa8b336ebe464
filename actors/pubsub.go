package actors

import (
	"errors"
	"slices"
	"sync"

	"github.com/troupehq/troupe/actors/internal/topic"
)

// errNotLocal is Subscribe's error for a Ref that is not a local actor's:
// a subscription is kept beside the actor it feeds, which ends it.
var errNotLocal = errors.New("actors: Subscribe needs a local actor")

var matchPool = sync.Pool{New: func() any { s := make([]Ref, 0, 16); return &s }}

// Publish sends msg to every actor subscribed to a pattern matching subject
// (NATS syntax: tokens separated by '.') and returns how many accepted it.
// An invalid subject is an error; no subscriber is not (delivered is 0).
//
// In a cluster the publication also goes, once, to the other nodes, whose
// subscribers receive it too; delivered counts this node's only. To cross
// nodes its type must be registered (RegisterMessage): an unregistered
// type is delivered here, as outside a cluster, and Publish returns an
// *UnregisteredTypeError for the other nodes it did not reach; so does a
// disconnection, with ErrUnavailable.
func (s *System) Publish(subject string, msg any) (delivered int, err error) {
	if err := topic.ValidateSubject(subject); err != nil {
		return 0, err
	}
	c := s.cluster.Load()
	var encoded *[]byte
	if c != nil {
		encoded, err = c.encodePublication(subject, msg)
	}
	delivered = s.publishLocal(subject, msg)
	if encoded != nil {
		err = c.publishEncoded(subject, encoded)
	}
	return delivered, err
}

// publishLocal delivers a publication to this System's subscribers.
func (s *System) publishLocal(subject string, msg any) (delivered int) {
	buf := matchPool.Get().(*[]Ref)
	refs := s.topics.AppendMatches((*buf)[:0], subject)
	for _, r := range refs {
		if r.ep.deliver(bg, envelope{msg: msg}) == nil {
			delivered++
		}
	}
	clear(refs)
	*buf = refs[:0]
	matchPool.Put(buf)
	return delivered
}

// Subscribe subscribes ref to pattern, where "*" matches one token and ">"
// one or more trailing tokens. The subscription ends on cancel, or when ref
// stops or restarts. Subscribing twice to one pattern is one subscription.
// In a cluster ref also receives the matching publications of every other
// node, once each; interest reaches the other nodes through NATS shortly
// after Subscribe returns.
func (s *System) Subscribe(ref Ref, pattern string) (cancel func(), err error) {
	if ref.ep == nil {
		return nil, &NotFoundError{}
	}
	p, ok := ref.ep.(*process)
	if !ok {
		return nil, errNotLocal
	}
	s.joinMu.RLock()
	defer s.joinMu.RUnlock()
	if err := s.topics.Insert(pattern, ref); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		s.topics.Remove(pattern, ref)
		return nil, ErrStopped
	}
	added := !slices.Contains(p.subs, pattern)
	if added {
		p.subs = append(p.subs, pattern)
	}
	p.mu.Unlock()
	if c := s.cluster.Load(); c != nil && added {
		if err := c.topics.add(pattern, ref); err != nil {
			s.unsubscribe(p, pattern)
			return nil, err
		}
	}
	return func() { s.unsubscribe(p, pattern) }, nil
}

// unsubscribe ends p's subscription to pattern, if it has one.
func (s *System) unsubscribe(p *process, pattern string) {
	p.mu.Lock()
	i := slices.Index(p.subs, pattern)
	if i >= 0 {
		p.subs = slices.Delete(p.subs, i, i+1)
	}
	p.mu.Unlock()
	if i >= 0 {
		s.forget(pattern, p.ref())
	}
}

// forget removes one (pattern, actor) subscription, here and from the
// cluster.
func (s *System) forget(pattern string, ref Ref) {
	s.topics.Remove(pattern, ref)
	if c := s.cluster.Load(); c != nil {
		c.topics.remove(pattern, ref)
	}
}

// unsubscribeAll removes every subscription of the actor.
func (p *process) unsubscribeAll() {
	p.mu.Lock()
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()
	for _, pat := range subs {
		p.sys.forget(pat, p.ref())
	}
}
