package wasm

import "slices"

// Status is what an inspector shows of a component: its live instances,
// the linear memory they hold, and its last reload's failure.
type Status struct {
	// Instances are alive now, warm ones and those of old versions still
	// finishing a message included.
	Instances int
	// MemoryBytes is the linear memory those instances have committed
	// (on platforms where Troupe maps it itself: see linear.go).
	MemoryBytes int64
	// LastReloadError is why the last hot reload failed, "" after a
	// success or when none was tried.
	LastReloadError string
}

// Components returns the loaded components, in load order.
func (r *Runtime) Components() []*Component {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.comps)
}

// Status reads c's instances from the watchdog's table, which holds every
// live instance of the runtime.
func (c *Component) Status() Status {
	var st Status
	w := c.rt.watchdog
	w.mu.Lock()
	for _, in := range w.slots {
		if in == nil || in.v.name != c.name {
			continue
		}
		st.Instances++
		if l := in.linear; l != nil {
			l.mu.Lock()
			st.MemoryBytes += int64(l.committed)
			l.mu.Unlock()
		}
	}
	w.mu.Unlock()
	if e, ok := c.reloadErr.Load().(string); ok {
		st.LastReloadError = e
	}
	return st
}
