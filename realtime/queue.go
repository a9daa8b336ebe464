package realtime

// outQueue is a connection's outbound queue: a ring that grows by doubling
// as messages arrive, up to the configured bound. Once the writer has
// emptied it, a ring grown past its first size is let go of, so a burst
// leaves no large ring behind; the first (224 bytes) is kept, since
// allocating it anew for every message would cost a broadcast to ten
// thousand connections ten thousand allocations.
type outQueue struct {
	buf  []outbound
	head int
	n    int
}

// initialQueue is the ring's first size: most bursts to one connection are a
// message or two.
const initialQueue = 4

func (q *outQueue) len() int { return q.n }

// push appends o; the caller has made room under the bound.
func (q *outQueue) push(o outbound) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = o
	q.n++
}

func (q *outQueue) grow() {
	size := max(initialQueue, 2*len(q.buf))
	buf := make([]outbound, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// pop removes the oldest item.
func (q *outQueue) pop() {
	q.buf[q.head] = outbound{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}

// drain appends every item to dst, oldest first, and empties the queue.
func (q *outQueue) drain(dst []outbound) []outbound {
	for i := range q.n {
		j := (q.head + i) % len(q.buf)
		dst = append(dst, q.buf[j])
		q.buf[j] = outbound{}
	}
	q.head, q.n = 0, 0
	return dst
}

// release lets go of an empty queue's ring if it has grown.
func (q *outQueue) release() {
	if len(q.buf) > initialQueue {
		q.buf = nil
	}
	q.head, q.n = 0, 0
}

// clear drops every item and the ring.
func (q *outQueue) clear() { q.buf, q.head, q.n = nil, 0, 0 }
