package actors

import (
	"errors"
	"time"
)

// err reports the invalid WithSharding registrations.
func (sh *shards) err() error {
	if sh == nil {
		return nil
	}
	return errors.Join(sh.errs...)
}

// idleTicks is how many janitor rounds an activation must stay without a
// message to be passivated. The janitor looks every EntityIdleTimeout/4,
// so an entity passivates between 1 and 1.25 idle timeouts after its last
// message, for one pass over the activations per quarter timeout (no
// timer reset on the message path).
const idleTicks = 4

// start runs the janitor that passivates idle activations, unless a
// registration is invalid (the System is not handed out then).
func (sh *shards) start() {
	if sh == nil || len(sh.errs) > 0 {
		return
	}
	sh.janitorStop, sh.janitorDone = make(chan struct{}), make(chan struct{})
	every := max(sh.sys.cfg.EntityIdleTimeout/idleTicks, time.Millisecond)
	go sh.janitor(every)
}

// stop ends the janitor; Shutdown calls it after the actors stopped.
func (sh *shards) stop() {
	if sh == nil || sh.janitorStop == nil {
		return
	}
	close(sh.janitorStop)
	<-sh.janitorDone
}

func (sh *shards) janitor(every time.Duration) {
	defer close(sh.janitorDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-sh.janitorStop:
			return
		case <-t.C:
			sh.slots.Range(func(_, v any) bool {
				sh.look(v.(*entitySlot))
				return true
			})
		}
	}
}

// look passivates s when it stayed idle for idleTicks rounds, or when its
// lease can no longer be trusted (it holds no messages to refuse then).
func (sh *shards) look(s *entitySlot) {
	s.mu.RLock()
	p := s.p // nil while its process is being spawned
	s.mu.RUnlock()
	if p == nil || s.touched.Swap(false) || p.mb.depth() > 0 {
		s.idleTicks = 0
		return
	}
	s.idleTicks++
	if s.idleTicks >= idleTicks || s.lost.Load() {
		_ = s.passivate(false)
	}
}
