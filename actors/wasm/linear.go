package wasm

import (
	"math"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// A guest's linear memory lives in its own anonymous mapping, outside the
// Go heap, and is unmapped when its instance closes.
//
// wazero's default keeps it on the Go heap and grows it with append: every
// memory.grow past the capacity copies the memory into a new slice. A
// guest that grows to a 32 MiB cap a page at a time allocates 187 MiB on
// the way, and a failed instance's memory is garbage that only the next GC
// reclaims. After 21 such instances failed in a row, the Go heap held
// 130–137 MiB more than before, and an idle process kept its RSS that much
// higher for two minutes, until the runtime's forced GC let the scavenger
// return it (docs/benchmarks.md, "Failed restarts").
//
// A mapping reserves the memory's maximum up front, without access (no
// RSS, no commit charge), and makes pages readable and writable as the
// guest grows: growth never copies, the memory never moves, and closing
// the instance returns it to the OS at once.
//
// Free, which wazero calls when it closes the module, can still run while
// the guest executes on another goroutine, though the runtime avoids it
// (direct.go): when Runtime.Close's context ends before a stopped guest
// returns. So Free only drops the pages (a guest that reads
// on until its next termination check sees zeros); the mapping is removed
// by release, which the instance calls once no call can be running in it.
type linearMemory struct {
	mu        sync.Mutex
	mapping   []byte // the reservation; nil once released
	committed int    // bytes from the start that are readable and writable
}

// linearAllocator returns the allocator of one instance's memory, which
// stores what it makes in *dst for the instance to release.
func linearAllocator(dst **linearMemory) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capBytes, maxBytes uint64) experimental.LinearMemory {
		if maxBytes > 0 && maxBytes <= math.MaxInt {
			if mapping, err := reserve(int(maxBytes)); err == nil {
				m := &linearMemory{mapping: mapping}
				*dst = m
				return m
			}
		}
		// No mapping (an OS without mmap, an address-space limit):
		// wazero's own scheme.
		return &heapMemory{buf: make([]byte, 0, capBytes), max: maxBytes}
	})
}

// Reallocate implements experimental.LinearMemory: it makes the first size
// bytes accessible and returns them. nil (past the maximum, or the OS
// refused) makes memory.grow fail.
func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mapping == nil || size > uint64(len(m.mapping)) {
		return nil
	}
	if n := int(size); n > m.committed {
		if commit(m.mapping[m.committed:n]) != nil {
			return nil
		}
		m.committed = n
	}
	return m.mapping[:size:size]
}

// Free implements experimental.LinearMemory: it returns the pages to the
// OS, leaving the mapping in place for a guest still running.
func (m *linearMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mapping != nil && m.committed > 0 {
		decommit(m.mapping[:m.committed])
	}
}

// release removes the mapping. The caller guarantees that nothing will
// touch the memory again: no call is running in the instance and its
// module is closed. It is idempotent.
func (m *linearMemory) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mapping != nil {
		unmap(m.mapping)
		m.mapping, m.committed = nil, 0
	}
}

// heapMemory is wazero's default linear memory, a Go slice grown by
// append, for when no mapping can be made.
type heapMemory struct {
	buf []byte
	max uint64
}

// Reallocate implements experimental.LinearMemory.
func (h *heapMemory) Reallocate(size uint64) []byte {
	if size > h.max {
		return nil
	}
	if c := uint64(cap(h.buf)); size > c {
		h.buf = append(h.buf[:c], make([]byte, size-c)...)
	}
	h.buf = h.buf[:size]
	return h.buf
}

// Free implements experimental.LinearMemory: the GC reclaims the slice.
func (h *heapMemory) Free() {}
