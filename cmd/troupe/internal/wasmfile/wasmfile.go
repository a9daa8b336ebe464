// Package wasmfile reads what `troupe component inspect` shows of a
// WebAssembly module — its imports, exports, memories, function signatures
// and custom sections — from the binary format, without compiling it.
//
// The input is untrusted: a component downloaded from anywhere. So the
// reader never allocates by a count the file declares (a vector grows only
// as its entries are actually read, and a count beyond the bytes left is an
// error at once), bounds every length by the bytes that remain, and returns
// an error naming the section and offset for any malformed or truncated
// input; it never panics (FuzzParse). Compiling the module would validate
// more, but wazero allocates by declared counts before checking them (a
// 13-byte module made it allocate 5 GiB; actors/wasm/entrycheck.go), which
// an inspector of unknown files must not risk.
package wasmfile

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is an import's or export's kind.
type Kind byte

// The external kinds of the binary format.
const (
	Func   Kind = 0
	Table  Kind = 1
	Memory Kind = 2
	Global Kind = 3
	Tag    Kind = 4
)

// String names the kind as the text format does: "func", "memory", ...
func (k Kind) String() string {
	switch k {
	case Func:
		return "func"
	case Table:
		return "table"
	case Memory:
		return "memory"
	case Global:
		return "global"
	case Tag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Limits are a memory's or table's size bounds; a memory's are in 64 KiB
// pages.
type Limits struct {
	Min    uint64
	Max    uint64 // valid when HasMax
	HasMax bool
	Shared bool
	Is64   bool // memory64
}

// Signature is a function type; its String is "(i32 i32) -> i64".
type Signature struct {
	Params, Results []string
}

// String writes the signature as "(i32 i32) -> i64"; more or fewer than one
// result are parenthesised.
func (s Signature) String() string {
	res := strings.Join(s.Results, " ")
	if len(s.Results) != 1 {
		res = "(" + res + ")"
	}
	return "(" + strings.Join(s.Params, " ") + ") -> " + res
}

// Import is one import.
type Import struct {
	Module, Name string
	Kind         Kind
	Type         *Signature // a function's, when the type section could be read
	Limits       *Limits    // a memory's or table's
}

// Export is one export.
type Export struct {
	Name  string
	Kind  Kind
	Index uint32
	Type  *Signature // a function's, when known
}

// Module is what Parse reads of a module.
type Module struct {
	Imports  []Import
	Exports  []Export
	Memories []Limits // defined (not imported) memories
	Custom   []string // custom section names, in order
	// Functions is the number of functions the module defines.
	Functions int
}

// PageSize is the size of a WebAssembly memory page.
const PageSize = 64 << 10

// section ids of the binary format.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secMemory   = 5
	secExport   = 7
)

// ErrNotWasm is returned for input that does not start with the
// WebAssembly magic number.
var ErrNotWasm = errors.New("not a WebAssembly module (no \\0asm magic number)")

// Parse reads a module. Sections it does not need are skipped by their
// size, so it accepts modules using proposals it does not know, as long as
// the sections it reads are well formed.
func Parse(b []byte) (*Module, error) {
	if len(b) < 4 || string(b[:4]) != "\x00asm" {
		return nil, ErrNotWasm
	}
	if len(b) < 8 {
		return nil, errors.New("truncated: the module ends inside its header")
	}
	if v := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24; v != 1 {
		return nil, fmt.Errorf("binary format version %d; only version 1 (core modules) is supported, not components", v)
	}
	m := &Module{}
	var types []Signature
	typesOK := true
	var funcTypes []uint32 // type index of every function, imports first
	r := &reader{b: b, off: 8}
	for !r.done() {
		start := r.off
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("section header at offset %d: %w", start, r.err)
		}
		s := &reader{b: body, base: r.off - len(body)}
		switch id {
		case secCustom:
			m.Custom = append(m.Custom, s.name())
		case secType:
			types, typesOK = readTypes(s)
		case secImport:
			readImports(s, m, &funcTypes)
		case secFunction:
			s.vec(func() {
				funcTypes = append(funcTypes, s.u32())
				m.Functions++
			})
		case secMemory:
			s.vec(func() { m.Memories = append(m.Memories, s.limits()) })
		case secExport:
			s.vec(func() {
				e := Export{Name: s.name(), Kind: Kind(s.byte()), Index: s.u32()}
				m.Exports = append(m.Exports, e)
			})
		}
		if s.err != nil {
			return nil, fmt.Errorf("section %d at offset %d: %w", id, start, s.err)
		}
		if id != secCustom && id != secType && !s.done() && s.consumed {
			return nil, fmt.Errorf("section %d at offset %d: %d bytes left over", id, start, len(s.b)-s.off)
		}
	}
	if typesOK {
		attachTypes(m, types, funcTypes)
	}
	return m, nil
}

// readImports reads the import section, recording the type index of each
// imported function.
func readImports(s *reader, m *Module, funcTypes *[]uint32) {
	s.vec(func() {
		imp := Import{Module: s.name(), Name: s.name(), Kind: Kind(s.byte())}
		switch imp.Kind {
		case Func:
			*funcTypes = append(*funcTypes, s.u32())
		case Table:
			s.byte() // the reference type
			l := s.limits()
			imp.Limits = &l
		case Memory:
			l := s.limits()
			imp.Limits = &l
		case Global:
			s.byte() // value type
			s.byte() // mutability
		case Tag:
			s.byte() // attribute
			s.u32()  // type index
		default:
			s.fail(fmt.Errorf("import %q.%q has an unknown kind %d", imp.Module, imp.Name, imp.Kind))
		}
		m.Imports = append(m.Imports, imp)
	})
}

// readTypes reads the type section's function types. A type form other
// than a plain function type (the GC proposal's) makes the signatures
// unknown rather than the module unreadable: they are only shown.
func readTypes(s *reader) ([]Signature, bool) {
	var types []Signature
	ok := true
	s.vec(func() {
		if !ok {
			return
		}
		if s.byte() != 0x60 {
			ok = false
			s.off = len(s.b) // stop reading: the rest has another grammar
			return
		}
		var sig Signature
		s.vec(func() { sig.Params = append(sig.Params, valType(s.byte())) })
		s.vec(func() { sig.Results = append(sig.Results, valType(s.byte())) })
		types = append(types, sig)
	})
	return types, ok && s.err == nil
}

// attachTypes gives imported and exported functions their signatures.
func attachTypes(m *Module, types []Signature, funcTypes []uint32) {
	sig := func(typeIndex uint32) *Signature {
		if int(typeIndex) < len(types) {
			return &types[typeIndex]
		}
		return nil
	}
	f := 0
	for i := range m.Imports {
		if m.Imports[i].Kind == Func && f < len(funcTypes) {
			m.Imports[i].Type = sig(funcTypes[f])
			f++
		}
	}
	for i, e := range m.Exports {
		if e.Kind == Func && int(e.Index) < len(funcTypes) {
			m.Exports[i].Type = sig(funcTypes[e.Index])
		}
	}
}

func valType(b byte) string {
	switch b {
	case 0x7f:
		return "i32"
	case 0x7e:
		return "i64"
	case 0x7d:
		return "f32"
	case 0x7c:
		return "f64"
	case 0x7b:
		return "v128"
	case 0x70:
		return "funcref"
	case 0x6f:
		return "externref"
	}
	return fmt.Sprintf("0x%02x", b)
}

// reader decodes one byte slice; the first error sticks and every later
// read returns zero values, so callers check err once.
type reader struct {
	b        []byte
	off      int
	base     int // offset of b in the file, for messages
	err      error
	consumed bool // a vector was read, so leftover bytes are an error
}

func (r *reader) done() bool { return r.err != nil || r.off >= len(r.b) }

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: %w", r.base+r.off, err)
	}
}

var errTruncated = errors.New("truncated: the section ends early")

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(errTruncated)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift >= bits || (shift+7 > bits && c&0x7f>>(bits-shift) != 0) {
			r.fail(fmt.Errorf("integer overflows %d bits", bits))
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// bytes returns the next n bytes, or fails if fewer remain.
func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail(errTruncated)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

// name reads a length-prefixed UTF-8 name.
func (r *reader) name() string {
	p := r.bytes(int(r.u32()))
	if r.err == nil && !utf8.Valid(p) {
		r.fail(errors.New("a name is not valid UTF-8"))
		return ""
	}
	return string(p)
}

// vec reads a vector: a count, then each entry with read. A count larger
// than the bytes left cannot be honest (every entry takes at least one
// byte), so it fails before any entry is read.
func (r *reader) vec(read func()) {
	n := r.u32()
	if r.err != nil {
		return
	}
	if int64(n) > int64(len(r.b)-r.off) {
		r.fail(fmt.Errorf("a vector declares %d entries in %d bytes", n, len(r.b)-r.off))
		return
	}
	r.consumed = true
	for i := uint32(0); i < n && r.err == nil; i++ {
		read()
	}
}

// limits reads memory or table limits, including the threads (shared)
// and memory64 flags.
func (r *reader) limits() Limits {
	flags := r.byte()
	if flags > 0x07 {
		r.fail(fmt.Errorf("unknown limits flags 0x%02x", flags))
		return Limits{}
	}
	l := Limits{HasMax: flags&1 != 0, Shared: flags&2 != 0, Is64: flags&4 != 0}
	bits := uint(32)
	if l.Is64 {
		bits = 64
	}
	l.Min = r.uleb(bits)
	if l.HasMax {
		l.Max = r.uleb(bits)
		if r.err == nil && l.Max < l.Min {
			r.fail(fmt.Errorf("limits: maximum %d below minimum %d", l.Max, l.Min))
		}
	}
	return l
}
