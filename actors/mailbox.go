package actors

// envelope is one queued message. It is stored by value in the mailbox ring,
// so a Send allocates nothing beyond boxing the message into an interface.
type envelope struct {
	msg  any
	from *process // the sending actor, nil from outside the System
	req  *request // the waiting caller of Request, nil for Send
}

// ring is a FIFO of envelopes that grows by doubling on demand. It starts
// empty, so an idle actor with a 1024-message bound costs no buffer until
// messages actually queue up. The length is always a power of two.
type ring struct {
	buf  []envelope
	head int
	n    int
}

func (r *ring) push(e envelope) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = e
	r.n++
}

// pushFront puts es back at the head in order: the unprocessed rest of a
// batch returns to the mailbox ahead of newer messages, keeping FIFO order.
func (r *ring) pushFront(es []envelope) {
	for i := len(es) - 1; i >= 0; i-- {
		if r.n == len(r.buf) {
			r.grow()
		}
		r.head = (r.head - 1) & (len(r.buf) - 1)
		r.buf[r.head] = es[i]
		r.n++
	}
}

func (r *ring) pop() envelope {
	e := r.buf[r.head]
	r.buf[r.head] = envelope{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return e
}

// take moves up to len(dst) envelopes into dst and returns how many, clearing
// the vacated slots so the ring holds no stale references for the GC.
func (r *ring) take(dst []envelope) int {
	k := min(r.n, len(dst))
	for i := range k {
		j := (r.head + i) & (len(r.buf) - 1)
		dst[i] = r.buf[j]
		r.buf[j] = envelope{}
	}
	r.head = (r.head + k) & (len(r.buf) - 1)
	r.n -= k
	return k
}

func (r *ring) grow() {
	size := max(8, 2*len(r.buf))
	buf := make([]envelope, size)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}
