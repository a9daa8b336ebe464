package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// addEntryChecks returns a copy of the module wasm with an empty loop,
// `loop end`, at the start of every function body.
//
// wazero v1.12 compiles a termination check into every loop header and
// nowhere else, so a guest without loops cannot be stopped: a function
// calling itself twice to depth 40 runs for days without a check, and a
// goroutine stuck in machine code also blocks every garbage collection,
// freezing the whole process. An empty loop costs nothing in the guest's
// semantics (no label outlives it, the stack is untouched), and wazero puts
// a check in its header, so every call now passes a check on entry. The
// price is one check, ~27 ns, per guest function call (docs/benchmarks.md),
// saved on functions that make no call (mayCall).
//
// Only the code section is rewritten, and the data section's segments
// merged (mergeDataSegments: a Go guest's 56,639 segments cost 1.4 MB in
// every instance), unless a data count section pins their number; only
// well-formed sections are accepted, and the compiler validates the result
// as it would the original.
//
// On the way it refuses two shapes that cost memory before wazero's own
// checks: a section whose entry count exceeds its byte length (every entry
// takes at least a byte, and wazero allocates the count up front: a
// 13-byte module made it allocate 5 GiB), and a function declaring more
// than maxLocals locals (wazero accepts up to 2^32).
func addEntryChecks(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary")
	}
	out := make([]byte, 0, len(wasm)+len(wasm)/16)
	out = append(out, wasm[:8]...)
	dataCount := false
	for rest := wasm[8:]; len(rest) > 0; {
		id := rest[0]
		size, n := uleb(rest[1:])
		if n == 0 || uint64(len(rest)-1-n) < size {
			return nil, fmt.Errorf("section %d: truncated", id)
		}
		content := rest[1+n : 1+n+int(size)]
		rest = rest[1+n+int(size):]
		if err := checkCount(id, content); err != nil {
			return nil, err
		}
		switch id {
		case dataCountSectionID:
			dataCount = true
		case dataSectionID:
			if !dataCount {
				content = mergeDataSegments(content)
			}
		case codeSectionID:
			var err error
			if content, err = checkBodies(content); err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
		}
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(content)))
		out = append(out, content...)
	}
	return out, nil
}

// codeSectionID is the code section's id in the binary format.
const codeSectionID = 10

// maxLocals bounds the locals of one function, as V8 does.
const maxLocals = 50_000

// checkCount refuses a vector section (type, import, function, table,
// memory, global, export, element, code, data) that declares more entries
// than it has bytes, and a data count beyond any real module.
func checkCount(id byte, content []byte) error {
	if id == 0 || id == 8 || id > 12 {
		return nil // custom, start, or unknown: wazero's to judge
	}
	count, n := uleb(content)
	switch {
	case n == 0:
		return fmt.Errorf("section %d: bad entry count", id)
	case id == 12 && count > 1<<20, id != 12 && count > uint64(len(content)-n):
		return fmt.Errorf("section %d declares %d entries in %d bytes", id, count, len(content))
	}
	return nil
}

// emptyLoop is `loop (empty block type) end`.
var emptyLoop = []byte{0x03, 0x40, 0x0b}

// checkBodies rewrites the function bodies of a code section.
func checkBodies(sec []byte) ([]byte, error) {
	count, n := uleb(sec)
	if n == 0 || count > uint64(len(sec)) {
		return nil, errors.New("bad function count")
	}
	out := binary.AppendUvarint(make([]byte, 0, len(sec)+int(count)*4), count)
	rest := sec[n:]
	for i := range count {
		size, n := uleb(rest)
		if n == 0 || uint64(len(rest)-n) < size {
			return nil, fmt.Errorf("function %d: truncated body", i)
		}
		body := rest[n : n+int(size)]
		rest = rest[n+int(size):]
		locals, err := localsLen(body)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		if !mayCall(body[locals:]) {
			out = binary.AppendUvarint(out, size)
			out = append(out, body...)
			continue
		}
		out = binary.AppendUvarint(out, uint64(len(body)+len(emptyLoop)))
		out = append(out, body[:locals]...)
		out = append(out, emptyLoop...)
		out = append(out, body[locals:]...)
	}
	if len(rest) != 0 {
		return nil, errors.New("bytes after the last function")
	}
	return out, nil
}

// mayCall reports whether code could hold a call instruction: call,
// call_indirect, return_call, return_call_indirect, call_ref or
// return_call_ref (0x10–0x15). It looks
// at bytes, not decoded instructions, so an immediate that happens to hold
// one of those bytes counts too; that only adds a check. A function with no
// call runs in time bounded by its size, apart from its loops, which carry
// their own checks, so it needs none at entry.
func mayCall(code []byte) bool {
	for _, b := range code {
		if b >= 0x10 && b <= 0x15 {
			return true
		}
	}
	return false
}

// localsLen is the length of a body's local declarations: a count, then
// (number, value type) pairs. A value type is one byte, or a reference type
// prefix (0x63, 0x64) followed by a heap type.
func localsLen(body []byte) (int, error) {
	groups, p := uleb(body)
	if p == 0 || groups > uint64(len(body)) {
		return 0, errors.New("bad local declarations")
	}
	var total uint64
	for range groups {
		count, n := uleb(body[p:])
		if n == 0 || p+n >= len(body) {
			return 0, errors.New("truncated local declarations")
		}
		if total += count; total > maxLocals {
			return 0, fmt.Errorf("more than %d locals", maxLocals)
		}
		p += n
		t := body[p]
		p++
		if t == 0x63 || t == 0x64 {
			_, n := uleb(body[p:]) // the heap type, a signed LEB128 of the same shape
			if n == 0 {
				return 0, errors.New("truncated reference type")
			}
			p += n
		}
	}
	if p > len(body) {
		return 0, errors.New("truncated local declarations")
	}
	return p, nil
}

// uleb decodes an unsigned LEB128 of at most 32 bits, the binary format's
// sizes and counts; n is 0 when b does not start with one.
func uleb(b []byte) (v uint64, n int) {
	v, n = binary.Uvarint(b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		return 0, 0
	}
	return v, n
}
