package actors

import (
	"testing"
	"unsafe"
)

// TestProcessLayout pins the field order that keeps the sender's writes and
// the drain goroutine's per-message reads on different cache lines (see
// process). A process is 448 bytes at most, the 7×64-byte size class, so
// every process starts on a line and the offsets below are lines too.
func TestProcessLayout(t *testing.T) {
	var p process
	const line = 64
	if size := unsafe.Sizeof(p); size > 448 {
		t.Fatalf("process is %d bytes; past 448 its size class no longer starts processes on a cache line", size)
	}
	mb := unsafe.Offsetof(p.mb)
	written := [2]uintptr{mb + unsafe.Offsetof(p.mb.mu), mb + unsafe.Offsetof(p.mb.notFull) + unsafe.Sizeof(p.mb.notFull)}
	read := map[string][2]uintptr{
		"sys":          {unsafe.Offsetof(p.sys), unsafe.Offsetof(p.sys) + unsafe.Sizeof(p.sys)},
		"stopReq":      {unsafe.Offsetof(p.stopReq), unsafe.Offsetof(p.stopReq) + unsafe.Sizeof(p.stopReq)},
		"drain":        {unsafe.Offsetof(p.drain), unsafe.Offsetof(p.drain) + unsafe.Sizeof(p.drain)},
		"mb.interrupt": {mb + unsafe.Offsetof(p.mb.interrupt), mb + unsafe.Offsetof(p.mb.interrupt) + unsafe.Sizeof(p.mb.interrupt)},
	}
	for name, r := range read {
		// Lines [first, last] of each range overlap when neither ends
		// before the other begins.
		if r[0]/line <= (written[1]-1)/line && written[0]/line <= (r[1]-1)/line {
			t.Errorf("%s (bytes %d–%d) shares a cache line with the mailbox's lock and queue (bytes %d–%d)",
				name, r[0], r[1], written[0], written[1])
		}
	}
}
