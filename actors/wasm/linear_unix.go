//go:build unix

package wasm

import "golang.org/x/sys/unix"

// reserve maps n bytes of address space with no access.
func reserve(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
}

// commit makes b readable and writable; its pages are zero until written.
func commit(b []byte) error {
	return unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE)
}

// decommit returns b's pages to the OS; b stays accessible, reading zeros.
func decommit(b []byte) {
	_ = unix.Madvise(b, unix.MADV_DONTNEED)
}

// unmap removes a mapping made by reserve.
func unmap(b []byte) {
	_ = unix.Munmap(b)
}
