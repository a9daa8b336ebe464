package actors

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// wireVersion is the envelope's version, its first byte. A node refuses
// envelopes of another version as dead letters ("unsupported version"),
// so a change of layout is a new version, never a silent reinterpretation.
const wireVersion = 1

// wireKind says what an envelope asks of the receiving node.
type wireKind uint8

const (
	kindSend       wireKind = 1 + iota // a message, no reply expected
	kindRequest                        // a message whose reply goes to the NATS reply subject
	kindReply                          // the reply to a request, or a control call's answer
	kindPublish                        // a publication on a topic
	kindPoison                         // Poison the target (a control call)
	kindStop                           // Stop the target (a control call)
	kindWatch                          // tell the sender's node when the target terminates (a control call)
	kindTerminated                     // the target of a watch terminated
	kindBatch                          // sends coalesced by an outbox (see appendFrame)
	kindLast       = kindBatch
)

// errCode is a typed error carried by a reply, so the caller's node can
// rebuild the same error value.
type errCode uint8

const (
	errNone errCode = iota
	errCodeTimeout
	errCodeNotFound
	errCodeStopped
	errCodeMailboxFull
	errCodeNoReply
	errCodeUnavailable
	errCodeUnregistered
	errCodeTooLarge
	errCodeSelfRequest
	errCodeProblem // a *problem.Error, as the payload
	errCodeRemote  // any other error: its text
	errCodeNotOwner
	errCodeCycle // a *CycleError, failed fast where the cycle closed: its actors
	errCodeLast  = errCodeCycle
)

// Bounds of the envelope's fields. They keep a hostile or corrupt
// envelope from making the decoder allocate much: the payload is the only
// unbounded part, and the max payload bounds it before decoding starts.
const (
	maxWireString = 1024 // node ids, actor names, type names, error texts
	maxTracePairs = 8    // traceparent, tracestate, baggage and some room
)

// wireAddr is an actor's address on the wire. The node is "" for a pool.
type wireAddr struct {
	node string
	id   uint64
	name string
}

// wireMsg is the decoded envelope. Layout, in order (uvarint and varint as
// encoding/binary writes them, a string as a uvarint length and bytes):
//
//	byte     version (1)
//	byte     kind
//	uvarint  correlation (a request's id, echoed by its reply)
//	varint   deadline, absolute, Unix nanoseconds (0: none)
//	string   sender node, uvarint sender id, string sender name
//	string   target node, uvarint target id, string target name
//	string   message type (the RegisterMessage name; "" when no value)
//	byte     content type (0: no value)
//	uvarint  trace context pairs, then key, value strings per pair
//	byte     error code (replies; 0: none), string error text
//	bytes    payload, the rest
//
// A binary layout in the body rather than NATS headers: headers cost a map
// and a string per field to parse on every receipt, about 5x the time and
// 9x the bytes allocated of this decoder (BenchmarkEnvelopeDecode,
// docs/cluster.md#envelope).
type wireMsg struct {
	kind     wireKind
	corr     uint64
	deadline int64
	from, to wireAddr
	typeName string
	content  contentType
	trace    []string // key, value, key, value...
	errCode  errCode
	errText  string
	payload  []byte
}

// appendWire appends m's encoding to dst.
func appendWire(dst []byte, m *wireMsg) []byte {
	dst = append(dst, wireVersion, byte(m.kind))
	dst = binary.AppendUvarint(dst, m.corr)
	dst = binary.AppendVarint(dst, m.deadline)
	dst = appendAddr(dst, &m.from)
	dst = appendAddr(dst, &m.to)
	dst = appendString(dst, m.typeName)
	dst = append(dst, byte(m.content))
	dst = binary.AppendUvarint(dst, uint64(len(m.trace)/2))
	for _, s := range m.trace[:len(m.trace)&^1] {
		dst = appendString(dst, s)
	}
	dst = append(dst, byte(m.errCode))
	dst = appendString(dst, m.errText)
	return append(dst, m.payload...)
}

func appendAddr(dst []byte, a *wireAddr) []byte {
	dst = appendString(dst, a.node)
	dst = binary.AppendUvarint(dst, a.id)
	return appendString(dst, a.name)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// A batch is what an outbox publishes when several sends to one node
// queued up: the version and kindBatch bytes, then each envelope as a
// uvarint length and its bytes. One NATS message then carries many actor
// messages, so the server and both clients pay their per-message cost
// once per batch.
var batchHeader = []byte{wireVersion, byte(kindBatch)}

// appendFrame appends one envelope to a batch.
func appendFrame(dst, env []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(env)))
	return append(dst, env...)
}

// isBatch reports whether data is a batch of this version.
func isBatch(data []byte) bool {
	return len(data) >= 2 && data[0] == wireVersion && wireKind(data[1]) == kindBatch
}

// batchFrames calls f with each envelope of a batch, in order. A frame
// that overruns the batch ends it with an error wrapping errWireMalformed.
func batchFrames(data []byte, f func(env []byte)) error {
	rest := data[len(batchHeader):]
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return fmt.Errorf("%w: truncated batch", errWireMalformed)
		}
		f(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	return nil
}

// Decoding failures, each a dead-letter reason.
var (
	errWireMalformed = errors.New("actors: malformed envelope")
	errWireVersion   = errors.New("actors: unsupported envelope version")
)

// wireDecoder reads an envelope, remembering the first failure.
type wireDecoder struct {
	b   []byte
	err error
}

// decodeWire decodes data into m. m.payload aliases data. It returns an
// error wrapping errWireVersion or errWireMalformed.
func decodeWire(data []byte, m *wireMsg) error {
	if len(data) < 2 {
		return fmt.Errorf("%w: %d bytes", errWireMalformed, len(data))
	}
	if data[0] != wireVersion {
		return fmt.Errorf("%w: %d (this node speaks %d)", errWireVersion, data[0], wireVersion)
	}
	m.kind = wireKind(data[1])
	if m.kind == 0 || m.kind >= kindBatch {
		return fmt.Errorf("%w: unknown kind %d", errWireMalformed, data[1])
	}
	d := wireDecoder{b: data[2:]}
	m.corr = d.uvarint()
	m.deadline = d.varint()
	d.addr(&m.from)
	d.addr(&m.to)
	m.typeName = d.str()
	m.content = contentType(d.byte())
	d.traceContext(m)
	m.errCode = errCode(d.byte())
	m.errText = d.str()
	m.payload = d.b
	switch {
	case d.err != nil:
		return d.err
	case m.content > contentText:
		return fmt.Errorf("%w: unknown content type %d", errWireMalformed, m.content)
	case m.errCode > errCodeLast:
		return fmt.Errorf("%w: unknown error code %d", errWireMalformed, m.errCode)
	case (m.content == 0) != (m.typeName == ""):
		return fmt.Errorf("%w: a message type without content, or content without type", errWireMalformed)
	}
	return nil
}

func (d *wireDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or corrupt %s", errWireMalformed, what)
	}
	d.b = nil
}

func (d *wireDecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *wireDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *wireDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *wireDecoder) str() string {
	n := d.uvarint()
	if n > maxWireString || n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *wireDecoder) addr(a *wireAddr) {
	a.node = d.str()
	a.id = d.uvarint()
	a.name = d.str()
}

func (d *wireDecoder) traceContext(m *wireMsg) {
	n := d.uvarint()
	if n > maxTracePairs {
		d.fail("trace context")
		return
	}
	if n == 0 {
		m.trace = nil
		return
	}
	m.trace = make([]string, 0, 2*n)
	for range 2 * n {
		m.trace = append(m.trace, d.str())
	}
}
