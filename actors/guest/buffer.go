package guest

import "unsafe"

// retainBytes is the largest buffer kept between messages. A steady stream
// of ordinary messages then reuses one buffer and allocates nothing, while a
// single outsized message does not pin its memory for the instance's life.
const retainBytes = 64 << 10

// buffer is a byte slice reused from one message to the next. An instance
// handles one message at a time, so one buffer per direction suffices.
type buffer struct {
	b []byte
}

// get returns a slice of n bytes, reusing the buffer when it is big enough
// and not oversized for n. The previous contents are not preserved.
func (b *buffer) get(n int) []byte {
	if c := cap(b.b); c < n || (c > retainBytes && n <= retainBytes) {
		b.b = make([]byte, n)
	}
	return b.b[:n]
}

// holds returns the first n bytes of the buffer when p points at its start,
// which is where the host must have written a message it got a pointer to
// from get. An empty message may point anywhere.
func (b *buffer) holds(p unsafe.Pointer, n int) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if n < 0 || n > cap(b.b) || p != unsafe.Pointer(unsafe.SliceData(b.b)) {
		return nil, false
	}
	return b.b[:n], true
}

// reply lays out a reply, its status byte then payload, in the buffer.
func reply[T string | []byte](b *buffer, status byte, payload T) []byte {
	r := b.get(1 + len(payload))
	r[0] = status
	copy(r[1:], payload)
	return r
}
