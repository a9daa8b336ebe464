package abi

import (
	"encoding/binary"
	"errors"
	"math"
)

// KindHTTPBinary is an HTTP request in the binary layout below, sent
// instead of kind 2 to a guest that exports HTTPBinaryExport; the ok reply
// payload is then a binary response.
const KindHTTPBinary = 4

// HTTPBinaryExport is the marker export by which a guest asks for kind 4.
const HTTPBinaryExport = "troupe_http_binary"

// The binary layout exists for guests' sake. A Go guest runs under
// wazero's termination checks, which cost an exit to Go on every taken
// branch, so reading JSON costs it ~30 ns a byte at best; this layout is
// read field by field, each string one copy, whatever its length
// (docs/benchmarks.md, issue 19 item 3).
//
// Every integer is a little-endian u32. A string or byte string is its
// length then its bytes; a list is a count then its strings; a map is a
// count then its keys, each followed by its value. A count or length of
// nullLen is a nil list, map or body, which round-trips nil against empty.
//
//	request:  method, route, remote_ip, params (string → string),
//	          query (string → list), header (string → list), body,
//	          u32 principal flag (0 none, 1 present), then when present
//	          subject, kind, roles (list), scopes (list)
//	response: u32 status, header (string → list), body
const nullLen = math.MaxUint32

// errTruncated is the error for a binary message shorter than its fields.
var errTruncated = errors.New("binary HTTP message: truncated")

// AppendHTTPRequest appends r in the binary layout to b.
func AppendHTTPRequest(b []byte, r *HTTPRequest) []byte {
	b = appendString(b, r.Method)
	b = appendString(b, r.Route)
	b = appendString(b, r.RemoteIP)
	if r.Params == nil {
		b = binary.LittleEndian.AppendUint32(b, nullLen)
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Params)))
		for k, v := range r.Params {
			b = appendString(appendString(b, k), v)
		}
	}
	b = appendListMap(b, r.Query)
	b = appendListMap(b, r.Header)
	b = appendBytes(b, r.Body)
	if r.Principal == nil {
		return binary.LittleEndian.AppendUint32(b, 0)
	}
	p := r.Principal
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = appendString(appendString(b, p.Subject), p.Kind)
	return appendList(appendList(b, p.Roles), p.Scopes)
}

// AppendHTTPResponse appends r in the binary layout to b.
func AppendHTTPResponse(b []byte, r *HTTPResponse) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Status))
	b = appendListMap(b, r.Header)
	return appendBytes(b, r.Body)
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBytes(b, v []byte) []byte {
	if v == nil {
		return binary.LittleEndian.AppendUint32(b, nullLen)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func appendList(b []byte, vs []string) []byte {
	if vs == nil {
		return binary.LittleEndian.AppendUint32(b, nullLen)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vs)))
	for _, v := range vs {
		b = appendString(b, v)
	}
	return b
}

func appendListMap[M ~map[string][]string](b []byte, m M) []byte {
	if m == nil {
		return binary.LittleEndian.AppendUint32(b, nullLen)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
	for k, vs := range m {
		b = appendList(appendString(b, k), vs)
	}
	return b
}

// binaryReader reads the binary layout; the first error sticks, and every
// read after it returns zero values. Allocation is what a guest pays most
// for after branches (~1 µs each in a checked guest), so the strings it
// returns are substrings of one copy of the message, s, and the lists are
// windows of one slab.
type binaryReader struct {
	b    []byte
	s    string // a copy of the whole message; b is its unread tail
	slab []string
	err  error
}

func newBinaryReader(b []byte) *binaryReader {
	return &binaryReader{b: b, s: string(b)}
}

// off is the offset of the unread tail in s.
func (r *binaryReader) off() int { return len(r.s) - len(r.b) }

func (r *binaryReader) u32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.err = errTruncated
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// count reads a count of items that take at least 4 bytes each, so that a
// corrupt count cannot make the reader allocate past the message.
func (r *binaryReader) count() (n int, null bool) {
	v := r.u32()
	if v == nullLen {
		return 0, true
	}
	if uint64(v)*4 > uint64(len(r.b)) {
		r.err = errTruncated
		return 0, false
	}
	return int(v), false
}

func (r *binaryReader) bytes() []byte {
	n := r.u32()
	if n == nullLen {
		return nil
	}
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.err = errTruncated
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *binaryReader) str() string {
	start := r.off()
	v := r.bytes()
	if v == nil {
		return ""
	}
	return r.s[start+4 : start+4+len(v)]
}

// body reads a byte string as a copy the caller owns: a message's buffer
// is reused for the next one.
func (r *binaryReader) body() []byte {
	v := r.bytes()
	if v == nil {
		return nil
	}
	return append(make([]byte, 0, len(v)), v...)
}

func (r *binaryReader) list() []string {
	n, null := r.count()
	switch {
	case null || r.err != nil:
		return nil
	case n == 0:
		return []string{} // empty, not nil, and no allocation
	}
	if cap(r.slab)-len(r.slab) < n {
		// Room for every string the rest of the message could hold.
		r.slab = make([]string, 0, max(n, len(r.b)/4))
	}
	start := len(r.slab)
	for range n {
		r.slab = append(r.slab, r.str())
	}
	return r.slab[start:len(r.slab):len(r.slab)]
}

func readListMap[M ~map[string][]string](r *binaryReader) M {
	n, null := r.count()
	if null || r.err != nil {
		return nil
	}
	m := make(M, n)
	for range n {
		k := r.str()
		m[k] = r.list()
	}
	return m
}

// done returns the sticky error, or one for bytes left over.
func (r *binaryReader) done() error {
	if r.err == nil && len(r.b) > 0 {
		return errors.New("binary HTTP message: bytes after the last field")
	}
	return r.err
}

// DecodeHTTPRequest reads a request in the binary layout; nothing in it
// aliases b.
func DecodeHTTPRequest(b []byte) (*HTTPRequest, error) {
	r := newBinaryReader(b)
	req := &HTTPRequest{Method: r.str(), Route: r.str(), RemoteIP: r.str()}
	if n, null := r.count(); !null && r.err == nil {
		req.Params = make(map[string]string, n)
		for range n {
			k := r.str()
			req.Params[k] = r.str()
		}
	}
	req.Query = readListMap[map[string][]string](r)
	req.Header = readListMap[Header](r)
	req.Body = r.body()
	switch r.u32() {
	case 0:
	case 1:
		req.Principal = &Principal{Subject: r.str(), Kind: r.str(), Roles: r.list(), Scopes: r.list()}
	default:
		if r.err == nil {
			r.err = errors.New("binary HTTP message: principal flag is neither 0 nor 1")
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return req, nil
}

// DecodeHTTPResponse reads a response in the binary layout; nothing in it
// aliases b.
func DecodeHTTPResponse(b []byte) (*HTTPResponse, error) {
	r := newBinaryReader(b)
	resp := &HTTPResponse{Status: int(int32(r.u32()))}
	resp.Header = readListMap[Header](r)
	resp.Body = r.body()
	if err := r.done(); err != nil {
		return nil, err
	}
	return resp, nil
}
