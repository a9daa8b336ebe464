package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// evict drops path's pages from the page cache, so the next start reads
// the binary from disk as a deployed service's first start does. Without
// it the binary's resident text and rodata depend on how its pages got
// into the cache: the same bytes, written by the linker, by cp, or read
// back by an earlier start, map as 25.6 or 35.3 MiB of RssFile (the
// kernel maps whole cached folios around each fault, and their sizes
// depend on how they were filled).
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil { // dirty pages cannot be dropped
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
