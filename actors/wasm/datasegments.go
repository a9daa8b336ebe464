package wasm

import (
	"encoding/binary"
	"slices"
)

// dataSectionID and dataCountSectionID are the data and data count
// sections' ids in the binary format.
const (
	dataSectionID      = 11
	dataCountSectionID = 12
)

// maxMergeGap is the widest run of zeros mergeDataSegments writes between
// two segments to make them one.
//
// Go's wasm linker starts a new data segment after every run of more than
// a few zero bytes: the showcase's summarizer, 1.5 MB of data, has 56,639
// segments. wazero keeps a 24-byte slice header per segment in every
// instance (1.4 MB each) and a decoded segment per segment in the compiled
// module (2.7 MB), for a guest's whole life. Bridging gaps of up to 64
// zero bytes leaves 82 segments and adds 1.0 MB of zeros to the module's
// data once; gaps of up to 16 bytes would still leave 53,117.
const maxMergeGap = 64

// dataSegment is an active segment of memory 0 at a constant offset.
type dataSegment struct {
	off  uint64
	data []byte
}

func (s dataSegment) end() uint64 { return s.off + uint64(len(s.data)) }

// mergeDataSegments returns the data section sec with each segment that is
// followed in memory, within maxMergeGap bytes, by the next segment of the
// section joined to it, the gap filled with zeros. A fresh memory is all
// zeros and no other segment writes in the gap, so instances start with
// the same bytes. A section in any other shape — passive segments, another
// memory, an offset that is not an i32.const, overlapping segments, bytes
// left over — is returned as it is, for wazero to judge.
func mergeDataSegments(sec []byte) []byte {
	segs, ok := parseDataSegments(sec)
	if !ok || len(segs) < 2 {
		return sec
	}
	byOffset := make([]int, len(segs))
	for i := range byOffset {
		byOffset[i] = i
	}
	slices.SortStableFunc(byOffset, func(a, b int) int { return compareOffsets(segs[a].off, segs[b].off) })
	// successor[i] is the segment that follows segment i in memory.
	successor := make([]int, len(segs))
	for k, i := range byOffset {
		successor[i] = -1
		if k+1 < len(byOffset) {
			next := byOffset[k+1]
			if segs[i].end() > segs[next].off {
				return sec // overlapping: the order of writes matters
			}
			successor[i] = next
		}
	}
	merged := make([]dataSegment, 0, len(segs))
	for i := 0; i < len(segs); {
		run := dataSegment{off: segs[i].off, data: segs[i].data}
		j := i + 1
		for ; j < len(segs) && successor[j-1] == j && segs[j].off-segs[j-1].end() <= maxMergeGap; j++ {
			if j == i+1 {
				run.data = slices.Clip(run.data)
			}
			run.data = append(run.data, make([]byte, segs[j].off-segs[j-1].end())...)
			run.data = append(run.data, segs[j].data...)
		}
		merged = append(merged, run)
		i = j
	}
	if len(merged) == len(segs) {
		return sec
	}
	return appendDataSegments(nil, merged)
}

func compareOffsets(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseDataSegments reads a data section made only of active segments of
// memory 0 at i32.const offsets; ok is false for any other section.
func parseDataSegments(sec []byte) (segs []dataSegment, ok bool) {
	count, n := uleb(sec)
	if n == 0 || count > uint64(len(sec)) {
		return nil, false
	}
	rest := sec[n:]
	segs = make([]dataSegment, 0, count)
	for range count {
		// flags 0 (active, memory 0), i32.const <sleb>, end, vec(byte)
		if len(rest) < 2 || rest[0] != 0 || rest[1] != 0x41 {
			return nil, false
		}
		off, n := sleb32(rest[2:])
		if n == 0 || off < 0 || len(rest) < 3+n || rest[2+n] != 0x0b {
			return nil, false
		}
		rest = rest[3+n:]
		size, n := uleb(rest)
		if n == 0 || uint64(len(rest)-n) < size {
			return nil, false
		}
		segs = append(segs, dataSegment{off: uint64(off), data: rest[n : n+int(size)]})
		rest = rest[n+int(size):]
	}
	return segs, len(rest) == 0
}

// appendDataSegments appends the data section holding segs to b.
func appendDataSegments(b []byte, segs []dataSegment) []byte {
	b = binary.AppendUvarint(b, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = appendSleb(b, int64(s.off))
		b = append(b, 0x0b)
		b = binary.AppendUvarint(b, uint64(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

// sleb32 decodes a signed LEB128 i32; n is 0 when b holds none.
func sleb32(b []byte) (v int32, n int) {
	var shift uint
	var r int64
	for i, c := range b {
		if i == 5 {
			return 0, 0
		}
		r |= int64(c&0x7f) << shift
		shift += 7
		if c < 0x80 {
			if shift < 64 && c&0x40 != 0 {
				r |= -1 << shift
			}
			if r < -1<<31 || r > 1<<31-1 {
				return 0, 0
			}
			return int32(r), i + 1
		}
	}
	return 0, 0
}

// appendSleb appends v as signed LEB128.
func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
