package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/tetratelabs/wazero"
)

// moduleWithData is a module exporting one page of memory, initialised by
// a data section holding sec.
func moduleWithData(sec []byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, content []byte) {
		m = append(m, id)
		m = binary.AppendUvarint(m, uint64(len(content)))
		m = append(m, content...)
	}
	section(5, []byte{1, 0, 1}) // one memory, min 1 page
	section(7, append(append([]byte{1, 6}, "memory"...), 2, 0))
	section(dataSectionID, sec)
	return m
}

// memoryAfterInstantiation instantiates wasm and returns its memory's
// first 64 KiB.
func memoryAfterInstantiation(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatalf("instantiating: %v", err)
	}
	mem, ok := mod.Memory().Read(0, 1<<16)
	if !ok {
		t.Fatal("reading memory")
	}
	return bytes.Clone(mem)
}

func segmentCount(t *testing.T, sec []byte) int {
	t.Helper()
	segs, ok := parseDataSegments(sec)
	if !ok {
		t.Fatalf("not a plain data section: % x", sec)
	}
	return len(segs)
}

// dataSectionOf returns the data section of module wasm.
func dataSectionOf(t *testing.T, wasm []byte) []byte {
	t.Helper()
	for rest := wasm[8:]; len(rest) > 0; {
		size, n := uleb(rest[1:])
		content := rest[1+n : 1+n+int(size)]
		if rest[0] == dataSectionID {
			return content
		}
		rest = rest[1+n+int(size):]
	}
	t.Fatal("no data section")
	return nil
}

// TestEntryChecksMergeGoStyleDataSegments: a data section shaped like Go's
// linker writes it — many short segments a few zero bytes apart, not in
// memory order — becomes few segments, and the memory an instance starts
// with is byte for byte the same.
func TestEntryChecksMergeGoStyleDataSegments(t *testing.T) {
	var segs []dataSegment
	for i := range 1000 {
		segs = append(segs, dataSegment{off: uint64(8192 + i*24), data: []byte{byte(i), 1, 2, byte(i >> 8)}})
	}
	// A second run below the first, written after it, as Go writes
	// rodata and data; and one segment far beyond the gap limit.
	for i := range 100 {
		segs = append(segs, dataSegment{off: uint64(1024 + i*40), data: []byte("troupe")})
	}
	segs = append(segs, dataSegment{off: 60000, data: []byte("far")})
	orig := moduleWithData(appendDataSegments(nil, segs))

	rewritten, err := addEntryChecks(orig)
	if err != nil {
		t.Fatal(err)
	}
	if got := segmentCount(t, dataSectionOf(t, rewritten)); got != 3 {
		t.Errorf("rewritten module has %d data segments, want 3 (one per run, one far)", got)
	}
	if !bytes.Equal(memoryAfterInstantiation(t, orig), memoryAfterInstantiation(t, rewritten)) {
		t.Error("instances of the rewritten module start with different memory")
	}
}

// TestMergeDataSegmentsLeavesOtherShapes: sections whose meaning depends on
// more than bytes and offsets are passed through untouched.
func TestMergeDataSegmentsLeavesOtherShapes(t *testing.T) {
	overlapping := appendDataSegments(nil, []dataSegment{{off: 0, data: []byte("abcd")}, {off: 2, data: []byte("XY")}})
	passive := []byte{2, 1, 2, 'a', 'b', 0, 0x41, 4, 0x0b, 1, 'c'}
	apart := appendDataSegments(nil, []dataSegment{{off: 0, data: []byte("a")}, {off: 1 + maxMergeGap + 1, data: []byte("b")}})
	trailing := append(appendDataSegments(nil, []dataSegment{{off: 0, data: []byte("a")}, {off: 2, data: []byte("b")}}), 0)
	for name, sec := range map[string][]byte{"overlapping": overlapping, "passive": passive, "apart": apart, "trailing bytes": trailing} {
		if got := mergeDataSegments(sec); !bytes.Equal(got, sec) {
			t.Errorf("%s: rewritten to % x", name, got)
		}
	}
	joined := mergeDataSegments(appendDataSegments(nil, []dataSegment{{off: 0, data: []byte("a")}, {off: 1 + maxMergeGap, data: []byte("b")}}))
	want := appendDataSegments(nil, []dataSegment{{off: 0, data: append(append([]byte("a"), make([]byte, maxMergeGap)...), 'b')}})
	if !bytes.Equal(joined, want) {
		t.Errorf("segments %d bytes apart: % x, want % x", maxMergeGap, joined, want)
	}
}

func TestSlebRoundTrip(t *testing.T) {
	for _, v := range []int32{0, 1, 63, 64, 127, 128, 8192, 1<<31 - 1, -1, -64, -65, -1 << 31} {
		b := appendSleb(nil, int64(v))
		got, n := sleb32(b)
		if n != len(b) || got != v {
			t.Errorf("sleb %d: encoded % x, decoded %d (%d bytes)", v, b, got, n)
		}
	}
}
